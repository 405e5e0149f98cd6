/**
 * Proprioception: joint state through the sensor pipeline (noise, dropouts bridged then NaN), and the
 * wrist force/torque sensor's gravity compensation, checked against MuJoCo's own contact sensor.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArmPerception, HeldChannel, WristWrenchCompensator } from '../../src/control/perception/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import type { SensorChannel } from '../../src/sim/sensors/index.ts';
import { SensorPipeline } from '../../src/sim/sensors/index.ts';
import { ARM7, pegBoardRig, pickPlaceCameraScene } from './fixtures/arm-rig.ts';

/** Rotation matrix (row-major) about x by a, then about z by b: R = Rz(b) Rx(a). */
function rot(a: number, b: number): Float64Array {
  const [ca, sa, cb, sb] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b)];
  return Float64Array.of(cb, -sb * ca, sb * sa, sb, cb * ca, -cb * sa, 0, sa, ca);
}

describe('proprioception', () => {
  test('joint state follows the pipeline: exact without noise, the configured spread with it', async () => {
    const mj = await loadMujoco();
    const world = new SceneWorld(mj, pickPlaceCameraScene());
    const pipeline = SensorPipeline.create(mj, world.model, world.data, ARM7, {
      rng: seededRng(2),
      config: { joint_pos: { noiseStd: 0.002 } },
    });
    const perception = new ArmPerception({ sensors: pipeline, stateDim: 8, kinematics: world });
    try {
      world.resetData();
      world.setArmState([0.2, 0.5, -0.1, 1.4, 0.1, 1.0, 0.3, 0.05]);
      world.forward();
      const truth = new Float64Array(8);
      world.readState(truth);
      const err: number[] = [];
      for (let k = 0; k < 4000; k++) {
        pipeline.update(k * 0.002);
        perception.updateProprio(k * 0.002);
        err.push(perception.state.q[3]! - truth[3]!);
        assert.equal(perception.state.qd[3], 0);
      }
      const mean = err.reduce((a, b) => a + b, 0) / err.length;
      const std = Math.sqrt(err.reduce((a, b) => a + (b - mean) ** 2, 0) / err.length);
      assert.ok(Math.abs(mean) < 0.0002 && Math.abs(std - 0.002) < 0.00015, `mean ${mean}, std ${std}`);
      assert.equal(perception.state.tau.length, 8);
      assert.ok(perception.state.tau.every((x) => Number.isFinite(x)));
      assert.deepEqual([...perception.state.tactile.keys()], ['pad_left', 'pad_right']);
    } finally {
      pipeline.dispose();
      world.dispose();
    }
  });

  test('a lost joint sample is bridged for maxHoldSec, then the state reads NaN', () => {
    const ch = {
      name: 'joint_pos',
      dim: 2,
      shape: [2],
      values: Float64Array.of(1, 2),
      valid: true,
      stampSec: 0,
      samples: 0,
      dropped: 0,
    } as unknown as SensorChannel & { valid: boolean; values: Float64Array };
    const held = new HeldChannel(ch, 0.05);
    const out = new Float64Array(2);
    held.read(0, out);
    assert.deepEqual(Array.from(out), [1, 2]);
    ch.valid = false;
    ch.values.fill(Number.NaN);
    held.read(0.03, out);
    assert.deepEqual(Array.from(out), [1, 2], 'held');
    held.read(0.05, out);
    assert.deepEqual(Array.from(out), [1, 2], 'still held at the limit');
    held.read(0.06, out);
    assert.ok(
      out.every((x) => Number.isNaN(x)),
      'stale: NaN',
    );
    ch.valid = true;
    ch.values.set([3, 4]);
    held.read(0.07, out);
    assert.deepEqual(Array.from(out), [3, 4]);
  });

  test('perception refuses sensors it needs but lacks', () => {
    const sensors = { names: ['joint_pos', 'joint_vel'], channel: () => ({}) as SensorChannel };
    assert.throws(
      () => new ArmPerception({ sensors, stateDim: 8 }),
      (e) =>
        isTgError(e) && e.code === 'CONFIG_INVALID' && /needs sensor channel 'joint_torque'/.test(e.message),
    );
  });
});

describe('wrist force/torque gravity compensation', () => {
  test('a tool model identified in one pose cancels gravity in any other', () => {
    const c = new WristWrenchCompensator();
    const m = 0.6;
    const com = [0.01, -0.02, 0.05];
    // What the sensor reads at rest: the support of the tool's weight, in the sensor frame.
    const reading = (R: Float64Array): Float64Array => {
      const f = [R[6]! * m * 9.81, R[7]! * m * 9.81, R[8]! * m * 9.81];
      const t = [
        com[1]! * f[2]! - com[2]! * f[1]!,
        com[2]! * f[0]! - com[0]! * f[2]!,
        com[0]! * f[1]! - com[1]! * f[0]!,
      ];
      return Float64Array.of(...f, ...t);
    };
    const R1 = rot(Math.PI, 0.3); // pointing down
    c.identify(reading(R1), R1);
    assert.ok(Math.abs(c.massKg - m) < 1e-9);
    const out = new Float64Array(6);
    for (const [tilt, R2] of [
      [0.4, rot(Math.PI - 0.4, 1)],
      [0.7, rot(Math.PI + 0.7, -0.5)],
    ] as const) {
      c.compensate(reading(R2), R2, out);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(out[i]!) < 1e-9, `force ${i}: ${out[i]}`);
      // The centre of mass along the force at identification (here its z, 5 cm) is unobservable from
      // one pose: torques cancel up to m g c_z sin(tilt).
      const bound = m * 9.81 * com[2]! * Math.sin(tilt) + 1e-9;
      const t = Math.hypot(out[3]!, out[4]!, out[5]!);
      assert.ok(t <= bound, `residual torque ${t} N m, bound ${bound}`);
    }
    // A contact force adds up as the environment's push on the tool (sensor frame).
    const R = rot(Math.PI, 0);
    const r = reading(R);
    r[2] = r[2]! + 5; // the arm pushes 5 N more along sensor z...
    c.compensate(r, R, out);
    assert.ok(Math.abs(out[2]! + 5) < 1e-9, '...so the environment pushes back 5 N');
  });

  test('in MuJoCo: pressing the held peg on the board reads the contact force, at rest it reads zero', async () => {
    const rig = await pegBoardRig(1);
    try {
      const wrench = rig.perception.state.wrench!;
      assert.ok(Math.hypot(wrench[0]!, wrench[1]!, wrench[2]!) < 0.05, 'tared: zero at rest');
      // Wrist turned by 0.6 rad: the raw reading is the same weight in another direction; compensated, zero.
      const q = new Float64Array(8);
      rig.world.readState(q);
      q[6] = q[6]! + 0.6;
      rig.run({ skill: 'joint_pd', args: { q: Array.from(q.subarray(0, 7)) } }, 3);
      rig.idle(0.3);
      assert.ok(
        Math.hypot(wrench[0]!, wrench[1]!, wrench[2]!) < 0.1,
        `after turning: ${Array.from(wrench.subarray(0, 3))}`,
      );
      // Press the peg onto the board's top beside its hole: compare with MuJoCo's contact sensor.
      const id = rig.world.id('sensor', 'peg_contact');
      const contact = new Float64Array(3);
      const mat = new Float64Array(9);
      const pos = new Float64Array(3);
      const blank = new Float64Array(3);
      rig.world.sitePos(rig.world.id('site', 'blank'), blank);
      rig.world.gripSite(pos, mat);
      // Over the solid top, then the tip commanded 1 mm into it: the servos' stiffness presses it down.
      const tipBelowSite = 0.05;
      rig.run(
        { skill: 'move_to', args: { position: [blank[0]!, blank[1]!, blank[2]! + tipBelowSite + 0.01] } },
        4,
      );
      const press = rig.skills.get('move_to')!;
      press.start(
        { position: [blank[0]!, blank[1]!, blank[2]! + tipBelowSite - 0.001], toleranceM: 1e-5 },
        rig.perception.state,
      );
      const r = rig.runSkill(press, 1.5);
      assert.equal(r.status, 'running', 'still pressing');
      rig.world.readSensor(id, contact);
      rig.world.gripSite(pos, mat);
      const worldZ = mat[6]! * wrench[0]! + mat[7]! * wrench[1]! + mat[8]! * wrench[2]!;
      const truth = Math.hypot(contact[0]!, contact[1]!, contact[2]!);
      assert.ok(truth > 2, `the peg presses on the board (${truth} N)`);
      assert.ok(
        Math.abs(worldZ - truth) < 0.05 * truth + 0.2,
        `wrist reads ${worldZ} N up, contact sensor ${truth} N`,
      );
    } finally {
      rig.dispose();
    }
  });

  test('tareWrench needs a wrist sensor and kinematics', async () => {
    const mj = await loadMujoco();
    const world = new SceneWorld(mj, pickPlaceCameraScene());
    const pipeline = SensorPipeline.create(mj, world.model, world.data, ARM7, { rng: seededRng(1) });
    try {
      const p = new ArmPerception({ sensors: pipeline, stateDim: 8 });
      assert.equal(p.state.wrench, undefined);
      assert.throws(
        () => p.tareWrench(),
        (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
      );
      const withKin = new ArmPerception({ sensors: pipeline, stateDim: 8, kinematics: world });
      assert.throws(
        () => withKin.tareWrench(),
        (e) => isTgError(e) && /no valid sample yet/.test(e.message),
      );
    } finally {
      pipeline.dispose();
      world.dispose();
    }
  });
});
