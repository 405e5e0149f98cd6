/**
 * Brain placement: the seeded link model in simulated time (latency, jitter, loss, retries, late replies).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BrainLink,
  type BrainLinkOptions,
  type LinkPoll,
  PLACEMENTS,
} from '../../src/control/brain/brain-link.ts';
import { BuiltinPlanner } from '../../src/control/brain/builtin-planner.ts';
import type { BrainPlan, Planner, PlanRequest } from '../../src/control/brain/planner.ts';
import { pickPlaceWorld } from './brain-worlds.ts';

/** Counts calls; answers with the built-in planner. */
class CountingPlanner implements Planner {
  readonly name = 'builtin';
  calls = 0;
  private readonly inner = new BuiltinPlanner();
  plan(request: PlanRequest): Promise<BrainPlan> {
    this.calls++;
    return this.inner.plan(request);
  }
}

const request = (instruction = 'put the cube in the bin'): PlanRequest => ({
  instruction,
  world: pickPlaceWorld(),
});
const STEP_SEC = 0.001;

/** Polls every simulated millisecond from `fromSec` until the request resolves, awaiting planner work. */
async function run(link: BrainLink, fromSec = 0, maxSec = 10): Promise<LinkPoll & { atSec: number }> {
  for (let k = Math.round(fromSec / STEP_SEC); k * STEP_SEC <= maxSec; k++) {
    const pending = link.settled();
    if (pending) await pending;
    const r = link.poll(k * STEP_SEC);
    if (r.status === 'delivered' || r.status === 'failed') return { ...r, atSec: k * STEP_SEC };
  }
  assert.fail('the link neither delivered nor failed');
}

const link = (opts: BrainLinkOptions = {}, planner: Planner = new BuiltinPlanner()) =>
  new BrainLink(planner, { computeMs: 5, ...opts });

describe('BrainLink: latency', () => {
  test('onboard: the plan is there after the compute time only', async () => {
    const l = link({ placement: 'onboard' });
    assert.deepEqual(l.poll(0), { status: 'idle' });
    l.send(request(), 1);
    const r = await run(l, 1);
    assert.equal(r.status, 'delivered');
    assert.ok(Math.abs(r.atSec - 1.005) < 1e-9, `arrived at ${r.atSec}`);
    assert.equal(r.status === 'delivered' && r.plan.steps.length, 2);
  });

  test('a 40 ms cloud link without jitter delivers after exactly 2 x 40 + 5 ms, not before', async () => {
    const l = link({ placement: 'cloud', jitterMs: 0, lossRate: 0 });
    l.send(request(), 2);
    await l.settled();
    assert.deepEqual(l.poll(2.0849), { status: 'waiting' });
    const r = l.poll(2.085);
    assert.equal(r.status, 'delivered');
    if (r.status !== 'delivered') return;
    assert.equal(r.sentSec, 2);
    assert.ok(Math.abs(r.arrivedSec - 2.085) < 1e-12);
    assert.equal(r.attempts, 1);
    assert.ok(Math.abs(l.stats.latenciesMs[0]! - 85) < 1e-9);
    // The result stays until the next request.
    assert.equal(l.poll(5).status, 'delivered');
  });

  test('edge is faster than cloud; jitter stays within its bounds; the same seed gives the same arrivals', async () => {
    const latencies = async (placement: 'edge' | 'cloud', seed: number) => {
      const l = link({ placement, lossRate: 0, seed });
      for (let i = 0; i < 50; i++) {
        l.send(request(), i);
        await run(l, i, i + 1);
      }
      return l.stats.latenciesMs;
    };
    const edge = await latencies('edge', 7);
    const cloud = await latencies('cloud', 7);
    const { oneWayMs, jitterMs } = PLACEMENTS.cloud;
    for (const ms of cloud) {
      assert.ok(
        ms >= 2 * (oneWayMs - jitterMs) + 5 - 1e-9 && ms <= 2 * (oneWayMs + jitterMs) + 5 + 1e-9,
        `${ms}`,
      );
    }
    assert.ok(new Set(cloud.map((ms) => ms.toFixed(6))).size > 10, 'jitter varies the latency');
    assert.ok(Math.max(...edge) < Math.min(...cloud));
    assert.deepEqual(await latencies('cloud', 7), cloud);
    assert.notDeepEqual(await latencies('cloud', 8), cloud);
  });
});

describe('BrainLink: loss, retries and timeouts', () => {
  test('a link that loses everything gives up after maxAttempts timeouts, never reaching the planner', async () => {
    const planner = new CountingPlanner();
    const l = link({ placement: 'cloud', lossRate: 1, timeoutMs: 300, maxAttempts: 3 }, planner);
    l.send(request(), 0);
    const r = await run(l);
    assert.equal(r.status, 'failed');
    assert.ok(Math.abs(r.atSec - 0.9) < 1e-9, `gave up at ${r.atSec}`);
    assert.equal(
      r.status === 'failed' && r.reason,
      'no plan from the cloud brain after 3 attempts of 300 ms',
    );
    assert.equal(planner.calls, 0);
    assert.deepEqual(
      l.events.map((e) => e.kind),
      ['sent', 'lost', 'timeout', 'sent', 'lost', 'timeout', 'sent', 'lost', 'timeout', 'gave_up'],
    );
    assert.deepEqual(
      l.events.filter((e) => e.kind === 'sent').map((e) => e.tSec),
      [0, 0.3, 0.6],
    );
    assert.equal(l.stats.lostUplink, 3);
    assert.equal(l.stats.failed, 1);
  });

  test('with 30% loss most requests arrive, the retried ones after at least one timeout', async () => {
    const l = link({ placement: 'cloud', lossRate: 0.3, timeoutMs: 250, maxAttempts: 3, seed: 42 });
    let delivered = 0;
    let retried = 0;
    for (let i = 0; i < 200; i++) {
      l.send(request(), i * 2);
      const r = await run(l, i * 2, i * 2 + 1);
      if (r.status !== 'delivered') continue;
      delivered++;
      if (r.attempts > 1) {
        retried++;
        assert.ok(r.arrivedSec - r.sentSec >= 0.25 * (r.attempts - 1), 'a retry waits out the timeout');
      }
    }
    // Per attempt P(both messages arrive) = 0.49, so P(3 failures) = 0.51^3 = 13%.
    assert.ok(delivered >= 160 && delivered <= 188, `${delivered} of 200 delivered`);
    assert.ok(retried > 40, `${retried} needed a retry`);
    assert.equal(l.stats.requests, 200);
    assert.equal(l.stats.delivered, delivered);
    assert.ok(l.stats.lostUplink > 0 && l.stats.lostDownlink > 0);
    assert.equal(l.stats.attempts, l.events.filter((e) => e.kind === 'sent').length);
  });

  test('a lost reply still costs the planner a call; the retry is planned again', async () => {
    // Find a seed whose first attempt loses the reply and whose second gets through.
    for (let seed = 0; seed < 200; seed++) {
      const planner = new CountingPlanner();
      const l = link({ lossRate: 0.5, oneWayMs: 10, jitterMs: 0, timeoutMs: 100, seed }, planner);
      l.send(request(), 0);
      const r = await run(l);
      const lost = l.events.filter((e) => e.kind === 'lost');
      if (r.status !== 'delivered' || r.attempts !== 2 || lost.length !== 1) continue;
      if (lost[0]!.kind !== 'lost' || lost[0]!.direction !== 'downlink') continue;
      assert.equal(planner.calls, 2);
      assert.ok(Math.abs(r.arrivedSec - (0.1 + 0.025)) < 1e-9, `arrived ${r.arrivedSec}`);
      return;
    }
    assert.fail('no seed in 0..199 lost exactly the first reply');
  });

  test('a plan slower than the timeout is late every time and the request fails', async () => {
    const l = link({ placement: 'edge', lossRate: 0, computeMs: 1500, timeoutMs: 1000, maxAttempts: 2 });
    l.send(request(), 0);
    const r = await run(l);
    assert.equal(r.status, 'failed');
    assert.equal(l.stats.late, 2);
    assert.deepEqual(
      l.events.map((e) => e.kind),
      ['sent', 'late', 'timeout', 'sent', 'late', 'timeout', 'gave_up'],
    );
  });

  test("the brain's refusal travels back and is not retried", async () => {
    const planner = new CountingPlanner();
    const l = link({ placement: 'cloud', jitterMs: 0, lossRate: 0 }, planner);
    l.send(request('juggle the cube'), 0);
    await l.settled();
    assert.equal(l.poll(0.05).status, 'waiting', 'the answer is still on its way back');
    const r = l.poll(0.085);
    assert.equal(r.status, 'failed');
    assert.match(r.status === 'failed' ? r.reason : '', /did not understand "juggle the cube"/);
    assert.equal(r.status === 'failed' && r.attempts, 1);
    assert.equal(planner.calls, 1);
  });

  test('a new request supersedes the one in flight', async () => {
    const l = link({ placement: 'cloud', jitterMs: 0, lossRate: 0 });
    l.send(request('put the cube in the bin'), 0);
    l.send(request('go home'), 0.01);
    const r = await run(l);
    assert.equal(r.status === 'delivered' && r.plan.instruction, 'go home');
    assert.equal(r.status === 'delivered' && r.sentSec, 0.01);
  });

  test('a superseded or cancelled request aborts its planner call', async () => {
    const signals: AbortSignal[] = [];
    const waiting: Planner = {
      name: 'builtin',
      plan: (req, opts) => {
        signals.push(opts!.signal!);
        return new Promise<BrainPlan>((resolve) =>
          setTimeout(() => resolve(new BuiltinPlanner().plan(req)), 20),
        );
      },
    };
    const l = new BrainLink(waiting, { computeMs: 5 });
    l.send(request(), 0);
    l.send(request('go home'), 0);
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [true, false],
    );
    l.cancel('operator stop');
    assert.equal(signals[1]!.aborted, true);
    assert.deepEqual(l.poll(1), { status: 'failed', reason: 'operator stop', attempts: 0 });
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(l.poll(2).status, 'failed', 'a late planner answer does not revive a cancelled request');
    assert.equal(l.stats.delivered, 0);
  });

  test("'measured' adds the planner's wall-clock time to the round trip", async () => {
    const slow: Planner = {
      name: 'builtin',
      plan: (req) => new Promise((resolve) => setTimeout(() => resolve(new BuiltinPlanner().plan(req)), 30)),
    };
    const l = new BrainLink(slow, { placement: 'edge', jitterMs: 0, lossRate: 0, computeMs: 'measured' });
    l.send(request(), 0);
    const r = await run(l);
    assert.equal(r.status, 'delivered');
    assert.ok(r.status === 'delivered' && r.arrivedSec > 0.004, `arrived at ${r.arrivedSec}`);
  });

  test('bad link settings are refused', () => {
    const p = new BuiltinPlanner();
    assert.throws(() => new BrainLink(p, { lossRate: 1.5 }), /bad link profile/);
    assert.throws(() => new BrainLink(p, { oneWayMs: -1 }), /bad link profile/);
    assert.throws(() => new BrainLink(p, { timeoutMs: 0 }), /bad link retry settings/);
    assert.throws(() => new BrainLink(p, { maxAttempts: 0 }), /bad link retry settings/);
  });
});
