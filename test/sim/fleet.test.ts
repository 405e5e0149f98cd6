import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetSimulator } from '../../src/sim/fleet/index.ts';

const bits = (a: Float64Array) => Array.from(new BigUint64Array(Float64Array.from(a).buffer), String);

/** Positions, velocities, time and last sensor sample of every robot, as bit patterns. */
function snapshot(fleet: FleetSimulator): string[][] {
  return Array.from({ length: fleet.robots }, (_, k) => [
    ...bits(fleet.qpos(k)),
    ...bits(fleet.qvel(k)),
    ...bits(fleet.sensors(k)),
    ...bits(Float64Array.of(fleet.simTimeSec(k))),
  ]);
}

describe('FleetSimulator', () => {
  test('robot trajectories are bit-identical with 1 and 2 workers, and differ between seeds', async () => {
    const runs: string[][][] = [];
    for (const workers of [1, 2]) {
      const fleet = await FleetSimulator.start({ model: 'humanoid', robots: 3, workers, seed: 7 });
      try {
        assert.equal(fleet.workers, workers);
        // A command on robot 1 only, so commands are part of what must be reproduced.
        const ctrl = fleet.ctrl(1);
        ctrl[0] = (ctrl[0] ?? 0) + 0.2;
        await fleet.run(0.3);
        runs.push(snapshot(fleet));
        assert.deepEqual(fleet.stats().divergences, []);
      } finally {
        await fleet.stop();
      }
    }
    assert.deepEqual(runs[0], runs[1]);
    assert.notDeepEqual(runs[0]?.[0], runs[0]?.[2], 'seeds 7 and 9 start apart');
  });

  test('one call of step(n) reproduces n calls of step(1) bit for bit', async () => {
    const runs: string[][][] = [];
    for (const oneCall of [true, false]) {
      const fleet = await FleetSimulator.start({ model: 'humanoid', robots: 2, workers: 2, seed: 3 });
      try {
        fleet.ctrl(0)[1] = (fleet.ctrl(0)[1] ?? 0) - 0.15;
        if (oneCall) await fleet.step(12);
        else for (let b = 0; b < 12; b++) await fleet.step(1);
        assert.equal(fleet.stats().batches, 12);
        runs.push(snapshot(fleet));
      } finally {
        await fleet.stop();
      }
    }
    assert.deepEqual(runs[0], runs[1]);
    await assert.rejects(
      FleetSimulator.start({ model: 'arm7', robots: 1, workers: 1 }).then(async (f) => {
        try {
          await f.step(0);
        } finally {
          await f.stop();
        }
      }),
      /positive integer/,
    );
  });

  test('sensordata of every step of a batch lands in shared memory', async () => {
    const fleet = await FleetSimulator.start({ model: 'arm7', robots: 2, workers: 1 });
    try {
      const { nsensordata, stepsPerBatch } = fleet.layout;
      assert.ok(nsensordata > 0);
      assert.equal(stepsPerBatch, 5, '10 ms batches of 2 ms steps');
      await fleet.step(2);
      const history = fleet.sensorHistory(0);
      assert.equal(history.length, nsensordata * stepsPerBatch);
      assert.ok(history.every(Number.isFinite));
      assert.deepEqual(history.subarray((stepsPerBatch - 1) * nsensordata), fleet.sensors(0));
      assert.ok(Math.abs(fleet.simTimeSec(0) - 0.02) < 1e-12);
    } finally {
      await fleet.stop();
    }
  });

  test('restoring a saved state and stepping reproduces the trajectory bit for bit', async () => {
    const fleet = await FleetSimulator.start({ model: 'humanoid', robots: 2, workers: 2 });
    try {
      await fleet.run(0.1);
      const saved = await fleet.saveState(1);
      await fleet.run(0.2);
      const first = snapshot(fleet)[1];
      await fleet.restoreState(1, saved);
      // The other robot keeps going; robot 1 replays from the saved state.
      await fleet.run(0.2);
      assert.deepEqual(snapshot(fleet)[1], first);
      await assert.rejects(fleet.restoreState(1, new Float64Array(3)), /expected/);
    } finally {
      await fleet.stop();
    }
  });

  test('the hold controller keeps the humanoid standing', async () => {
    const fleet = await FleetSimulator.start({ model: 'humanoid', robots: 2, workers: 1 });
    try {
      await fleet.run(2);
      for (let k = 0; k < 2; k++) assert.ok(fleet.qpos(k)[2]! > 0.85, `robot ${k} pelvis height`);
    } finally {
      await fleet.stop();
    }
  });

  test('a diverging robot is reset and reported; the others are untouched', async () => {
    const reference = await FleetSimulator.start({ model: 'arm7', robots: 3, workers: 2 });
    const fleet = await FleetSimulator.start({ model: 'arm7', robots: 3, workers: 2 });
    try {
      await Promise.all([reference.run(0.05), fleet.run(0.05)]);
      await fleet.setQvel(1, new Float64Array(fleet.layout.nv).fill(1e30));
      const hugeVelocity = await fleet.step();
      reference.setCtrl(0, reference.ctrl(0)); // no-op: same commands as the fleet's robot 0
      await reference.step();
      assert.equal(hugeVelocity.length, 1);
      assert.equal(hugeVelocity[0]?.robot, 1);
      assert.match(hugeVelocity[0]?.reason ?? '', /auto-reset|non-finite/);

      const bad = Float64Array.from(fleet.ctrl(2));
      bad[3] = Number.NaN;
      fleet.setCtrl(2, bad);
      const nanCtrl = await fleet.step();
      await reference.step();
      assert.deepEqual(
        nanCtrl.map((d) => [d.robot, d.reason]),
        [[2, 'non-finite ctrl[3]']],
      );
      assert.ok(fleet.ctrl(2).every(Number.isFinite), 'the hold command replaces the NaN');
      await Promise.all([reference.run(0.1), fleet.run(0.1)]);
      const stats = fleet.stats();
      assert.equal(stats.divergences.length, 2);
      assert.ok(stats.divergences.every((d) => d.atSimSec > 0.05));
      assert.ok(Math.abs(stats.minSimSec - 0.17) < 1e-9, 'reset robots keep their clocks');
      for (let k = 1; k < 3; k++) assert.ok(fleet.qpos(k).every(Number.isFinite));
      assert.deepEqual(snapshot(fleet)[0], snapshot(reference)[0], 'robot 0 never noticed');
    } finally {
      await Promise.all([fleet.stop(), reference.stop()]);
    }
  });

  test('a crashed worker is restarted and its robots resume from their checkpoints', async () => {
    const fleet = await FleetSimulator.start({
      model: 'arm7',
      robots: 4,
      workers: 2,
      checkpointEveryBatches: 5,
    });
    try {
      await fleet.step(7); // checkpoint after batch 5 (t = 0.05 s)
      fleet.injectWorkerCrash(1);
      while (fleet.stats().restarts.length === 0) await new Promise((r) => setTimeout(r, 20));
      // Goes to the replacement worker, which takes it once it has restored its robots.
      await fleet.step();
      const stats = fleet.stats();
      assert.equal(stats.restarts.length, 1);
      assert.equal(stats.restarts[0]?.worker, 1);
      assert.deepEqual(stats.restarts[0]?.robots, [2, 3]);
      assert.ok(stats.minSimSec < fleet.simTimeSec(0), 'robots of the crashed worker lag behind');
      assert.ok(Math.abs(fleet.simTimeSec(0) - 0.08) < 1e-9);
      assert.ok(Math.abs(stats.minSimSec - 0.06) < 1e-9, 'they resumed from the 0.05 s checkpoint');
      await fleet.step(3);
      assert.ok(fleet.qpos(3).every(Number.isFinite));
      assert.ok(fleet.simTimeSec(3) > stats.minSimSec);
    } finally {
      await fleet.stop();
    }
  });

  test('bad arguments are refused', async () => {
    await assert.rejects(FleetSimulator.start({ model: 'arm7', robots: 0 }), /positive integer/);
    const fleet = await FleetSimulator.start({ model: 'arm7', robots: 1 });
    try {
      assert.equal(fleet.workers, 1, 'never more workers than robots');
      assert.throws(() => fleet.qpos(1), /no robot 1/);
      assert.throws(() => fleet.setCtrl(0, [1, 2]), /expected 8/);
    } finally {
      await fleet.stop();
    }
  });
});
