import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  type CommandLayer,
  type PlannerLayer,
  RateScheduler,
  type SchedulerOptions,
} from '../../src/control/scheduler/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { runQueueWaitMs } from '../../src/threads/index.ts';
import { oneChannelSpine, SCHEDULED_LIMITS } from './fixtures/one-channel-spine.ts';

const DT = 0.002; // 500 Hz spine

/**
 * A layer that overruns its budget: the thread blocks (not preempted: the scheduler excuses only time the
 * kernel kept it waiting for a core, so a blocked layer is charged in full however loaded the machine).
 */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A one-channel robot whose feedback is its last target, under a scheduler with the given layers. */
function rig(
  opts: Partial<SchedulerOptions<number>> & { cerebellum: SchedulerOptions<number>['cerebellum'] },
) {
  const { spine, port, events } = oneChannelSpine(DT, SCHEDULED_LIMITS);
  const fb = spine.feedback;
  const plant = {
    sense(t: number) {
      fb.stampSec = t;
      fb.q[0] = port.writes.at(-1)?.[0] ?? 0;
    },
    advance() {},
  };
  // Generous timeouts unless a test is about them: a loaded test machine must not fake a hung layer.
  const s = new RateScheduler<number>({
    spine,
    plant,
    ...opts,
    cerebellum: { timeoutMs: 1000, ...opts.cerebellum },
    ...(opts.perception ? { perception: { timeoutMs: 1000, ...opts.perception } } : {}),
    ...(opts.brain ? { brain: { timeoutMs: 5000, ...opts.brain } } : {}),
  });
  return { s, spine, port, events };
}

/** A cerebellum that follows a plan (a target position) at 0.5 units/s and records what it saw. */
function follower(): CommandLayer & { plan: number; seen: [number, number][] } {
  let x = 0;
  const c = {
    plan: 0,
    seen: [] as [number, number][],
    tick(t: number, cmd: Float64Array) {
      c.seen.push([t, c.plan]);
      const step = 0.5 * 0.004;
      x += Math.max(-step, Math.min(step, c.plan - x));
      cmd[0] = x;
    },
  };
  return c;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

describe('RateScheduler: rates and telemetry', () => {
  test('each layer runs at its own rate on the spine clock, perception before the cerebellum', async () => {
    const order: string[] = [];
    const percT: number[] = [];
    const cerebT: number[] = [];
    const { s, port } = rig({
      perception: {
        rateHz: 50,
        layer: {
          tick(t) {
            percT.push(t);
            order.push('p');
          },
        },
      },
      cerebellum: {
        rateHz: 250,
        layer: {
          tick(t, cmd) {
            cerebT.push(t);
            order.push('c');
            cmd[0] = 0;
          },
        },
      },
    });
    await s.runUntil(1);
    assert.equal(s.ticks, 500);
    assert.equal(port.writes.length, 500);
    assert.equal(percT.length, 50);
    assert.equal(cerebT.length, 250);
    assert.ok(percT.every((t, i) => close(t, i * 0.02)));
    assert.ok(cerebT.every((t, i) => close(t, i * 0.004)));
    assert.deepEqual(order.slice(0, 3), ['p', 'c', 'c']);
    const r = s.report();
    assert.equal(r.layers.spine.ticks, 500);
    assert.equal(r.layers.cerebellum.ticks, 250);
    assert.equal(r.layers.perception.ticks, 50);
    assert.equal(r.layers.brain.ticks, 0);
    assert.equal(r.layers.cerebellum.budgetMs, 10);
    assert.equal(r.layers.spine.budgetMs, 1);
    assert.ok(r.layers.spine.p50Ms <= r.layers.spine.p99Ms && r.layers.spine.p99Ms <= r.layers.spine.maxMs);
    assert.ok(close(r.simSec, 1));
    assert.deepEqual(r.faults, []);
  });

  test('rates below the floor or not dividing the spine rate are refused', () => {
    const layer = { tick() {} };
    for (const [cereb, perc] of [
      [100, 50],
      [250, 20],
      [300, 50],
      [250, 40 / 0.7],
    ] as const) {
      assert.throws(
        () => rig({ cerebellum: { rateHz: cereb, layer }, perception: { rateHz: perc, layer } }),
        (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
        `${cereb} / ${perc} Hz`,
      );
    }
  });

  test('compute time over budget is a deadline miss, counted and not hidden', async () => {
    let n = 0;
    const { s, spine } = rig({
      cerebellum: {
        rateHz: 250,
        budgetMs: 5,
        layer: {
          tick(_t, cmd) {
            n++;
            if (n === 3 || n === 7) blockFor(12);
            cmd[0] = 0;
          },
        },
      },
    });
    await s.runUntil(0.1);
    const r = s.report();
    // The two slow ticks, and no other: preemption by a loaded machine is not a miss.
    assert.equal(r.layers.cerebellum.misses, 2);
    assert.ok(r.layers.cerebellum.maxMs >= 12);
    assert.equal(r.deadlineMisses, 2 + r.layers.spine.misses);
    assert.deepEqual(r.faults, []);
    assert.equal(spine.mode, 'run');
  });
});

describe('RateScheduler: preemption is not compute', () => {
  test('a tick the kernel preempted past its budget is not a miss; a tick that blocked is', async (t) => {
    // Five busy processes pinned to this thread's core: the kernel preempts this thread for them, so a
    // tick that waits 40 ms for the core runs only a fraction of that (40/5 ms plus a time slice).
    execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
    const hogs = Array.from({ length: 5 }, () =>
      spawn('taskset', ['-c', '0', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }),
    );
    t.after(() => {
      for (const h of hogs) h.kill('SIGKILL');
    });
    await new Promise((r) => setTimeout(r, 100));
    let n = 0;
    let preemptedWallMs = 0;
    const { s } = rig({
      cerebellum: {
        rateHz: 250,
        budgetMs: 25,
        // The timeout is the budget: the preempted tick must not time out either.
        timeoutMs: 25,
        layer: {
          tick(_t, cmd) {
            n++;
            if (n === 3) {
              const t0 = performance.now();
              const w0 = runQueueWaitMs();
              while (runQueueWaitMs() - w0 < 40) {}
              preemptedWallMs = performance.now() - t0;
            }
            if (n === 7) blockFor(50);
            cmd[0] = 0;
          },
        },
      },
    });
    await s.runUntil(0.04);
    const c = s.report().layers.cerebellum;
    assert.ok(preemptedWallMs > 40, `the spinning tick took ${preemptedWallMs} ms of wall time`);
    assert.ok(c.preempted >= 1, 'the preempted tick is counted as preempted');
    assert.equal(c.misses, 1, 'only the blocked tick is a miss');
    assert.ok(c.maxWallMs >= preemptedWallMs);
    // Charged in full but for the scheduler noise: a kernel that delays dequeuing a sleeping thread (EEVDF)
    // counts a little of its sleep as run-queue wait.
    assert.ok(c.maxMs >= 40, `the blocked tick was charged ${c.maxMs} ms`);
    assert.equal(s.faults.length, 1);
    assert.equal(s.faults[0]!.tSec, 6 * 0.004, 'the blocked tick timed out');
    assert.match(s.faults[0]!.reason, /^timeout: \d+\.\d+ ms > 25 ms$/);
  });
});

describe('RateScheduler: a command layer with nothing new', () => {
  test('submits nothing: the spine watchdog holds, then stops, and no layer is faulted', async () => {
    const { s, spine, events } = rig({
      cerebellum: {
        rateHz: 250,
        layer: {
          tick(t, cmd) {
            cmd[0] = 0.1;
            return t < 0.05;
          },
        },
      },
    });
    await s.runUntil(0.3);
    assert.equal(spine.stats.commands, 13);
    assert.deepEqual(s.faults, []);
    assert.equal(spine.mode, 'stopped');
    const kinds = events.map((e) => e.kind).filter((k) => k.startsWith('watchdog'));
    assert.deepEqual(kinds, ['watchdog_hold', 'watchdog_stop']);
  });
});

describe('RateScheduler: the brain never blocks the faster layers', () => {
  function slowBrain(
    wallMs: () => number,
    plans: number[],
  ): PlannerLayer<number> & { delivered: number[]; c: ReturnType<typeof follower> } {
    const c = follower();
    let i = 0;
    const b = {
      c,
      delivered: [] as number[],
      start() {
        const plan = plans[i++ % plans.length]!;
        return new Promise<number>((resolve) => setTimeout(() => resolve(plan), wallMs()));
      },
      deliver(plan: number, t: number) {
        b.delivered.push(t);
        c.plan = plan;
      },
    };
    return b;
  }

  test('the cerebellum keeps executing the last plan until the new one lands', async () => {
    const brain = slowBrain(() => 30, [0.5]);
    const { s } = rig({
      cerebellum: { rateHz: 250, layer: brain.c },
      brain: { layer: brain, latencySec: 0.1 },
    });
    s.requestPlan();
    assert.equal(s.planning, true);
    await s.runUntil(0.3);
    assert.equal(brain.delivered.length, 1);
    assert.ok(close(brain.delivered[0]!, 0.1), `landed at ${brain.delivered[0]}`);
    const before = brain.c.seen.filter(([t]) => t < 0.1 - 1e-9);
    assert.equal(before.length, 25, 'cerebellum ticks while the brain thought');
    assert.ok(before.every(([, p]) => p === 0));
    assert.ok(brain.c.seen.filter(([t]) => t >= 0.1 - 1e-9).every(([, p]) => p === 0.5));
    assert.equal(s.planning, false);
    assert.equal(s.report().layers.brain.ticks, 1);
    assert.ok(s.report().layers.brain.maxMs >= 25);
  });

  test('simulated time is deterministic whatever the wall-clock delays', async () => {
    const run = async () => {
      const brain = slowBrain(() => Math.random() * 15, [0.6, -0.4, 0.2]);
      const { s, port } = rig({
        cerebellum: { rateHz: 250, layer: brain.c },
        brain: { layer: brain, latencySec: 0.05 },
      });
      s.requestPlan();
      await s.runUntil(0.2);
      s.requestPlan();
      await s.runUntil(0.5);
      s.requestPlan();
      await s.runUntil(0.8);
      return { writes: port.writes, delivered: brain.delivered };
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a.delivered, b.delivered);
    assert.equal(a.delivered.length, 3);
    assert.deepEqual(a.writes, b.writes);
  });

  test('realtime mode paces to the wall clock and picks the plan up when it arrives', async () => {
    const brain = slowBrain(() => 5, [0.3]);
    const { s, port } = rig({
      cerebellum: { rateHz: 250, layer: brain.c },
      brain: { layer: brain },
      realtime: true,
    });
    s.requestPlan();
    const t0 = performance.now();
    await s.runUntil(0.1);
    assert.equal(s.ticks, 50);
    assert.equal(port.writes.length, 50);
    assert.equal(brain.delivered.length, 1);
    assert.ok(brain.delivered[0]! > 0, 'landed on a later tick, not at once');
    // Pacing: 0.1 s of robot time cannot finish in much less wall time.
    assert.ok(performance.now() - t0 >= 90);
  });
});

describe('RateScheduler: a fault above the spine is a safe stop within the tick', () => {
  /** Runs a moving robot and injects `fault` into the cerebellum at tick 50 (t = 0.1 s). */
  async function faultAt(kind: 'throw' | 'nan' | 'timeout') {
    let calls = 0;
    let x = 0;
    const { s, spine, port, events } = rig({
      cerebellum: {
        rateHz: 250,
        timeoutMs: 50,
        layer: {
          tick(t, cmd) {
            calls++;
            x += 0.5 * 0.004;
            cmd[0] = x;
            if (close(t, 0.1)) {
              if (kind === 'throw') throw new Error('skill crashed');
              if (kind === 'nan') cmd[0] = Number.NaN;
              if (kind === 'timeout') {
                blockFor(80);
                cmd[0] = 0.9;
              }
            }
          },
        },
      },
    });
    await s.runUntil(0.3);
    s.report();
    return { s, spine, port, events, calls };
  }

  for (const kind of ['throw', 'nan', 'timeout'] as const) {
    test(`cerebellum ${kind}`, async () => {
      const { s, spine, port, events, calls } = await faultAt(kind);
      assert.equal(s.faults.length, 1);
      const f = s.faults[0]!;
      assert.equal(f.layer, 'cerebellum');
      assert.ok(close(f.tSec, 0.1));
      assert.match(f.reason, kind === 'throw' ? /skill crashed/ : kind === 'nan' ? /non-finite/ : /timeout/);
      assert.equal(calls, 26, 'not run again after the fault');
      assert.deepEqual(s.faultedLayers, ['cerebellum']);
      // The write of the fault tick (index 50) already decelerates, and speed never rises after it.
      const xs = port.writes.map((w) => w[0]!);
      const v = xs
        .slice(48)
        .map((w, i, a) => (i === 0 ? 0 : (w - a[i - 1]!) / DT))
        .slice(1);
      assert.ok(v[1]! < v[0]!, `decelerating at the fault tick: ${v[0]} -> ${v[1]}`);
      for (let i = 2; i < v.length; i++) assert.ok(v[i]! <= v[i - 1]! + 1e-12 && v[i]! >= 0);
      assert.equal(spine.mode, 'stopped');
      assert.ok(Math.max(...xs) < 0.9, 'the late command never reached the actuators');
      assert.equal(spine.stats.rejectedCommands, 0, 'the NaN never reached the spine');
      const e = events.find((x) => x.kind === 'estop')!;
      assert.equal(e.category, 2);
      assert.match(e.target!, /^cerebellum: /);
      assert.equal(s.report().layers.cerebellum.faults, 1);
      // After the fault is dealt with, the layers run again.
      assert.equal(s.resume(), true);
      await s.runUntil(0.4);
      assert.equal(spine.mode, 'run');
      assert.deepEqual(s.faultedLayers, []);
    });
  }

  test('a perception exception stops the robot; the fault category is configurable', async () => {
    const { s, spine } = rig({
      faultStopCategory: 0,
      perception: {
        rateHz: 50,
        layer: {
          tick(t) {
            if (t > 0.05) throw new Error('camera gone');
          },
        },
      },
      cerebellum: { rateHz: 250, layer: follower() },
    });
    await s.runUntil(0.2);
    assert.equal(s.faults.length, 1);
    assert.deepEqual([s.faults[0]!.layer, s.faults[0]!.tSec], ['perception', 0.06]);
    assert.equal(spine.mode, 'off');
  });

  test('brain crash, garbage plan and hang each end in a stop', async () => {
    const cases: [string, PlannerLayer<number>, RegExp][] = [
      ['crash', { start: () => Promise.reject(new Error('planner died')), deliver() {} }, /planner died/],
      [
        'garbage',
        {
          start: async () => 42,
          deliver(plan) {
            throw new Error(`unknown skill in plan ${plan}`);
          },
        },
        /rejected plan: unknown skill/,
      ],
      [
        'sync throw',
        {
          start: () => {
            throw new Error('no model');
          },
          deliver() {},
        },
        /no model/,
      ],
    ];
    for (const [name, layer, reason] of cases) {
      const { s, spine } = rig({ cerebellum: { rateHz: 250, layer: follower() }, brain: { layer } });
      s.requestPlan();
      await s.runUntil(0.05);
      assert.equal(s.faults.length, 1, name);
      assert.equal(s.faults[0]!.layer, 'brain');
      assert.match(s.faults[0]!.reason, reason);
      assert.ok(close(s.faults[0]!.tSec, 0.004), `${name} at ${s.faults[0]!.tSec}`);
      assert.equal(spine.stopCategory, 2);
    }
    let signal: AbortSignal | undefined;
    const hang: PlannerLayer<number> = {
      start(_t, sig) {
        signal = sig;
        return new Promise<number>(() => {});
      },
      deliver() {},
    };
    const { s, spine } = rig({
      cerebellum: { rateHz: 250, layer: follower() },
      brain: { layer: hang, timeoutMs: 30, latencySec: 0.02 },
    });
    s.requestPlan();
    await s.runUntil(0.1);
    assert.equal(s.faults.length, 1);
    assert.match(s.faults[0]!.reason, /timeout/);
    assert.ok(close(s.faults[0]!.tSec, 0.02), 'at the landing time');
    assert.equal(signal?.aborted, true);
    assert.equal(spine.mode, 'stopped');
  });
});
