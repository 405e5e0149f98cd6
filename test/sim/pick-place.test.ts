import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runPickPlaceEpisode } from '../../src/control/episode-loop.ts';
import { Spine } from '../../src/control/spine.ts';
import { PickPlaceWorld, seededRng } from '../../src/sim/world.ts';

describe('pick-and-place', () => {
  let world: PickPlaceWorld;
  before(async () => {
    world = await PickPlaceWorld.create({ seed: 0 });
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

  test('reset places the cube on the table at a seed-dependent pose', () => {
    const p0 = new Float64Array(3);
    const p1 = new Float64Array(3);
    world.reset(3);
    world.cubePose(p0);
    world.reset(4);
    world.cubePose(p1);
    assert.notDeepEqual(Array.from(p0), Array.from(p1));
    const { spawn, cubeSizeM } = world.layout;
    for (const p of [p0, p1]) {
      assert.ok(p[0]! >= spawn.xMin && p[0]! <= spawn.xMax);
      assert.ok(p[1]! >= spawn.yMin && p[1]! <= spawn.yMax);
      assert.ok(Math.abs(p[2]! - cubeSizeM / 2) < 1e-9);
    }
    assert.equal(world.cubeInBin(), false);
    assert.equal(world.simTimeSec, 0);
    const state = new Float32Array(world.stateDim);
    world.readState(state);
    assert.ok(Math.abs(state[7]! - 0.08) < 1e-6, 'gripper opens fully at reset');
  });

  for (const seed of [0, 1, 2, 3, 4]) {
    test(`succeeds on seed ${seed} with frames at exactly 30 Hz`, async () => {
      const times: number[] = [];
      let lastAction = new Float32Array(0);
      const t0 = performance.now();
      const r = await runPickPlaceEpisode({
        world,
        seed,
        onFrame: (t, state, action) => {
          times.push(t);
          assert.equal(state.length, 8);
          lastAction = action.slice();
        },
      });
      const wallMs = performance.now() - t0;
      assert.equal(r.success, true);
      assert.equal(world.cubeInBin(), true);
      assert.equal(r.spineInterventions, 0, 'the skill stays inside the spine limits');
      assert.equal(r.frames, times.length);
      for (const [k, t] of times.entries()) assert.equal(t, k / 30);
      assert.ok(r.frames >= Math.floor(r.simSec * 30));
      assert.ok(r.simSec < 12);
      assert.ok(lastAction[7]! > 0.07, 'gripper open at the end');
      assert.ok(wallMs < 2000, `episode took ${wallMs} ms wall`);
    });
  }

  test('fails (cube not in bin) when the gripper is forced to stay open', async () => {
    const arm = world.embodiment;
    const lower = [...arm.jointLimits.lower];
    lower[7] = arm.jointLimits.upper[7]!; // the spine holds the gripper fully open
    const spine = new Spine({
      lower,
      upper: arm.jointLimits.upper,
      maxVelocity: [2.5, 2.5, 2.5, 2.5, 3, 3, 3, 0.25],
      tickSec: world.timestepSec,
    });
    const r = await runPickPlaceEpisode({ world, seed: 0, spine });
    assert.equal(r.success, false);
    assert.equal(world.cubeInBin(), false);
    assert.ok(r.spineInterventions > 0);
    assert.equal(r.spineInterventions, spine.stats.clamped);
  });

  test('same seed gives the same final state', async () => {
    const finals: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const r = await runPickPlaceEpisode({ world, seed: 7, maxSimSec: 3 });
      const state = new Float64Array(world.stateDim);
      world.readState(state);
      const cube = new Float64Array(3);
      world.cubePose(cube);
      finals.push([...state, ...cube, r.simSec]);
    }
    assert.deepEqual(finals[0], finals[1]);
  });

  test('a world created with the same seed starts in the same state', async () => {
    const other = await PickPlaceWorld.create({ seed: 11 });
    try {
      world.reset(11);
      const a = new Float64Array(3);
      const b = new Float64Array(3);
      world.cubePose(a);
      other.cubePose(b);
      assert.deepEqual(Array.from(a), Array.from(b));
    } finally {
      other.dispose();
    }
  });
});
