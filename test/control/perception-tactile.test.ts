/**
 * Tactile features: the extractor on synthetic grids (force curve, centroid, slip rate, dropouts), and
 * the arm7 pad calibration re-measured in MuJoCo against the gripper actuator's force.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ARM7_PAD_CALIBRATION,
  ArmPerception,
  emptyTactileFeatures,
  TactileFeatureExtractor,
} from '../../src/control/perception/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { SensorPipeline } from '../../src/sim/sensors/index.ts';
import { ARM7, pickPlaceCameraScene } from './fixtures/arm-rig.ts';

/** A 4 x 4 grid with `depth` on the given rows (row-major). */
function grid(rows: number[], depth: number): Float64Array {
  const g = new Float64Array(16);
  for (const r of rows) for (let c = 0; c < 4; c++) g[4 * r + c] = depth;
  return g;
}

describe('tactile features', () => {
  test('force from the calibration curve, centroid from the taxels in contact', () => {
    const x = new TactileFeatureExtractor({ rows: 4, cols: 4 });
    const f = emptyTactileFeatures();
    x.update(grid([0, 1], 1.215e-4), true, 0, f);
    assert.equal(f.contact, true);
    assert.ok(Math.abs(f.forceN - 2.7) < 1e-9, `${f.forceN}`);
    assert.ok(Math.abs(f.centroid[0]! - 0.25) < 1e-12 && Math.abs(f.centroid[1]! - 0.5) < 1e-12);
    // The force depends on the depth, not on how many taxels touch (MuJoCo's soft contact).
    x.update(grid([0, 1, 2], 1.215e-4), true, 0, f);
    assert.ok(Math.abs(f.forceN - 2.7) < 1e-9);
    assert.ok(Math.abs(f.centroid[0]! - 0.375) < 1e-12);
    // Between table points: linear; beyond the last: extended linearly.
    assert.ok(Math.abs(x.forceAt((3.536e-5 + 7.037e-5) / 2) - (0.77 + 1.54) / 2) < 1e-9);
    const d = ARM7_PAD_CALIBRATION.depthM;
    const fN = ARM7_PAD_CALIBRATION.forceN;
    const slope = (fN[8]! - fN[7]!) / (d[8]! - d[7]!);
    assert.ok(Math.abs(x.forceAt(6e-4) - (fN[8]! + slope * (6e-4 - d[8]!))) < 1e-9);
    x.update(new Float64Array(16), true, 0.01, f);
    assert.equal(f.contact, false);
    assert.equal(f.forceN, 0);
    assert.equal(f.slipRate, 0);
  });

  test('slip rate: the contact patch moving over the pad, not touching down or holding still', () => {
    const x = new TactileFeatureExtractor({ rows: 4, cols: 4, slipFilterSec: 0.02 });
    const f = emptyTactileFeatures();
    // Touch-down: no slip.
    x.update(grid([2, 3], 2e-4), true, 0, f);
    assert.equal(f.slipRate, 0);
    for (let k = 1; k <= 50; k++) x.update(grid([2, 3], 2e-4), true, 0.004 * k, f);
    assert.equal(f.slipRate, 0, 'a steady grasp does not slip');
    // The object slides one row toward the fingertip, then another.
    x.update(grid([1, 2], 2e-4), true, 0.204, f);
    const first = f.slipRate;
    assert.ok(first > 1, `slip rate ${first} grid units/s after the patch moved a row in 4 ms`);
    x.update(grid([0, 1], 2e-4), true, 0.208, f);
    assert.ok(f.slipRate > first, 'keeps rising while it keeps moving');
    for (let k = 1; k <= 50; k++) x.update(grid([0, 1], 2e-4), true, 0.208 + 0.004 * k, f);
    assert.ok(f.slipRate < 0.01, `decays once it stops (${f.slipRate})`);
    // A repeated stamp (the same published sample) changes nothing.
    const before = f.slipRate;
    x.update(grid([2, 3], 2e-4), true, 0.408, f);
    assert.equal(f.slipRate, before);
  });

  test('dropped samples leave the features as they were', () => {
    const x = new TactileFeatureExtractor({ rows: 4, cols: 4 });
    const f = emptyTactileFeatures();
    x.update(grid([0, 1], 2.011e-4), true, 0, f);
    const g = grid([0, 1], Number.NaN);
    x.update(g, false, 0.004, f);
    assert.ok(Math.abs(f.forceN - 4.64) < 1e-9);
    x.update(g, true, 0.008, f); // flagged valid but NaN inside: still ignored
    assert.ok(Math.abs(f.forceN - 4.64) < 1e-9);
    assert.equal(f.contact, true);
  });

  test('updateFrom a channel gives what update gives; the force is forceAt of the mean contact depth', () => {
    const a = new TactileFeatureExtractor({ rows: 4, cols: 4 });
    const b = new TactileFeatureExtractor({ rows: 4, cols: 4 });
    const fa = emptyTactileFeatures();
    const fb = emptyTactileFeatures();
    const rng = seededRng(5);
    const channel = { values: new Float64Array(16), valid: true, stampSec: 0 };
    let contacts = 0;
    for (let k = 0; k < 400; k++) {
      for (let i = 0; i < 16; i++) channel.values[i] = rng.next() < 0.4 ? 6e-4 * rng.next() : 0;
      channel.valid = k % 37 !== 5;
      if (k % 53 === 7) channel.values[3] = Number.NaN;
      channel.stampSec = 0.004 * k;
      a.update(channel.values, channel.valid, channel.stampSec, fa);
      b.updateFrom(channel, fb);
      assert.deepEqual(fb, fa, `features at sample ${k}`);
      if (!fa.contact || !channel.valid || k % 53 === 7) continue;
      contacts++;
      let sum = 0;
      let n = 0;
      for (const d of channel.values) {
        if (!(d > 1e-5)) continue;
        sum += d;
        n++;
      }
      assert.equal(fa.forceN, a.forceAt(sum / n));
    }
    assert.ok(contacts > 300);
  });

  test('a bad calibration table is refused', () => {
    const bad = [
      { depthM: [0, 1e-4], forceN: [0] },
      { depthM: [1e-5, 1e-4], forceN: [0, 1] },
      { depthM: [0, 1e-4, 1e-4], forceN: [0, 1, 2] },
      { depthM: [0, 1e-4, 2e-4], forceN: [0, 2, 1] },
    ];
    for (const calibration of bad) {
      assert.throws(
        () => new TactileFeatureExtractor({ rows: 4, cols: 4, calibration }),
        (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
        JSON.stringify(calibration),
      );
    }
  });

  test('in MuJoCo, the pad force matches the gripper actuator squeezing a cube (the calibration holds)', async () => {
    const mj = await loadMujoco();
    const world = new SceneWorld(mj, pickPlaceCameraScene());
    const pipeline = SensorPipeline.create(mj, world.model, world.data, ARM7, { rng: seededRng(1) });
    const perception = new ArmPerception({ sensors: pipeline, stateDim: 8, kinematics: world });
    try {
      const pos = new Float64Array(3);
      const mat = new Float64Array(9);
      for (const command of [0.044, 0.04, 0.03, 0.02, 0.01, 0]) {
        world.resetData();
        const start = [...ARM7.home];
        start[7] = 0.047; // pads just clear of the 45 mm cube
        world.setArmState(start);
        world.forward();
        world.gripSite(pos, mat);
        world.setFreePose('cube', pos); // between the fingers, held up by friction once squeezed
        world.forward();
        world.ctrl[7] = command;
        world.step(500);
        pipeline.update(world.simTimeSec);
        perception.update(world.simTimeSec);
        const squeeze = -pipeline.channel('joint_torque').values[7]!;
        for (const pad of ['pad_left', 'pad_right']) {
          const f = perception.state.tactile.get(pad)!;
          assert.equal(f.contact, true, `${pad} at command ${command}`);
          assert.ok(
            Math.abs(f.forceN - squeeze) < 0.06 * squeeze + 0.05,
            `${pad}: ${f.forceN} N from the taxels, ${squeeze} N from the actuator (command ${command})`,
          );
        }
      }
    } finally {
      pipeline.dispose();
      world.dispose();
    }
  });
});
