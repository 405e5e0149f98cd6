import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BalanceSkill } from '../../src/control/cerebellum/balance.ts';
import { GaitSkill } from '../../src/control/cerebellum/gait.ts';
import { LocomotionRig } from '../../src/control/cerebellum/locomotion-rig.ts';
import { LocomotionSkills } from '../../src/control/cerebellum/locomotion-skills.ts';
import { mulTVec, quatToMat } from '../../src/control/rotation.ts';
import { SKILL_ARGS } from '../../src/control/vocabulary.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { PushRecoveryTask, StandTask, WalkRouteTask } from '../../src/sim/tasks/locomotion.ts';
import { seededRng } from '../../src/sim/world.ts';

const humanoid = loadEmbodiment('humanoid');
const joints = humanoid.jointNames;

describe('humanoid locomotion skills (stand, walk_to)', () => {
  let rig: LocomotionRig;
  before(async () => {
    rig = await LocomotionRig.create(humanoid);
  });
  after(() => rig.dispose());

  test('the kinematic model matches MuJoCo: sole poses, CoM, and IK inverts FK', () => {
    const w = rig.world;
    const m = rig.model;
    // No jitter: the model takes the upper body as rigid in its stand pose.
    const task = new StandTask(joints, { jointJitterRad: 0 });
    task.apply(w, task.initialStates(1, 1)[0]!);
    // Random leg joints (within limits) written into the sim, then compared with the model's FK.
    const rng = seededRng(11);
    const q = Float64Array.from(humanoid.home);
    for (let i = 0; i < 12; i++) {
      const lo = humanoid.jointLimits.lower[i]!;
      const hi = humanoid.jointLimits.upper[i]!;
      q[i] = lo + 0.2 * (hi - lo) + 0.6 * (hi - lo) * rng.next();
      w.qpos[w.qposAdr(joints[i]!)] = q[i]!;
    }
    w.forward();
    const pelvis = w.id('body', 'pelvis');
    const rot = new Float64Array(9);
    quatToMat(w.xquat, rot, 4 * pelvis);
    const p0 = new Float64Array(3);
    w.bodyPos(pelvis, p0);
    const site = new Float64Array(3);
    const rel = new Float64Array(3);
    const fk = new Float64Array(3);
    const footRot = new Float64Array(9);
    const qIk = new Float64Array(q.length);
    for (const side of [0, 1] as const) {
      w.sitePos(w.id('site', side === 0 ? 'left_sole' : 'right_sole'), site);
      mulTVec(rot, [site[0]! - p0[0]!, site[1]! - p0[1]!, site[2]! - p0[2]!], rel);
      m.sole(side, q, fk, footRot);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(fk[k]! - rel[k]!) < 1e-9, `side ${side} axis ${k}`);
      m.legIk(side, fk, footRot, qIk);
      for (let j = 0; j < 6; j++) assert.ok(Math.abs(qIk[6 * side + j]! - q[6 * side + j]!) < 1e-9);
    }
    const com = new Float64Array(3);
    m.com(q, com);
    const sub = w.data.subtree_com as Float64Array;
    mulTVec(
      rot,
      [sub[3 * pelvis]! - p0[0]!, sub[3 * pelvis + 1]! - p0[1]!, sub[3 * pelvis + 2]! - p0[2]!],
      rel,
    );
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(com[k]! - rel[k]!) < 1e-9);
    // A target beyond the leg's reach is pulled in (knee nearly straight) and the shortfall reported.
    const flat = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    const short = m.legIk(0, [0, 0.09, -1.2], flat, qIk);
    assert.ok(Math.abs(short - 0.25) < 0.01, `beyond reach by ${short} m`);
    assert.ok(qIk[3]! < 0.1, `knee ${qIk[3]}`);
  });

  test('stand: 5 s upright on three seeded starts, base estimate within millimetres', () => {
    const task = new StandTask(joints, { durationSec: 5 });
    for (const s of task.initialStates(21, 3)) {
      task.apply(rig.world, s);
      rig.begin();
      const skill = new BalanceSkill(rig.model);
      skill.start(SKILL_ARGS.stand.parse({ seconds: 5 }), rig.state);
      const r = rig.run(skill, { task, maxSec: 6 });
      assert.equal(r.status, 'succeeded', skill.failure ?? '');
      assert.equal(task.success(rig.world), true);
      const m = task.metrics(rig.world);
      assert.ok(m.driftM! < 0.03, `drift ${m.driftM} m`);
      assert.equal(skill.captureSteps, 0);
      const est = rig.state.base!.pos;
      const q = rig.world.qpos;
      assert.ok(Math.hypot(est[0]! - q[0]!, est[1]! - q[1]!, est[2]! - q[2]!) < 0.01);
    }
  });

  test('stand with noisy, delayed sensors (encoders, IMU, sole loads): still 5 s upright in place', async () => {
    const noisy = await LocomotionRig.create(humanoid, {
      seed: 3,
      sensors: {
        joint_pos: { noiseStd: 0.0005, latencySec: 0.005 },
        joint_vel: { noiseStd: 0.02, latencySec: 0.005 },
        imu: { noiseStd: 0.01, latencySec: 0.005 },
        touch: { noiseStd: 5 },
        'wrench.left_sole': { noiseStd: 2 },
        'wrench.right_sole': { noiseStd: 2 },
      },
    });
    try {
      const task = new StandTask(joints, { durationSec: 5 });
      for (const s of task.initialStates(31, 2)) {
        task.apply(noisy.world, s);
        noisy.begin();
        const skill = new BalanceSkill(noisy.model);
        skill.start({ seconds: 5 }, noisy.state);
        const r = noisy.run(skill, { task, maxSec: 6 });
        assert.equal(r.status, 'succeeded', skill.failure ?? '');
        assert.equal(task.success(noisy.world), true);
        assert.equal(skill.captureSteps, 0, 'sensor noise must not trigger capture steps');
      }
    } finally {
      noisy.dispose();
    }
  });

  test('push recovery: three seeded pushes of 10-15 N s each, survived on every seed', () => {
    const task = new PushRecoveryTask(joints, { forceRangeN: [100, 150], count: 3 });
    let largest = 0;
    let steps = 0;
    // Seeds whose pushes (random directions) span forward, backward and sideways.
    for (const seed of [1, 2, 3]) {
      const s = task.initialStates(seed, 1)[0]!;
      task.apply(rig.world, s);
      rig.begin();
      const skill = new BalanceSkill(rig.model);
      skill.start({ seconds: task.durationSec }, rig.state);
      const r = rig.run(skill, { task, maxSec: task.durationSec + 2 });
      const m = task.metrics(rig.world);
      assert.equal(m.fell, 0, `seed ${seed}: ${skill.failure}`);
      assert.notEqual(r.status, 'failed', `seed ${seed}: ${skill.failure}`);
      assert.equal(m.pushesApplied, 3);
      assert.ok(task.success(rig.world), `seed ${seed}: drift ${m.driftM} m`);
      largest = Math.max(largest, m.maxSurvivedImpulseNs!);
      steps += skill.captureSteps;
    }
    assert.ok(largest >= 14, `largest push survived ${largest} N s`);
    console.log(`push recovery: largest impulse survived ${largest.toFixed(1)} N s, capture steps ${steps}`);
  });

  test('a push too big: the skill fails with a reason and the task reports the fall', () => {
    const task = new PushRecoveryTask(joints, { forceRangeN: [450, 450], pushSec: 0.15, count: 1 });
    const s = task.initialStates(4, 1)[0]!;
    task.apply(rig.world, s);
    rig.begin();
    const skill = new BalanceSkill(rig.model);
    skill.start({ seconds: task.durationSec }, rig.state);
    const r = rig.run(skill, { task, maxSec: task.durationSec, stopOnFall: false });
    assert.equal(r.status, 'failed');
    assert.match(skill.failure ?? '', /^fell: (torso tilt|CoM)/);
    // Keep stepping the physics with the last command: the robot is down, and the task says so.
    const idle = { name: 'idle', failure: null, start() {}, step: () => 'running' as const };
    rig.run(idle, { task, maxSec: 1.5 });
    assert.equal(task.fallen, true);
    assert.equal(task.metrics(rig.world).fell, 1);
    assert.equal(task.success(rig.world), false);
  });

  test('walk_to: a seeded 3-waypoint route of at least 2 m, walked without a fall', () => {
    const task = new WalkRouteTask(joints);
    const s = task.initialStates(3, 1)[0]!;
    task.apply(rig.world, s);
    rig.begin();
    assert.ok(task.routeLengthM() >= 2);
    // Through the vocabulary, as a plan would call it.
    const skills = new LocomotionSkills(rig.model);
    const skill = skills.walkTo;
    let worstEstimate = 0;
    for (const [x, y] of s.waypoints) {
      assert.equal(skills.start({ skill: 'walk_to', args: { x, y } }, rig.state), skill);
      for (let t = 0; t < 40; t += 0.5) {
        const r = rig.run(skill, { task, maxSec: 0.5 });
        const est = rig.state.base!.pos;
        const q = rig.world.qpos;
        worstEstimate = Math.max(worstEstimate, Math.hypot(est[0]! - q[0]!, est[1]! - q[1]!));
        if (r.status !== 'running') {
          assert.equal(r.status, 'succeeded', skill.failure ?? '');
          break;
        }
      }
    }
    assert.equal(task.success(rig.world), true);
    const m = task.metrics(rig.world);
    assert.equal(m.falls, 0);
    assert.equal(m.waypointsReached, 3);
    assert.ok(m.distanceM! >= 2, `walked ${m.distanceM} m`);
    assert.ok(m.pathErrorM! < 0.1, `mean path error ${m.pathErrorM} m`);
    assert.ok(m.speedMps! > 0.1, `speed ${m.speedMps} m/s`);
    // Leg odometry drifts, but by centimetres over the route.
    assert.ok(worstEstimate < 0.1, `base estimate off by ${worstEstimate} m`);
    console.log(
      `walk route: ${m.routeLengthM!.toFixed(2)} m route, ${m.distanceM!.toFixed(2)} m in ${m.timeSec!.toFixed(1)} s ` +
        `(${m.speedMps!.toFixed(2)} m/s), path error ${m.pathErrorM!.toFixed(3)} m, odometry error ${worstEstimate.toFixed(3)} m`,
    );
  });

  test('plan steps are validated against the vocabulary before a skill starts', () => {
    const skills = new LocomotionSkills(rig.model);
    assert.deepEqual(skills.names, ['stand', 'walk_to']);
    const bad = (call: { skill: string; args: Record<string, unknown> }, code: string, re: RegExp) =>
      assert.throws(
        () => skills.start(call, rig.state),
        (e: unknown) => isTgError(e) && e.code === code && re.test(e.message),
      );
    bad({ skill: 'pick', args: { object: 'cube' } }, 'NOT_FOUND', /no skill 'pick'/);
    bad({ skill: 'stand', args: { seconds: -1 } }, 'INPUT_INVALID', /'seconds'/);
    bad({ skill: 'walk_to', args: { x: 1 } }, 'INPUT_INVALID', /'y'/);
    bad({ skill: 'walk_to', args: { x: 1, y: 0, speed: 2 } }, 'INPUT_INVALID', /speed/);
    assert.equal(skills.get('stand'), skills.stand);
    assert.equal(skills.get('walk_to'), skills.walkTo);
    assert.equal(skills.get('pick'), undefined);
  });

  test('walk_to gives up with a reason when the goal cannot be reached in time', () => {
    const task = new StandTask(joints);
    task.apply(rig.world, task.initialStates(5, 1)[0]!);
    rig.begin();
    const skill = new GaitSkill(rig.model, { timePerMeterSec: 0.2, timeSlackSec: 0.5 });
    const q = rig.world.qpos;
    skill.start({ x: q[0]! + 3, y: q[1]! }, rig.state);
    const r = rig.run(skill, { task, maxSec: 5 });
    assert.equal(r.status, 'failed');
    assert.match(skill.failure ?? '', /did not reach .* in time: \d+\.\d+ m away/);
    assert.equal(task.fallen, false);
  });
});
