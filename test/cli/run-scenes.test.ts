/**
 * `tg run` on every arm scene task with the built-in planner: the episode succeeds by the task's own
 * predicate, and the printout carries the plan, the outcome, the safety events and the latency table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EpisodeOutcome } from '../../src/control/stack/index.ts';
import { ARM_SCENES } from '../../src/control/stack/index.ts';
import { tgRun } from './run.child.ts';

describe('tg run: every arm scene with the built-in planner', () => {
  for (const scene of Object.values(ARM_SCENES)) {
    test(`${scene.id}: "${scene.exampleInstruction}"`, async () => {
      const run = await tgRun([
        '--json',
        '--robot',
        'arm7',
        '--task',
        scene.exampleInstruction,
        '--seed',
        '1',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const o = JSON.parse(run.stdout) as EpisodeOutcome;
      // The scene came from the instruction (no --scene given).
      assert.equal(o.scene, scene.id);
      assert.equal(o.success, true, `${o.reason} (metrics ${JSON.stringify(o.metrics)})`);
      assert.equal(o.executor, 'succeeded');
      assert.equal(o.plan?.planner, 'builtin');
      assert.ok(o.plan.steps.length > 0);
      assert.equal(o.safeStop, null);
      assert.deepEqual(o.faults, []);
      assert.equal(o.spine.mode, 'run');
      // Every layer ran at its rate over the whole episode; the brain once per plan.
      const spineTicks = Math.round(o.simSec * o.rates.spineHz);
      assert.equal(o.layers.spine.ticks, spineTicks);
      assert.equal(
        o.layers.cerebellum.ticks,
        Math.ceil(spineTicks / (o.rates.spineHz / o.rates.cerebellumHz)),
      );
      assert.equal(
        o.layers.perception.ticks,
        Math.ceil(spineTicks / (o.rates.spineHz / o.rates.perceptionHz)),
      );
      assert.equal(o.layers.brain.ticks, o.plans.length);
      for (const l of Object.values(o.layers)) assert.ok(l.p50Ms <= l.p99Ms && l.p99Ms <= l.maxMs);
      assert.ok(o.rates.cerebellumHz >= 200 && o.rates.perceptionHz >= 30);
      // Each step the executor ran is in the timeline, started and succeeded, in plan order.
      const done = o.timeline
        .filter((e) => e.kind === 'step_succeeded')
        .map((e) => 'call' in e && e.call.skill);
      assert.deepEqual(
        done,
        o.plan.steps.map((s) => s.skill),
      );
      assert.equal(
        o.safetyEventCount,
        o.safetySummary.reduce((n, g) => n + g.count, 0),
      );
    });
  }

  test('the human printout: plan, outcome, safety events, latency table', async () => {
    const run = await tgRun([
      '--robot',
      'arm7',
      '--task',
      'put the cube in the bin',
      '--scene',
      'pick-place',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^arm7 in factory\/pick-place \(seed 1\): "put the cube in the bin"$/m);
    assert.match(
      run.stdout,
      /^plan by builtin over the edge link, [\d.]+ ms: 1\. pick object=cube {2}2\. place target=bin$/m,
    );
    assert.match(run.stdout, /^outcome: SUCCESS after [\d.]+ s simulated/m);
    assert.match(run.stdout, /cubeToBinM [\d.e-]+, cubeHeightM/);
    assert.match(run.stdout, /^safety events: /m);
    assert.match(run.stdout, /^layer\s+ticks\s+p50 ms\s+p99 ms\s+max ms\s+budget ms\s+misses\s+preempted$/m);
    for (const [layer, budget] of [
      ['brain', 500],
      ['perception', 50],
      ['cerebellum', 10],
      ['spine', 1],
    ] as const) {
      assert.match(
        run.stdout,
        new RegExp(
          `^${layer}\\s+\\d+\\s+[\\d.e-]+\\s+[\\d.e-]+\\s+[\\d.e-]+\\s+${budget}\\s+\\d+\\s+\\d+\\s*$`,
          'm',
        ),
      );
    }
  });
});
