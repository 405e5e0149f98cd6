import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runPegInsertion } from '../../src/control/skills/peg-insert.ts';
import { pegBoardScene } from '../../src/sim/scenes/peg-board.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { PegInsertionTask } from '../../src/sim/tasks/peg-insertion.ts';

describe('scripted 8 mm peg insertion (0.1 mm diametral clearance)', () => {
  let world: SceneWorld;
  const task = new PegInsertionTask();
  before(async () => {
    world = await SceneWorld.create(pegBoardScene());
  });
  after(() => world.dispose());

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
