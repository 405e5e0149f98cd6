import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOLE_SEGMENTS, NIST_ROUND_PEGS, pegBoardScene } from '../../src/sim/scenes/peg-board.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { PegInsertionTask } from '../../src/sim/tasks/peg-insertion.ts';

describe('factory peg board', () => {
  let world: SceneWorld;
  const task = new PegInsertionTask();
  before(async () => {
    world = await SceneWorld.create(pegBoardScene());
  });
  after(() => world.dispose());

  test('compiles with four ring bores, the held peg, the grasp weld and a 0.5 ms step', () => {
    assert.equal(world.timestepSec, 0.0005);
    for (const p of NIST_ROUND_PEGS) {
      assert.ok(world.findId('site', `hole/${p.name}`) >= 0);
      assert.ok(world.findId('geom', `hole/${p.name}/${HOLE_SEGMENTS - 1}`) >= 0);
    }
    assert.ok(world.findId('equality', 'grasp') >= 0);
    assert.equal(world.armDof, 7);
  });

  test('initial states are deterministic per seed and differ across seeds', () => {
    assert.deepEqual(task.initialStates(5, 3), task.initialStates(5, 3));
    assert.notDeepEqual(task.initialStates(5, 3), task.initialStates(6, 3));
  });

  test('success is false at the start and true with the peg placed in the bore', () => {
    const s = task.initialStates(2, 1)[0]!;
    task.apply(world, s);
    assert.equal(task.success(world), false);
    assert.ok(task.metrics(world).insertionDepthM! < 0);
    // Construct the success state: the peg 20 mm down the true hole, axis vertical (tip down).
    const hole = new Float64Array(3);
    task.holeTop(world, hole);
    world.setFreePose('peg', [hole[0]!, hole[1]!, hole[2]! - 0.02 + 0.025], [0, 1, 0, 0]);
    world.forward();
    const m = task.metrics(world);
    assert.ok(Math.abs(m.insertionDepthM! - 0.02) < 1e-6);
    assert.ok(m.lateralErrorM! < 1e-6);
    assert.equal(task.success(world), true);
  });
});
