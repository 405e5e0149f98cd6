/**
 * The brain in the real rate scheduler's brain slot (ScheduledBrain): the executor is ticked with the
 * cerebellum, its requests run through a BrainLink started by the scheduler, and in simulated time the
 * plan lands at the same sim time however slow the planner is in wall time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrainLink, type BrainLinkOptions } from '../../src/control/brain/brain-link.ts';
import { BuiltinPlanner } from '../../src/control/brain/builtin-planner.ts';
import { PlanExecutor } from '../../src/control/brain/plan-executor.ts';
import type { BrainPlan, Planner, PlanRequest } from '../../src/control/brain/planner.ts';
import { ScheduledBrain } from '../../src/control/brain/scheduled-brain.ts';
import { RateScheduler } from '../../src/control/scheduler/index.ts';
import { FakeRobot, type Fault, pickPlaceWorld } from './brain-worlds.ts';
import { oneChannelSpine, SCHEDULED_LIMITS } from './fixtures/one-channel-spine.ts';

const DT = 0.002; // 500 Hz spine, 250 Hz cerebellum

/** The built-in planner, made slow in wall time. */
class SlowPlanner implements Planner {
  readonly name = 'builtin';
  constructor(private readonly wallMs: number) {}
  async plan(request: PlanRequest): Promise<BrainPlan> {
    await new Promise((r) => setTimeout(r, this.wallMs));
    return new BuiltinPlanner().plan(request);
  }
}

async function runScheduled(planner: Planner, link: BrainLinkOptions, faults: Record<string, Fault[]> = {}) {
  const { spine } = oneChannelSpine(DT, SCHEDULED_LIMITS);
  const robot = new FakeRobot(pickPlaceWorld(), faults, 5);
  const brainLink = new BrainLink(planner, { computeMs: 4, ...link });
  let scheduler: RateScheduler<void> | null = null;
  const brain = new ScheduledBrain(brainLink, () => scheduler!.requestPlan());
  const exec = new PlanExecutor({ brain, cerebellum: robot, world: () => robot.world });
  scheduler = new RateScheduler<void>({
    spine,
    plant: {
      sense: (t) => {
        spine.feedback.stampSec = t;
      },
      advance() {},
    },
    cerebellum: {
      rateHz: 250,
      timeoutMs: 1000,
      layer: {
        tick(t, cmd) {
          exec.tick(t);
          robot.step();
          cmd[0] = 0;
        },
      },
    },
    brain: { layer: brain, timeoutMs: 5000 },
  });
  exec.begin('put the red cube in the bin', 0);
  for (let k = 0; k < 20 && !exec.done; k++) await scheduler.runUntil((k + 1) * 0.1);
  return { exec, robot, link: brainLink, report: scheduler.report() };
}

describe('ScheduledBrain: the executor under the rate scheduler', () => {
  test('plans land at the link-model sim time, whatever the planner costs in wall time', async () => {
    const fast = await runScheduled(new BuiltinPlanner(), { placement: 'cloud', jitterMs: 0, lossRate: 0 });
    const slow = await runScheduled(new SlowPlanner(60), { placement: 'cloud', jitterMs: 0, lossRate: 0 });
    for (const r of [fast, slow]) {
      assert.equal(r.exec.state, 'succeeded');
      assert.deepEqual(r.report.faults, []);
      const received = r.exec.events.find((e) => e.kind === 'plan_received');
      // Requested at t = 0, started by the scheduler at its first cerebellum tick (t = 0), 2 x 40 + 4 ms.
      assert.ok(received?.kind === 'plan_received' && Math.abs(received.latencyMs - 84) < 1e-9);
      // Picked up at the first cerebellum tick at or after 0.084 s (4 ms ticks).
      assert.ok(Math.abs(received.tSec - 0.084) < 1e-9, `received at ${received.tSec}`);
      assert.equal(r.report.layers.brain.ticks, 1);
    }
    assert.deepEqual(
      slow.exec.events.map((e) => [e.kind, e.tSec.toFixed(3)]),
      fast.exec.events.map((e) => [e.kind, e.tSec.toFixed(3)]),
    );
    assert.ok(slow.report.layers.brain.maxMs >= 50, 'the scheduler measured the slow planner');
  });

  test('a failed step is replanned through the scheduler', async () => {
    const r = await runScheduled(
      new BuiltinPlanner(),
      { placement: 'edge', lossRate: 0 },
      { pick: ['fail'] },
    );
    assert.equal(r.exec.state, 'succeeded');
    assert.equal(r.exec.replans, 1);
    assert.equal(r.report.layers.brain.ticks, 2);
    assert.deepEqual(
      r.robot.started.map((c) => c.skill),
      ['pick', 'pick', 'place'],
    );
  });
});
