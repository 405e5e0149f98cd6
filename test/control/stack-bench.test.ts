/**
 * `tg bench control` on a tiny fleet: the figures the issue asks for, in their shape, merged over worker
 * threads (no timing assertions: only counts that follow from the configuration).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import benchmark, { runControlBench } from '../../bench/control.bench.ts';

test('bench control: robots, realTimeFactor, deadlineMisses and the four layers, merged over 2 workers', async () => {
  const seconds = 0.6;
  const d = await runControlBench({ robots: 3, seconds, workers: 2, seed: 1, sliceMs: 20 });
  assert.equal(d.robots, 3);
  assert.equal(d.workers, 2);
  assert.ok(d.realTimeFactor > 0 && Number.isFinite(d.realTimeFactor));
  assert.ok(d.baselineRealTimeFactor > 0);
  assert.equal(d.simSecPerRobot, seconds);
  assert.deepEqual(Object.keys(d.layers), ['brain', 'perception', 'cerebellum', 'spine']);
  for (const l of Object.values(d.layers)) {
    assert.deepEqual(Object.keys(l), [
      'ticks',
      'p50Ms',
      'p99Ms',
      'maxMs',
      'budgetMs',
      'misses',
      'preempted',
      'maxWallMs',
    ]);
    assert.ok(l.p50Ms <= l.p99Ms && l.p99Ms <= l.maxMs && l.maxMs <= l.maxWallMs);
  }
  // 500 Hz spine, 250 Hz cerebellum, 50 Hz perception, one plan per robot (its episode starts at once).
  assert.equal(d.layers.spine.ticks, 3 * 300);
  assert.equal(d.layers.cerebellum.ticks, 3 * 150);
  assert.equal(d.layers.perception.ticks, 3 * 30);
  assert.equal(d.layers.brain.ticks, 3);
  assert.deepEqual(
    [
      d.layers.brain.budgetMs,
      d.layers.perception.budgetMs,
      d.layers.cerebellum.budgetMs,
      d.layers.spine.budgetMs,
    ],
    [500, 50, 10, 1],
  );
  assert.equal(
    d.deadlineMisses,
    d.layers.brain.misses + d.layers.perception.misses + d.layers.cerebellum.misses + d.layers.spine.misses,
  );
  assert.equal(d.layerFaults, 0);
});

test('bench control: options are validated (tg bench control --robots 0)', () => {
  assert.equal(benchmark.options.safeParse({ robots: '0' }).success, false);
  const ok = benchmark.options.safeParse({ robots: '2', seconds: '1' });
  assert.ok(ok.success);
  assert.equal(ok.data.robots, 2);
});
