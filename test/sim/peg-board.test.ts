/**
 * The factory peg board (NIST assembly task board 1 round pegs) and its insertion task, then the scripted
 * insertion of the 8 mm peg (0.1 mm diametral clearance) on it, in one compiled world.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runPegInsertion } from '../../src/control/skills/peg-insert.ts';
import { HOLE_SEGMENTS, NIST_ROUND_PEGS, pegBoardScene } from '../../src/sim/scenes/peg-board.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { PegInsertionTask } from '../../src/sim/tasks/peg-insertion.ts';
import { seededStates } from './fixtures/scene-tasks.ts';

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
    seededStates(task, 5, 3);
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

  describe('scripted 8 mm peg insertion (0.1 mm diametral clearance)', () => {
    // A factory cell has to insert every time: each seeded start (board shift, arm jitter, up to 2 mm of
    // perception error) must go in, without the spine stepping in and without forcing a jam.
    const states = task.initialStates(1, 8);
    states.forEach((s, i) => {
      test(`inserts to depth from initial state ${i} of seed 1`, () => {
        task.apply(world, s);
        const hole = new Float64Array(3);
        task.perceivedHoleTop(world, hole);
        const r = runPegInsertion({ world, task, skill: { holeTop: hole, tipOffsetM: 0.05 } });
        assert.equal(r.phase, 'done');
        assert.equal(r.success, true);
        assert.equal(task.success(world), true);
        const m = task.metrics(world);
        assert.ok(m.insertionDepthM! > 0.019, `depth ${m.insertionDepthM}`);
        assert.ok(m.maxContactForceN! < 25, `max contact force ${m.maxContactForceN} N`);
        assert.equal(r.spineInterventions, 0);
      });
    });

    test('fails when the hole is misaligned beyond the search radius', () => {
      const s = { ...states[0]!, holeErrorXY: [0.01, 0] as [number, number] };
      task.apply(world, s);
      const hole = new Float64Array(3);
      task.perceivedHoleTop(world, hole);
      const r = runPegInsertion({ world, task, skill: { holeTop: hole, tipOffsetM: 0.05 } });
      assert.equal(r.phase, 'failed');
      assert.equal(r.success, false);
      assert.ok(r.searchRadiusReachedM > 0.004, 'gave up only after searching the whole spiral');
      assert.equal(task.success(world), false);
    });
  });
});
