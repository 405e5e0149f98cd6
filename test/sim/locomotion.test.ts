import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { LOCOMOTION_MARKERS, locomotionScene, placeMarkers } from '../../src/sim/scenes/locomotion.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import {
  distanceToPolyline,
  PushRecoveryTask,
  StandTask,
  WalkRouteTask,
} from '../../src/sim/tasks/locomotion.ts';
import { seededStates } from './fixtures/scene-tasks.ts';

const humanoid = loadEmbodiment('humanoid');
const joints = humanoid.jointNames;

/** Holds every actuator at its current target (a robot that does nothing). */
function hold(world: SceneWorld, task: { update(w: SceneWorld): void }, seconds: number): void {
  const n = Math.round(seconds / world.timestepSec);
  for (let i = 0; i < n; i++) {
    world.step();
    task.update(world);
  }
}

describe('locomotion scene and tasks', () => {
  let world: SceneWorld;
  before(async () => {
    world = await SceneWorld.create(locomotionScene(humanoid));
  });
  after(() => world.dispose());

  test('the scene: the humanoid at 5 ms on a floor every link touches, route markers without DoF', () => {
    assert.ok(world.timestepSec <= 0.005);
    const floor = world.id('geom', 'floor');
    assert.equal((world.model.geom_conaffinity as Int32Array)[floor], 3);
    // Markers are mocap bodies: the robot's keyframe still fits (nq = root 7 + joints + 4 finger slides).
    assert.equal(world.model.nq, 7 + joints.length + 4);
    assert.equal(world.model.nmocap, LOCOMOTION_MARKERS);
    assert.throws(
      () =>
        placeMarkers(
          world,
          Array.from({ length: LOCOMOTION_MARKERS + 1 }, () => [0, 0] as const),
        ),
      (e: unknown) => isTgError(e) && /markers/.test(e.message),
    );
    assert.throws(() => locomotionScene(loadEmbodiment('arm7')), /floating-base/);
  });

  test('initial-state sets are deterministic per seed and differ across seeds', () => {
    const tasks = [new StandTask(joints), new PushRecoveryTask(joints), new WalkRouteTask(joints)];
    for (const t of tasks) seededStates<unknown>(t, 4, 3);
    const push = new PushRecoveryTask(joints, { forceRangeN: [120, 160], count: 4 });
    for (const s of push.initialStates(1, 10)) {
      assert.equal(s.pushes.length, 4);
      for (const p of s.pushes) assert.ok(p.forceN >= 120 && p.forceN < 160 && p.durationSec === 0.1);
      for (let k = 1; k < 4; k++) assert.ok(s.pushes[k]!.atSec > s.pushes[k - 1]!.atSec + 0.1);
    }
    const route = new WalkRouteTask(joints);
    for (const s of route.initialStates(2, 10)) {
      assert.equal(s.waypoints.length, 3);
      let len = Math.hypot(s.waypoints[0]![0] - s.start.x, s.waypoints[0]![1] - s.start.y);
      for (let k = 1; k < 3; k++) {
        len += Math.hypot(
          s.waypoints[k]![0] - s.waypoints[k - 1]![0],
          s.waypoints[k]![1] - s.waypoints[k - 1]![1],
        );
      }
      assert.ok(len >= 2.4, `route ${len} m`);
    }
  });

  test('a reset stands the robot on the floor at its pose; holding the stand pose it stays up', () => {
    const task = new StandTask(joints, { durationSec: 1 });
    const s = task.initialStates(7, 1)[0]!;
    task.apply(world, s);
    const sole = new Float64Array(3);
    const z: number[] = [];
    for (const n of ['left_sole', 'right_sole']) {
      world.sitePos(world.id('site', n), sole);
      z.push(sole[2]!);
    }
    assert.ok(Math.abs(Math.min(...z)) < 1e-9, `lowest sole at ${Math.min(...z)} m`);
    const q = world.qpos;
    assert.ok(Math.abs(q[0]! - s.start.x) < 1e-9 && Math.abs(q[1]! - s.start.y) < 1e-9);
    assert.equal(task.success(world), false, 'not before the time is up');
    hold(world, task, 1);
    assert.equal(task.fallen, false);
    assert.equal(task.success(world), true);
    assert.equal(task.metrics(world).fell, 0);
  });

  test('pushes go through xfrc_applied on the torso at their seeded times, only then', () => {
    const task = new PushRecoveryTask(joints, { forceRangeN: [80, 80], count: 1, firstSec: 0.2 });
    const s = task.initialStates(3, 1)[0]!;
    const p = s.pushes[0]!;
    task.apply(world, s);
    const torso = 6 * world.id('body', 'torso');
    let seen = 0;
    const n = Math.round((p.atSec + 0.3) / world.timestepSec);
    for (let i = 0; i < n; i++) {
      world.step();
      task.update(world);
      const f = world.xfrcApplied;
      const t = world.simTimeSec;
      const active = t >= p.atSec - 1e-9 && t < p.atSec + p.durationSec - 1e-9;
      if (active) {
        seen++;
        assert.ok(Math.abs(f[torso]! - 80 * Math.cos(p.dirRad)) < 1e-9);
        assert.ok(Math.abs(f[torso + 1]! - 80 * Math.sin(p.dirRad)) < 1e-9);
      } else {
        assert.equal(Math.hypot(f[torso]!, f[torso + 1]!), 0, `force outside the push at t=${t}`);
      }
    }
    assert.ok(Math.abs(seen * world.timestepSec - p.durationSec) < 0.011, `${seen} steps of push`);
    assert.equal(task.metrics(world).pushesApplied, 1);
    assert.ok(Math.abs(task.metrics(world).maxImpulseNs! - 8) < 1e-9);
  });

  test('a push far too big for a robot that only holds its pose: the task reports the fall', () => {
    const task = new PushRecoveryTask(joints, {
      forceRangeN: [600, 600],
      pushSec: 0.2,
      count: 1,
      firstSec: 0.2,
    });
    task.apply(world, task.initialStates(1, 1)[0]!);
    hold(world, task, 3);
    assert.equal(task.fallen, true);
    assert.ok(task.fallSec > 0.2 && task.fallSec < 3);
    assert.equal(task.success(world), false);
    const m = task.metrics(world);
    assert.equal(m.fell, 1);
    assert.equal(m.maxSurvivedImpulseNs, 0);
    assert.ok(m.uprightSec! < 3);
  });

  test('walk-route judging: waypoints in order within reach, path error, a fallen robot fails', () => {
    const task = new WalkRouteTask(joints, { waypoints: 2, legM: [1, 1], maxTurnRad: 0 });
    const s = task.initialStates(9, 1)[0]!;
    task.apply(world, s);
    assert.equal(task.success(world), false);
    // Carry the robot along the route 5 cm to the side of it, keeping it upright.
    const route = [[s.start.x, s.start.y], ...s.waypoints] as [number, number][];
    const z = world.qpos[2]!;
    const quat = Array.from(world.qpos.subarray(3, 7));
    for (let k = 1; k < route.length; k++) {
      const [ax, ay] = route[k - 1]!;
      const [bx, by] = route[k]!;
      const len = Math.hypot(bx - ax, by - ay);
      const nx = -(by - ay) / len;
      const ny = (bx - ax) / len;
      for (let i = 1; i <= 50; i++) {
        const u = i / 50;
        world.setFreePose('root', [ax + u * (bx - ax) + 0.05 * nx, ay + u * (by - ay) + 0.05 * ny, z], quat);
        world.forward();
        world.step();
        task.update(world);
      }
    }
    assert.equal(task.waypointsReached, 2);
    assert.equal(task.success(world), true);
    const m = task.metrics(world);
    assert.ok(Math.abs(m.routeLengthM! - 2) < 1e-9);
    assert.ok(Math.abs(m.pathErrorM! - 0.05) < 0.01, `path error ${m.pathErrorM}`);
    assert.equal(m.falls, 0);
    // Lay it down: a fall is latched and fails the route.
    world.setFreePose('root', [route[2]![0], route[2]![1], 0.2], [Math.SQRT1_2, Math.SQRT1_2, 0, 0]);
    world.forward();
    world.step();
    task.update(world);
    assert.equal(task.fallen, true);
    assert.equal(task.success(world), false);
    assert.equal(task.metrics(world).falls, 1);
  });

  test('distance to a polyline; bad task settings are named', () => {
    const pts: [number, number][] = [
      [0, 0],
      [1, 0],
      [1, 1],
    ];
    assert.equal(distanceToPolyline(0.5, 0.2, pts), 0.2);
    assert.equal(distanceToPolyline(2, 0.5, pts), 1);
    assert.ok(Math.abs(distanceToPolyline(-1, -1, pts) - Math.SQRT2) < 1e-12);
    assert.throws(() => new PushRecoveryTask(joints, { forceRangeN: [200, 100] }), /forceRangeN/);
    assert.throws(() => new PushRecoveryTask(joints, { pushSec: 0 }), /pushSec/);
    assert.throws(() => new StandTask(joints, { durationSec: -1 }), /durationSec/);
    assert.throws(() => new WalkRouteTask(joints, { waypoints: 0 }), /waypoints/);
  });
});
