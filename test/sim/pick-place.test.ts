import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runPickPlaceEpisode } from '../../src/control/episode-loop.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { PickPlaceTask } from '../../src/sim/tasks/pick-place.ts';
import { gripperHeldOpenSpine, seededStates } from './fixtures/scene-tasks.ts';

describe('pick-and-place (factory): cube into bin', () => {
  let world: SceneWorld;
  const task = new PickPlaceTask();
  before(async () => {
    world = await SceneWorld.create(pickPlaceScene());
  });
  after(() => world.dispose());

  test('seeded PRNG is deterministic and in [0, 1)', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    for (let i = 0; i < 1000; i++) {
      const x = a.next();
      assert.equal(x, b.next());
      assert.ok(x >= 0 && x < 1);
    }
    assert.notEqual(seededRng(1).next(), seededRng(2).next());
  });

  test('initial states are deterministic per seed, inside the spawn region, and differ across seeds', () => {
    const { spawn } = task.layout;
    for (const s of seededStates(task, 9, 50)) {
      assert.ok(s.cubeXY[0] >= spawn.xMin && s.cubeXY[0] <= spawn.xMax);
      assert.ok(s.cubeXY[1] >= spawn.yMin && s.cubeXY[1] <= spawn.yMax);
      assert.ok(Math.abs(s.cubeYaw) <= spawn.yawMax);
      assert.deepEqual(s.arm, task.arm.home);
    }
  });

  test('reset writes the cube on the table at the seed-dependent pose, arm at home, gripper open', () => {
    const p0 = new Float64Array(3);
    const p1 = new Float64Array(3);
    const s3 = task.reset(world, seededRng(3));
    task.cubePose(world, p0);
    task.reset(world, seededRng(4));
    task.cubePose(world, p1);
    assert.notDeepEqual(Array.from(p0), Array.from(p1));
    assert.equal(p0[0], s3.cubeXY[0]);
    assert.equal(p0[1], s3.cubeXY[1]);
    assert.ok(Math.abs(p1[2]! - task.layout.cubeSizeM / 2) < 1e-9);
    assert.equal(task.success(world), false);
    assert.equal(world.simTimeSec, 0);
    const state = new Float32Array(world.stateDim);
    world.readState(state);
    assert.ok(Math.abs(state[7]! - 0.08) < 1e-6, 'gripper opens fully at reset');
  });

  test('success is true exactly when the cube rests inside the bin', () => {
    task.reset(world, seededRng(1));
    const { bin, tableTopZ, cubeSizeM } = task.layout;
    const z = tableTopZ + bin.wallM + cubeSizeM / 2;
    world.setFreePose('cube', [bin.x + 0.02, bin.y - 0.02, z]);
    world.forward();
    assert.equal(task.success(world), true);
    assert.ok(task.metrics(world).cubeToBinM! < 0.03);
    // Just outside a wall, and on the rim height above the bin: both fail.
    world.setFreePose('cube', [bin.x + bin.innerHalfM + 0.02, bin.y, z]);
    assert.equal(task.success(world), false);
    world.setFreePose('cube', [bin.x, bin.y, tableTopZ + bin.wallM + bin.wallHeightM + 0.01]);
    assert.equal(task.success(world), false);
  });

  for (const seed of [0, 1, 2, 3, 4]) {
    test(`scripted skill succeeds on seed ${seed} with frames at exactly 30 Hz`, () => {
      const times: number[] = [];
      let lastAction = new Float32Array(0);
      const r = runPickPlaceEpisode({
        world,
        seed,
        task,
        onFrame: (t, state, action) => {
          times.push(t);
          assert.equal(state.length, 8);
          lastAction = action.slice();
        },
      });
      assert.equal(r.success, true);
      assert.equal(r.finished, true);
      assert.equal(task.success(world), true);
      assert.equal(r.spineInterventions, 0, 'the skill stays inside the spine limits');
      assert.equal(r.frames, times.length);
      for (const [k, t] of times.entries()) assert.equal(t, k / 30);
      assert.ok(r.frames >= Math.floor(r.simSec * 30));
      assert.ok(r.simSec < 12);
      assert.ok(r.metrics.maxLiftM! > 0.1, 'the cube was carried over the wall, not pushed');
      assert.ok(lastAction[7]! > 0.07, 'gripper open at the end');
    });
  }

  test('fails (cube not in bin) when the gripper is forced to stay open', () => {
    const spine = gripperHeldOpenSpine(task.arm, world.timestepSec);
    const r = runPickPlaceEpisode({ world, seed: 0, spine });
    assert.equal(r.success, false);
    assert.equal(task.success(world), false);
    assert.ok(r.metrics.maxLiftM! < 0.01, 'nothing was lifted');
    assert.ok(r.spineInterventions > 0);
    assert.equal(r.spineInterventions, spine.stats.clamped);
  });

  test('same seed gives the same final state', () => {
    const finals: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const r = runPickPlaceEpisode({ world, seed: 7, maxSimSec: 3 });
      const state = new Float64Array(world.stateDim);
      world.readState(state);
      const cube = new Float64Array(3);
      task.cubePose(world, cube);
      finals.push([...state, ...cube, r.simSec]);
    }
    assert.deepEqual(finals[0], finals[1]);
  });

  test('a second world reset from the same seed starts in the same state', async () => {
    const other = await SceneWorld.create(pickPlaceScene());
    try {
      task.reset(world, seededRng(11));
      const a = new Float64Array(3);
      const b = new Float64Array(3);
      task.cubePose(world, a);
      new PickPlaceTask().reset(other, seededRng(11));
      new PickPlaceTask().cubePose(other, b);
      assert.deepEqual(Array.from(a), Array.from(b));
      assert.deepEqual(Array.from(world.qpos), Array.from(other.qpos));
    } finally {
      other.dispose();
    }
  });
});
