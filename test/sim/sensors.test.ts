import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadEmbodiment, readMjcf } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { compileScene } from '../../src/sim/scenes/scene.ts';
import { GaussianSource, SensorPipeline } from '../../src/sim/sensors/index.ts';

describe('sensor pipeline (arm7 pick-place scene)', async () => {
  const mj = await loadMujoco();
  const arm = loadEmbodiment('arm7');
  const model = compileScene(mj, pickPlaceScene(arm));
  const data = new mj.MjData(model);
  after(() => {
    data.delete();
    model.delete();
  });
  const JOINT = mj.mjtObj.mjOBJ_JOINT.value;
  const qadr = (n: string) => (model.jnt_qposadr as Int32Array)[mj.mj_name2id(model, JOINT, n)]!;

  /** Arm at home, cube placed between the open fingers, gripper target `opening`. */
  function setup(opening: number, cubeBetweenFingers: boolean): void {
    mj.mj_resetData(model, data);
    const q = data.qpos as Float64Array;
    arm.jointNames.forEach((n, i) => {
      q[qadr(n)] = arm.home[i]!;
    });
    // With a cube, start with the pads touching it (45 mm cube, pads 1 mm proud of the fingers).
    const half = cubeBetweenFingers ? 0.0235 : 0.04;
    q[qadr('finger_left')] = half;
    q[qadr('finger_right')] = half;
    mj.mj_forward(model, data);
    const sid = mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, 'grip_site');
    const site = (data.site_xpos as Float64Array).slice(3 * sid, 3 * sid + 3);
    const c = qadr('cube');
    const qq = data.qpos as Float64Array;
    if (cubeBetweenFingers) {
      qq[c] = site[0]!;
      qq[c + 1] = site[1]!;
      qq[c + 2] = site[2]!;
    }
    const ctrl = data.ctrl as Float64Array;
    arm.home.forEach((v, i) => {
      ctrl[i] = v;
    });
    ctrl[7] = opening;
    mj.mj_forward(model, data);
  }

  test('tactile pads read contact when the gripper closes on the cube and zero in free air', () => {
    const p = SensorPipeline.create(mj, model, data, arm, { rng: seededRng(1) });
    setup(0.0, false);
    // Free air: close on nothing.
    for (let i = 0; i < 300; i++) mj.mj_step(model, data);
    p.update(data.time);
    const left = p.channel('tactile.pad_left');
    assert.deepEqual(left.shape, [4, 4]);
    assert.equal(Math.max(...left.values), 0);
    // Cube between the fingers: close on it (the cube floats at grip height, held by friction).
    setup(0.0, true);
    for (let i = 0; i < 300; i++) mj.mj_step(model, data);
    p.update(data.time);
    for (const pad of ['tactile.pad_left', 'tactile.pad_right']) {
      const v = p.channel(pad).values;
      const active = Array.from(v).filter((x) => x > 0).length;
      assert.ok(active >= 4, `${pad}: ${active} taxels in contact (${Array.from(v).join(' ')})`);
    }
    p.dispose();
  });

  test('wrist F/T reads the cube weight when it is held', () => {
    const p = SensorPipeline.create(mj, model, data, arm, { rng: seededRng(1) });
    const worldFz = (): number => {
      p.update(data.time);
      const w = p.channel('wrench.wrist_ft').values;
      const sid = mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, 'wrist_ft');
      const R = (data.site_xmat as Float64Array).slice(9 * sid, 9 * sid + 9);
      return R[6]! * w[0]! + R[7]! * w[1]! + R[8]! * w[2]!;
    };
    setup(0.0, false);
    for (let i = 0; i < 400; i++) mj.mj_step(model, data);
    const empty = worldFz();
    setup(0.0, true);
    for (let i = 0; i < 400; i++) mj.mj_step(model, data);
    const held = worldFz();
    const g = 9.81 * 0.1;
    assert.ok(Math.abs(held - empty - g) < 0.15 * g, `held ${held} N, empty ${empty} N, cube ${g} N`);
    p.dispose();
  });

  test('noise has the configured standard deviation and is reproducible from the seed', () => {
    setup(0.08, false);
    const run = (seed: number) => {
      const p = SensorPipeline.create(mj, model, data, arm, {
        rng: seededRng(seed),
        config: { joint_pos: { noiseStd: 0.01 } },
      });
      const truth = (data.qpos as Float64Array).slice(qadr('j1'), qadr('j1') + 1);
      const xs: number[] = [];
      for (let i = 0; i < 4000; i++) {
        p.update(i * 0.002);
        xs.push(p.channel('joint_pos').values[0]! - truth[0]!);
      }
      p.dispose();
      return xs;
    };
    const xs = run(5);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean) < 0.001, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.01) < 0.0007, `std ${std}`);
    assert.deepEqual(run(5), xs);
    assert.notDeepEqual(run(6), xs);
  });

  // SensorPipeline.reset resets its source; arm7's channels draw an even count per tick, so test the source.
  test('GaussianSource.reset drops the spare: the next normal comes from the stream', () => {
    let rng = seededRng(3);
    const g = new GaussianSource({ next: () => rng.next() });
    const first = g.normal();
    g.reset();
    rng = seededRng(3);
    assert.equal(g.normal(), first);
  });

  test('rate and latency: samples at the configured rate, published latency later', () => {
    setup(0.08, false);
    const p = SensorPipeline.create(mj, model, data, arm, {
      rng: seededRng(1),
      config: { joint_torque: { rateHz: 50, latencySec: 0.03 } },
    });
    const ch = p.channel('joint_torque');
    const stamps: number[] = [];
    for (let i = 0; i <= 500; i++) {
      const t = i * 0.002;
      p.update(t);
      if (t < 0.03 - 1e-9) assert.equal(ch.valid, false, `nothing arrives before the latency (t=${t})`);
      else {
        assert.equal(ch.valid, true);
        // Newest 50 Hz sample taken at or before t - 30 ms.
        const expected = Math.floor((t - 0.03 + 1e-9) / 0.02) * 0.02;
        assert.ok(
          Math.abs(ch.stampSec - expected) < 1e-9,
          `t=${t}: stamp ${ch.stampSec}, expected ${expected}`,
        );
        stamps.push(ch.stampSec);
      }
    }
    assert.equal(ch.samples, 51);
    p.dispose();
  });

  test('dropout: the configured fraction is lost, held or NaN-flagged', () => {
    setup(0.08, false);
    for (const mode of ['hold', 'nan'] as const) {
      const p = SensorPipeline.create(mj, model, data, arm, {
        rng: seededRng(3),
        config: { joint_pos: { dropout: 0.2, dropoutMode: mode } },
      });
      const ch = p.channel('joint_pos');
      let nan = 0;
      let invalid = 0;
      for (let i = 0; i < 5000; i++) {
        p.update(i * 0.002);
        if (Number.isNaN(ch.values[0]!)) nan++;
        if (!ch.valid) invalid++;
      }
      const rate = ch.dropped / ch.samples;
      assert.ok(Math.abs(rate - 0.2) < 0.02, `${mode}: dropout rate ${rate}`);
      if (mode === 'nan') {
        assert.equal(nan, ch.dropped);
        assert.equal(invalid, ch.dropped);
      } else assert.ok(nan <= 3, `hold publishes the last value (NaN only before the first sample): ${nan}`);
      p.dispose();
    }
  });

  test('bad settings are rejected as INPUT_INVALID naming the sensor and setting', () => {
    const bad: [Record<string, object>, RegExp][] = [
      [{ imu_nope: { noiseStd: 1 } }, /imu_nope/],
      [{ joint_pos: { noiseStd: -1 } }, /joint_pos.*noiseStd/],
      [{ joint_vel: { latencySec: 5 } }, /joint_vel.*latencySec/],
      [{ 'tactile.pad_left': { dropout: 1.5 } }, /tactile\.pad_left.*dropout/],
      [{ 'wrench.wrist_ft': { rateHz: 0 } }, /wrench\.wrist_ft.*rateHz/],
      [{ joint_pos: { dropoutMode: 'zero' } }, /joint_pos.*dropoutMode/],
      [{ joint_pos: { gain: 2 } }, /joint_pos.*gain/],
    ];
    for (const [config, re] of bad) {
      assert.throws(
        () => SensorPipeline.create(mj, model, data, arm, { rng: seededRng(1), config }),
        (e) => isTgError(e) && e.code === 'INPUT_INVALID' && re.test(e.message),
        JSON.stringify(config),
      );
    }
  });
});

describe('depth camera', async () => {
  const mj = await loadMujoco();
  test('one multiRay frame reads the table distance', () => {
    const e = loadEmbodiment('service');
    // A plain scene: the robot in front of a table top 0.77 m high.
    const vfs = new mj.MjVFS();
    vfs.addBuffer('service.xml', new TextEncoder().encode(readMjcf(e)));
    const model = mj.MjModel.from_xml_string(
      `<mujoco><include file="service.xml"/><worldbody>
        <geom name="table" type="box" size="0.3 1 0.02" pos="1.0 0 0.75"/>
      </worldbody></mujoco>`,
      vfs,
    );
    vfs.delete();
    const data = new mj.MjData(model);
    try {
      mj.mj_resetDataKeyframe(model, data, 0);
      const q = data.qpos as Float64Array;
      q[5] = 0.42; // head tilt down towards the table
      mj.mj_forward(model, data);
      const p = SensorPipeline.create(mj, model, data, e, {
        rng: seededRng(1),
        config: { 'depth.head_camera': { width: 32, height: 24, fovyDeg: 40, maxRangeM: 5 } },
      });
      p.update(0);
      const depth = p.channel('depth.head_camera');
      assert.deepEqual(depth.shape, [24, 32]);
      // Expected z-depth of the centre pixel: distance from the camera to the table top along the axis.
      const sid = mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, 'head_camera');
      const pos = (data.site_xpos as Float64Array).slice(3 * sid, 3 * sid + 3);
      const R = (data.site_xmat as Float64Array).slice(9 * sid, 9 * sid + 9);
      const fwd = [-R[2]!, -R[5]!, -R[8]!];
      const t = (0.77 - pos[2]!) / fwd[2]!;
      const hitX = pos[0]! + t * fwd[0]!;
      assert.ok(hitX > 0.75 && hitX < 1.25, `centre ray hits the table top at x=${hitX}`);
      const centre = (depth.values[12 * 32 + 15]! + depth.values[11 * 32 + 16]!) / 2;
      assert.ok(Math.abs(centre - t) < 0.03, `centre depth ${centre}, expected ${t}`);
      // The top rows look over the table into empty space: no return reads 0.
      assert.equal(depth.values[0], 0);
      p.dispose();
    } finally {
      data.delete();
      model.delete();
    }
  });
});
