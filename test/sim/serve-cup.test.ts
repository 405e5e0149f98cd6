import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runEpisode } from '../../src/control/episode-loop.ts';
import { serveCupSkill } from '../../src/control/skills/serve-cup.ts';
import { CUP_SEGMENTS } from '../../src/sim/scenes/props.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { serveCupScene } from '../../src/sim/scenes/serve-cup.ts';
import { ServeCupTask } from '../../src/sim/tasks/serve-cup.ts';
import { gripperHeldOpenSpine, seededStates } from './fixtures/scene-tasks.ts';

describe('mall: serve a cup to the marked hand-over spot', () => {
  let world: SceneWorld;
  const task = new ServeCupTask();
  before(async () => {
    world = await SceneWorld.create(serveCupScene());
  });
  after(() => world.dispose());

  test('compiles with an open cup (base and a ring of walls) and a mocap hand-over marker', () => {
    assert.ok(world.findId('geom', 'cup/base') >= 0);
    assert.ok(world.findId('geom', `cup/wall${CUP_SEGMENTS - 1}`) >= 0);
    const marker = world.id('body', 'handover');
    assert.ok((world.model.body_mocapid as Int32Array)[marker]! >= 0);
    assert.equal(world.armDof, 7);
  });

  test('initial states are deterministic per seed, inside their regions, and differ across seeds', () => {
    const { cupSpawn, spotRegion } = task.layout;
    for (const s of seededStates(task, 8, 40)) {
      assert.ok(s.cupXY[0] >= cupSpawn.xMin && s.cupXY[0] <= cupSpawn.xMax);
      assert.ok(s.cupXY[1] >= cupSpawn.yMin && s.cupXY[1] <= cupSpawn.yMax);
      assert.ok(s.spotXY[0] >= spotRegion.xMin && s.spotXY[0] <= spotRegion.xMax);
      assert.ok(s.spotXY[1] >= spotRegion.yMin && s.spotXY[1] <= spotRegion.yMax);
    }
  });

  test('apply writes the cup and the marker where the state says; not served at the start', () => {
    const s = task.initialStates(2, 1)[0]!;
    task.apply(world, s);
    const cup = new Float64Array(3);
    task.cupPose(world, cup);
    assert.deepEqual([cup[0], cup[1]], s.cupXY);
    const mark = new Float64Array(3);
    world.sitePos(world.id('site', 'handover'), mark);
    assert.ok(Math.abs(mark[0]! - s.spotXY[0]) < 1e-12 && Math.abs(mark[1]! - s.spotXY[1]) < 1e-12);
    assert.equal(task.success(world), false);
    assert.ok(task.metrics(world).spotErrorM! > 0.2);
  });

  test('success needs the cup upright, on the spot, on the counter, with the hand clear', () => {
    const s = task.initialStates(2, 1)[0]!;
    task.apply(world, s);
    const [x, y] = s.spotXY;
    world.setFreePose('cup', [x + 0.01, y - 0.01, 0]);
    world.forward();
    assert.equal(task.success(world), true, JSON.stringify(task.metrics(world)));
    world.setFreePose('cup', [x + 0.05, y, 0]); // off the mark
    world.forward();
    assert.equal(task.success(world), false);
    world.setFreePose('cup', [x, y, 0], [Math.cos(0.15), Math.sin(0.15), 0, 0]); // tipped 0.3 rad
    world.forward();
    assert.equal(task.success(world), false);
    assert.ok(Math.abs(task.metrics(world).tiltRad! - 0.3) < 1e-9);
    world.setFreePose('cup', [x, y, 0.05]); // still in the air
    world.forward();
    assert.equal(task.success(world), false);
  });

  for (const [i, s] of task.initialStates(1, 3).entries()) {
    test(`the scripted serve succeeds from initial state ${i} of seed 1 without spilling`, () => {
      task.apply(world, s);
      const r = runEpisode({ world, task, skill: (dt) => serveCupSkill(world, task, dt), maxSimSec: 15 });
      assert.equal(r.success, true, JSON.stringify(r.metrics));
      assert.equal(r.finished, true);
      assert.ok(r.metrics.spotErrorM! < 0.01, `${r.metrics.spotErrorM} m off the mark`);
      assert.ok(r.metrics.maxTiltRad! < 0.1, `tilted ${r.metrics.maxTiltRad} rad on the way`);
      assert.equal(r.spineInterventions, 0);
    });
  }

  test('fails when the gripper cannot close (the cup never leaves its place)', () => {
    const s = task.initialStates(1, 1)[0]!;
    task.apply(world, s);
    const r = runEpisode({
      world,
      task,
      skill: (dt) => serveCupSkill(world, task, dt),
      maxSimSec: 15,
      spine: gripperHeldOpenSpine(task.arm, world.timestepSec),
    });
    assert.equal(r.success, false);
    const cup = new Float64Array(3);
    task.cupPose(world, cup);
    assert.ok(Math.hypot(cup[0]! - s.cupXY[0], cup[1]! - s.cupXY[1]) < 0.05, 'the cup stayed near its start');
  });
});
