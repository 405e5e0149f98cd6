import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { DEFAULT_RANGES, DomainRandomizer } from '../../src/sim/randomization.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { compileScene } from '../../src/sim/scenes/scene.ts';

describe('domain randomization', async () => {
  const mj = await loadMujoco();
  const model = compileScene(mj, pickPlaceScene(loadEmbodiment('arm7')));
  after(() => model.delete());
  const ranges = { ...DEFAULT_RANGES, objectPose: { joints: ['cube'], xyM: 0.03, yawRad: 0.5 } };
  const dr = new DomainRandomizer(mj, model, ranges);
  const snapshot = () =>
    [model.geom_friction, model.body_mass, model.body_inertia, model.dof_damping]
      .concat([model.actuator_gainprm, model.actuator_biasprm, model.qpos0])
      .map((a) => Array.from(a as Float64Array));
  const nominal = snapshot();

  test('schedule 0 is nominal exactly', () => {
    const s = dr.apply(seededRng(1), 0);
    assert.equal(s.frictionScale, 1);
    assert.equal(s.sensorNoiseStd, 0);
    assert.deepEqual(snapshot(), nominal);
  });

  test('schedule 1 changes parameters within ranges; kp and bias stay matched', () => {
    for (let seed = 0; seed < 20; seed++) {
      const s = dr.apply(seededRng(seed), 1);
      assert.ok(s.frictionScale >= 0.5 && s.frictionScale <= 1.5);
      assert.ok(s.massScale >= 0.8 && s.massScale <= 1.2);
      assert.ok(s.controlLatencySec >= 0 && s.controlLatencySec <= 0.02);
      const g = model.actuator_gainprm as Float64Array;
      const b = model.actuator_biasprm as Float64Array;
      assert.ok(Math.abs(g[0]! / nominal[4]![0]! - s.kpScale) < 1e-12);
      assert.equal(b[1], -g[0]!);
      const [dx] = s.objectPose.cube!;
      assert.ok(Math.abs(dx) <= 0.03);
    }
    assert.notDeepEqual(snapshot(), nominal);
  });

  test('schedule 0.5 halves the spread', () => {
    for (let seed = 0; seed < 20; seed++) {
      const s = dr.apply(seededRng(seed), 0.5);
      assert.ok(s.frictionScale >= 0.75 && s.frictionScale <= 1.25);
    }
  });

  test('same seed, same domain; revert restores exactly', () => {
    assert.deepEqual(dr.apply(seededRng(9), 1), dr.apply(seededRng(9), 1));
    dr.revert();
    assert.deepEqual(snapshot(), nominal);
  });
});
