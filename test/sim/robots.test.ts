import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EMBODIMENT_NAMES, loadEmbodiment, readMjcf } from '../../src/embodiment/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';

describe('robot library', async () => {
  const mj = await loadMujoco();
  const O = mj.mjtObj;
  /** The robot on a floor plane. */
  const compile = (name: (typeof EMBODIMENT_NAMES)[number]) => {
    const vfs = new mj.MjVFS();
    try {
      vfs.addBuffer('robot.xml', new TextEncoder().encode(readMjcf(loadEmbodiment(name))));
      return mj.MjModel.from_xml_string(
        '<mujoco><include file="robot.xml"/><worldbody><geom name="floor" type="plane" size="5 5 0.1"/></worldbody></mujoco>',
        vfs,
      );
    } finally {
      vfs.delete();
    }
  };

  for (const name of EMBODIMENT_NAMES) {
    test(`${name}: the declaration matches the compiled MJCF`, () => {
      const e = loadEmbodiment(name);
      const m = compile(name);
      try {
        assert.equal(m.nu, e.actuators.length);
        assert.deepEqual(
          e.actionNames,
          e.actuators.map((a) => a.name),
        );
        const range = m.jnt_range as Float64Array;
        const ctrl = m.actuator_ctrlrange as Float64Array;
        const force = m.actuator_forcerange as Float64Array;
        for (const j of e.joints) {
          const id = mj.mj_name2id(m, O.mjOBJ_JOINT.value, j.name);
          assert.ok(id >= 0, j.name);
          assert.deepEqual([range[2 * id], range[2 * id + 1]], j.range, `${j.name} range`);
          const a = mj.mj_name2id(m, O.mjOBJ_ACTUATOR.value, j.name);
          assert.equal(force[2 * a + 1], j.maxTorque, `${j.name} forcerange`);
        }
        e.actuators.forEach((a, i) => {
          assert.equal(mj.mj_name2id(m, O.mjOBJ_ACTUATOR.value, a.name), i, `${a.name} in canonical order`);
          assert.deepEqual([ctrl[2 * i], ctrl[2 * i + 1]], a.ctrlRange, `${a.name} ctrlrange`);
        });
        const dims = m.sensor_dim as Int32Array;
        for (const s of e.sensors) {
          const id = mj.mj_name2id(m, O.mjOBJ_SENSOR.value, s.name);
          assert.ok(id >= 0, s.name);
          assert.equal(dims[id], s.dim, `${s.name} dim`);
        }
        for (const site of [...e.safety.tcpSites, ...e.cameras.map((c) => c.site)]) {
          assert.ok(mj.mj_name2id(m, O.mjOBJ_SITE.value, site) >= 0, site);
        }
        assert.equal(e.safety.maxJointSpeed.length, e.jointNames.length);
        e.home.forEach((v, i) => {
          assert.ok(v >= e.jointLimits.lower[i]! && v <= e.jointLimits.upper[i]!, `home ${e.stateNames[i]}`);
        });
        if (e.homeKeyframe) {
          const k = mj.mj_name2id(m, O.mjOBJ_KEY.value, e.homeKeyframe);
          assert.ok(k >= 0);
          const keyCtrl = Array.from((m.key_ctrl as Float64Array).slice(k * m.nu, (k + 1) * m.nu));
          assert.deepEqual(
            keyCtrl.map((x) => Math.round(x * 1e9)),
            e.home.map((x) => Math.round(x * 1e9)),
            'home keyframe ctrl',
          );
        }
      } finally {
        m.delete();
      }
    });
  }

  test('arm7 has two 4x4 tactile pads, a wrist F/T and joint torque sensors', () => {
    const e = loadEmbodiment('arm7');
    const pads = e.sensors.filter((s) => s.type === 'tactile');
    assert.equal(pads.length, 2);
    for (const p of pads) assert.ok(p.grid!.rows >= 4 && p.grid!.cols >= 4);
    assert.deepEqual(
      e.sensors.filter((s) => s.attachedTo.name === 'wrist_ft').map((s) => s.type),
      ['force', 'torque'],
    );
    assert.equal(e.sensors.filter((s) => s.type === 'jointactuatorfrc').length, 7);
  });

  test('humanoid: >= 25 DoF in the required groups, 5 ms step, IMU, feet and hand sensing', () => {
    const e = loadEmbodiment('humanoid');
    const m = compile('humanoid');
    try {
      assert.equal(e.floatingBase, true);
      assert.ok(e.actuators.length >= 25, `${e.actuators.length} actuated DoF`);
      const count = (re: RegExp) => e.jointNames.filter((n) => re.test(n)).length;
      assert.equal(count(/^left_(hip|knee|ankle)/), 6);
      assert.equal(count(/^right_(hip|knee|ankle)/), 6);
      assert.ok(count(/^waist/) >= 1);
      assert.ok(count(/^left_(shoulder|elbow|wrist)/) >= 4);
      assert.ok(count(/^right_(shoulder|elbow|wrist)/) >= 4);
      assert.ok(count(/^neck/) >= 1);
      assert.ok(m.opt.timestep <= 0.005);
      assert.equal(m.nq, 7 + e.jointNames.length + 4);
      const types = e.sensors.map((s) => s.type);
      for (const t of ['accelerometer', 'gyro', 'framequat']) assert.ok(types.includes(t), t);
      assert.ok(e.sensors.some((s) => s.type === 'touch' && s.attachedTo.name === 'left_sole'));
      assert.ok(e.sensors.some((s) => s.type === 'touch' && s.attachedTo.name === 'right_finger_a_pad'));
      // Collision geometry on every body but the world.
      const geomBody = m.geom_bodyid as Int32Array;
      for (let b = 1; b < m.nbody; b++) assert.ok(geomBody.includes(b), `body ${b} has a geom`);
    } finally {
      m.delete();
    }
  });

  test('humanoid stands in its stand keyframe under position control (pelvis within 5 cm for 2 s)', () => {
    const m = compile('humanoid');
    const d = new mj.MjData(m);
    try {
      mj.mj_resetDataKeyframe(m, d, mj.mj_name2id(m, O.mjOBJ_KEY.value, 'stand'));
      mj.mj_forward(m, d);
      const z0 = (d.qpos as Float64Array)[2]!;
      let worst = 0;
      const steps = Math.round(2 / m.opt.timestep);
      for (let i = 0; i < steps; i++) {
        mj.mj_step(m, d);
        worst = Math.max(worst, Math.abs((d.qpos as Float64Array)[2]! - z0));
      }
      assert.ok(worst < 0.05, `pelvis moved ${worst} m`);
      // Both soles carry the weight.
      const sd = d.sensordata as Float64Array;
      const adr = (n: string) => (m.sensor_adr as Int32Array)[mj.mj_name2id(m, O.mjOBJ_SENSOR.value, n)]!;
      const weight = (m.body_subtreemass as Float64Array)[1]! * 9.81;
      const soles = sd[adr('left_sole_touch')]! + sd[adr('right_sole_touch')]!;
      assert.ok(Math.abs(soles - weight) < 0.1 * weight, `soles ${soles} N, weight ${weight} N`);
      // Bare mj_step throughput (informational: 100 humanoids in real time on 2 cores need 10k/s per core).
      const n = 2000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) mj.mj_step(m, d);
      const perSec = n / ((performance.now() - t0) / 1000);
      console.log(`humanoid bare mj_step: ${Math.round(perSec)} steps/s`);
    } finally {
      d.delete();
      m.delete();
    }
  });

  test('service robot holds its home keyframe', () => {
    const m = compile('service');
    const d = new mj.MjData(m);
    try {
      mj.mj_resetDataKeyframe(m, d, mj.mj_name2id(m, O.mjOBJ_KEY.value, 'home'));
      const q0 = Float64Array.from(d.qpos as Float64Array);
      for (let i = 0; i < 1000; i++) mj.mj_step(m, d);
      const q = d.qpos as Float64Array;
      for (let i = 0; i < q0.length; i++) assert.ok(Math.abs(q[i]! - q0[i]!) < 0.01, `qpos ${i}`);
    } finally {
      d.delete();
      m.delete();
    }
  });
});
