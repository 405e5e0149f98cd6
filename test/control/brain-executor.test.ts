/**
 * Execution monitoring and replanning: the executor walks a plan through a fake cerebellum, replans from
 * the current world after failures (bounded), times out hung skills, and reports every event.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrainLink, type BrainLinkOptions } from '../../src/control/brain/brain-link.ts';
import { BuiltinPlanner } from '../../src/control/brain/builtin-planner.ts';
import {
  type ExecutorEvent,
  PlanExecutor,
  type PlanExecutorOptions,
} from '../../src/control/brain/plan-executor.ts';
import type { WorldSummary } from '../../src/control/brain/world-summary.ts';
import { FakeRobot, type Fault, homeTidyWorld, humanoidWorld, pickPlaceWorld } from './brain-worlds.ts';

const TICK_SEC = 0.01;

interface Run {
  exec: PlanExecutor;
  robot: FakeRobot;
  link: BrainLink;
  /** Sim time at which the executor finished. */
  endSec: number;
}

/** Ticks the executor and the fake cerebellum at 100 Hz until done (or `maxSec`). */
async function execute(
  world: WorldSummary,
  instruction: string,
  faults: Record<string, (Fault | null)[]> = {},
  opts: {
    link?: BrainLinkOptions;
    exec?: Partial<PlanExecutorOptions>;
    missing?: string[];
    maxSec?: number;
  } = {},
): Promise<Run> {
  const robot = new FakeRobot(world, faults, 3, opts.missing);
  const link = new BrainLink(new BuiltinPlanner(), { computeMs: 1, ...opts.link });
  const exec = new PlanExecutor({ brain: link, cerebellum: robot, world: () => robot.world, ...opts.exec });
  exec.begin(instruction, 0);
  let k = 0;
  for (; k * TICK_SEC <= (opts.maxSec ?? 60) && !exec.done; k++) {
    const pending = exec.settled();
    if (pending) await pending;
    exec.tick(k * TICK_SEC);
    robot.step();
  }
  return { exec, robot, link, endSec: (k - 1) * TICK_SEC };
}

const kinds = (events: ExecutorEvent[]) => events.map((e) => e.kind);
const skills = (r: Run) => r.robot.started.map((c) => c.skill);

describe('PlanExecutor', () => {
  test('walks a plan step by step and reports each event', async () => {
    const r = await execute(pickPlaceWorld(), 'put the red cube in the bin');
    assert.equal(r.exec.state, 'succeeded');
    assert.deepEqual(kinds(r.exec.events), [
      'plan_requested',
      'plan_received',
      'step_started',
      'step_succeeded',
      'step_started',
      'step_succeeded',
      'finished',
    ]);
    assert.deepEqual(r.robot.world.objects[0]!.pos, [0.4, -0.3, 0]);
    const received = r.exec.events[1]!;
    assert.ok(received.kind === 'plan_received' && received.planner === 'builtin' && received.attempts === 1);
    const done = r.exec.events.at(-1)!;
    assert.deepEqual(done, { kind: 'finished', tSec: done.tSec, outcome: 'succeeded', replans: 0 });
  });

  test('replans after a failed pick and finishes the task', async () => {
    const r = await execute(pickPlaceWorld(), 'put the red cube in the bin', { pick: ['fail'] });
    assert.equal(r.exec.state, 'succeeded');
    assert.equal(r.exec.replans, 1);
    assert.deepEqual(skills(r), ['pick', 'pick', 'place']);
    const failed = r.exec.events.find((e) => e.kind === 'step_failed');
    assert.ok(failed?.kind === 'step_failed');
    assert.equal(failed.reason, 'pick: slip detected, object lost');
    const replan = r.exec.events.filter((e) => e.kind === 'plan_requested')[1];
    assert.deepEqual(replan && { ...replan, tSec: 0 }, {
      kind: 'plan_requested',
      tSec: 0,
      instruction: 'put the red cube in the bin',
      replan: 1,
      reason: 'pick: slip detected, object lost',
    });
  });

  test('a dropped object is picked again from where it fell; finished steps are not repeated', async () => {
    const r = await execute(homeTidyWorld(), 'tidy up the toys into the box', { place: [null, 'drop'] });
    assert.equal(r.exec.state, 'succeeded');
    // can placed; the block dropped beside the table during its place; the replan picks it again, then the ball.
    assert.deepEqual(
      r.robot.started.map((c) => `${c.skill}:${Object.values(c.args).join(',')}`),
      [
        'pick:can',
        'place:box',
        'pick:block',
        'place:box',
        'pick:block',
        'place:box',
        'pick:ball',
        'place:box',
      ],
    );
    const box = r.robot.world.targets[0]!.pos!;
    for (const o of r.robot.world.objects)
      assert.ok(Math.hypot(o.pos![0] - box[0], o.pos![1] - box[1]) < 0.12, o.name);
  });

  test('gives up after maxReplans, with the last failure in the reason', async () => {
    const r = await execute(
      pickPlaceWorld(),
      'put the cube in the bin',
      { pick: ['fail', 'fail', 'fail', 'fail'] },
      {
        exec: { maxReplans: 2 },
      },
    );
    assert.equal(r.exec.state, 'failed');
    assert.equal(r.exec.replans, 2);
    assert.equal(r.exec.events.filter((e) => e.kind === 'step_failed').length, 3);
    assert.equal(r.exec.events.filter((e) => e.kind === 'plan_requested').length, 3);
    const last = r.exec.events.at(-1)!;
    assert.equal(last.kind, 'finished');
    assert.equal(
      last.kind === 'finished' && last.reason,
      'step 1 (pick) failed: pick: slip detected, object lost; gave up after 2 replans',
    );
  });

  test('a step that never finishes is stopped at its time limit and replanned', async () => {
    const r = await execute(
      pickPlaceWorld(),
      'put the cube in the bin',
      { place: ['hang'] },
      {
        exec: { stepTimeoutSec: (c) => (c.skill === 'place' ? 2 : 60) },
      },
    );
    assert.equal(r.exec.state, 'succeeded');
    assert.equal(r.robot.stops, 1);
    const failed = r.exec.events.find((e) => e.kind === 'step_failed');
    assert.ok(failed?.kind === 'step_failed');
    assert.equal(failed.reason, 'still running after 2 s');
    assert.ok(failed.durationSec > 2 && failed.durationSec < 2.05);
    // The cube was still held when the place hung: the new plan only places.
    assert.deepEqual(skills(r), ['pick', 'place', 'place']);
  });

  test('a call the cerebellum cannot start counts as a failed step', async () => {
    const r = await execute(
      humanoidWorld(),
      'stand still for 1 s',
      {},
      { missing: ['stand'], exec: { maxReplans: 1 } },
    );
    assert.equal(r.exec.state, 'failed');
    const failed = r.exec.events.filter((e) => e.kind === 'step_failed');
    assert.equal(failed.length, 2);
    assert.ok(failed[0]?.kind === 'step_failed');
    assert.equal(failed[0].reason, "could not start: no skill 'stand' in this cerebellum");
  });

  test('an instruction the brain cannot plan ends in planning_failed', async () => {
    const r = await execute(pickPlaceWorld(), 'juggle the cube');
    assert.equal(r.exec.state, 'failed');
    assert.deepEqual(kinds(r.exec.events), ['plan_requested', 'planning_failed', 'finished']);
    const f = r.exec.events[1]!;
    assert.match(f.kind === 'planning_failed' ? f.reason : '', /did not understand "juggle the cube"/);
    assert.equal(r.robot.started.length, 0);
  });

  test('nothing to do: an empty plan succeeds at once', async () => {
    const w = pickPlaceWorld();
    w.objects[0]!.pos = [0.4, -0.3, 0.02];
    const r = await execute(w, 'put the cube in the bin');
    assert.equal(r.exec.state, 'succeeded');
    assert.equal(r.robot.started.length, 0);
  });

  test('a walk that fails mid-route resumes from the failed waypoint', async () => {
    const r = await execute(humanoidWorld(), 'follow the route', { walk_to: [null, 'fail'] });
    assert.equal(r.exec.state, 'succeeded');
    assert.deepEqual(
      r.robot.started.map((c) => [c.args.x, c.args.y]),
      [
        [1, 0],
        [1, 1],
        [1, 1],
        [0, 1],
      ],
    );
  });
});

describe('PlanExecutor with the brain in the cloud', () => {
  test('the robot waits for the plan across the link; cloud latency shows in the events', async () => {
    const edge = await execute(
      pickPlaceWorld(),
      'put the cube in the bin',
      {},
      {
        link: { placement: 'edge', jitterMs: 0, lossRate: 0 },
      },
    );
    const cloud = await execute(
      pickPlaceWorld(),
      'put the cube in the bin',
      {},
      {
        link: { placement: 'cloud', jitterMs: 0, lossRate: 0 },
      },
    );
    const latency = (r: Run) => {
      const e = r.exec.events.find((x) => x.kind === 'plan_received');
      return e?.kind === 'plan_received' ? e.latencyMs : Number.NaN;
    };
    assert.ok(Math.abs(latency(edge) - 5) < 1e-9, `edge ${latency(edge)} ms`);
    assert.ok(Math.abs(latency(cloud) - 81) < 1e-9, `cloud ${latency(cloud)} ms`);
    // The first step starts on the first tick after the plan arrives (10 ms ticks).
    const started = (r: Run) => r.exec.events.find((x) => x.kind === 'step_started')!.tSec;
    assert.ok(Math.abs(started(edge) - 0.01) < 1e-9);
    assert.ok(Math.abs(started(cloud) - 0.09) < 1e-9);
    assert.ok(cloud.endSec > edge.endSec);
  });

  test('replanning through a lossy link: retries are visible in the link events', async () => {
    const r = await execute(
      pickPlaceWorld(),
      'put the cube in the bin',
      { pick: ['fail'] },
      {
        link: { placement: 'cloud', lossRate: 0.3, timeoutMs: 200, maxAttempts: 8, seed: 3 },
      },
    );
    assert.equal(r.exec.state, 'succeeded');
    assert.equal(r.link.stats.requests, 2);
    assert.ok(r.link.stats.attempts > 2, `${r.link.stats.attempts} attempts for 2 requests`);
    assert.equal(r.link.events.filter((e) => e.kind === 'timeout').length, r.link.stats.attempts - 2);
  });

  test('an unreachable brain ends the run in planning_failed, not a hang', async () => {
    const r = await execute(
      pickPlaceWorld(),
      'put the cube in the bin',
      {},
      {
        link: { placement: 'cloud', lossRate: 1, timeoutMs: 500, maxAttempts: 2 },
      },
    );
    assert.equal(r.exec.state, 'failed');
    assert.ok(Math.abs(r.endSec - 1) < 1e-9, `gave up at ${r.endSec} s`);
    const f = r.exec.events.find((e) => e.kind === 'planning_failed');
    assert.equal(
      f?.kind === 'planning_failed' && f.reason,
      'no plan from the cloud brain after 2 attempts of 500 ms',
    );
  });
});
