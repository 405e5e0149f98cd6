import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runEpisode } from '../../src/control/episode-loop.ts';
import { TidySkill } from '../../src/control/skills/tidy.ts';
import { isTgError } from '../../src/errors/index.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { objectHalfHeight, TIDY_LAYOUT, tidyScene } from '../../src/sim/scenes/tidy.ts';
import { TidyTask } from '../../src/sim/tasks/tidy.ts';
import { seededStates } from './fixtures/scene-tasks.ts';

describe('home: tidy scattered objects into a box', () => {
  let world: SceneWorld;
  const task = new TidyTask();
  const names = TIDY_LAYOUT.objects.map((o) => o.name);
  before(async () => {
    world = await SceneWorld.create(tidyScene());
  });
  after(() => world.dispose());

  /** Puts object `name` at rest on the box floor at offset (dx, dy) from the box centre. */
  const putInBox = (name: string, dx: number) => {
    const o = TIDY_LAYOUT.objects.find((q) => q.name === name)!;
    const { box, tableTopZ } = TIDY_LAYOUT;
    world.setFreePose(name, [box.x + dx, box.y, tableTopZ + box.wallM + objectHalfHeight(o)]);
  };

  /** The scripted tidy-up in the episode loop from the world as it is; the skill for its counters. */
  const tidyUp = (maxSimSec = 30) => {
    let skill: TidySkill | undefined;
    const r = runEpisode({
      world,
      task,
      skill: (dt) => {
        skill = new TidySkill(world, task, dt);
        return skill;
      },
      maxSimSec,
    });
    return { ...r, objectsDone: skill?.objectsDone };
  };

  test('initial states are deterministic per seed and keep the objects apart on the table', () => {
    const { scatter, minSeparationM } = TIDY_LAYOUT;
    for (const s of seededStates(task, 7, 40)) {
      assert.equal(s.objects.length, names.length);
      for (const [i, a] of s.objects.entries()) {
        assert.ok(a.xy[0] >= scatter.xMin && a.xy[0] <= scatter.xMax);
        assert.ok(a.xy[1] >= scatter.yMin && a.xy[1] <= scatter.yMax);
        for (const b of s.objects.slice(i + 1)) {
          assert.ok(Math.hypot(a.xy[0] - b.xy[0], a.xy[1] - b.xy[1]) >= minSeparationM);
        }
      }
    }
  });

  test('a scatter region too small for the separation is a clear error, not a hang', () => {
    const cramped = new TidyTask({ layout: { ...TIDY_LAYOUT, minSeparationM: 1 } });
    assert.throws(
      () => cramped.initialStates(1, 1),
      (e: unknown) => isTgError(e) && e.code === 'CONFIG_INVALID' && /carton|can/.test(e.message),
    );
    const s = task.initialStates(1, 1)[0]!;
    assert.throws(
      () => task.apply(world, { ...s, objects: s.objects.slice(1) }),
      (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
    );
  });

  test('success counts every object inside the box, and only then', () => {
    task.apply(world, task.initialStates(2, 1)[0]!);
    assert.equal(task.success(world), false);
    assert.equal(task.metrics(world).objectsInBox, 0);
    putInBox('block', -0.08);
    putInBox('can', 0);
    world.forward();
    assert.deepEqual(task.metrics(world), { objectsInBox: 2, fractionInBox: 2 / 3 });
    assert.equal(task.success(world), false);
    putInBox('carton', 0.08);
    world.forward();
    assert.equal(task.success(world), true);
  });

  for (const [i, s] of task.initialStates(1, 2).entries()) {
    test(`the scripted tidy-up puts all objects away from initial state ${i} of seed 1`, () => {
      task.apply(world, s);
      const r = tidyUp();
      assert.equal(r.success, true, JSON.stringify(r.metrics));
      assert.equal(r.finished, true);
      assert.equal(r.objectsDone, names.length);
      assert.equal(r.spineInterventions, 0);
    });
  }

  test('objects already in the box are left alone; the episode is shorter', () => {
    task.apply(world, task.initialStates(1, 1)[0]!);
    putInBox('block', -0.08);
    putInBox('carton', 0.08);
    world.forward();
    const r = tidyUp();
    assert.equal(r.success, true, JSON.stringify(r.metrics));
    assert.equal(r.objectsDone, 1);
    assert.ok(r.simSec < 12);
  });

  test('with everything already away the skill is finished before it starts', () => {
    task.apply(world, task.initialStates(1, 1)[0]!);
    putInBox('block', -0.08);
    putInBox('can', 0);
    putInBox('carton', 0.08);
    world.forward();
    const r = tidyUp();
    assert.equal(r.finished, true);
    assert.equal(r.simSec, 0);
    assert.equal(r.success, true);
  });

  test('an unfinished episode (time limit) is judged by where the objects are', () => {
    task.apply(world, task.initialStates(1, 1)[0]!);
    const r = tidyUp(8);
    assert.equal(r.finished, false);
    assert.equal(r.success, false);
    assert.ok(r.metrics.objectsInBox! >= 1 && r.metrics.objectsInBox! < 3, JSON.stringify(r.metrics));
  });
});
