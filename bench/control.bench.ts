/**
 * The control hierarchy at fleet scale: N arm7 robots, each running the full stack (built-in brain on the
 * edge link, perception at 50 Hz, cerebellum at 250 Hz, spine at the 500 Hz physics rate) on the
 * pick-and-place task, a new seeded episode as soon as one ends, spread over worker threads
 * (bench/control/worker.ts). Each layer's compute-time histogram is merged over every robot and worker.
 *
 * realTimeFactor is the slowest robot's simulated seconds per wall second of its worker's control work
 * (robots in a worker advance round robin, one slice of simulated time each, so they move together; the
 * wall time of the worker's ticks is what a second of simulated time costs). The baseline is the bare
 * physics step of the same robots in the same run (each mj_step is timed inside the tick): the ratio is the
 * physics' share of the control tick, which a loaded machine does not skew.
 *
 * A layer's compute time leaves out the time the kernel kept its thread off the core (the scheduler reads
 * the thread's run-queue wait around a tick over budget): such a tick is `preempted`, not a miss, and its
 * wall time shows in `maxWallMs`. realTimeFactor is wall time all the same, preemption included.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { z } from 'zod';
import { LAYER_NAMES, type LayerName } from '../src/control/contracts.ts';
import { LatencyHistogram, LayerTelemetry } from '../src/control/scheduler/index.ts';
import { TgError } from '../src/errors/index.ts';
import { spawnWorker } from '../src/threads/index.ts';
import type { ControlReply, ControlWorkerData, ControlWorkerResult } from './control/protocol.ts';
import { defineBenchmark } from './harness.ts';

const WORKER = new URL('./control/worker.ts', import.meta.url);
const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

export interface ControlBenchOptions {
  robots: number;
  seconds: number;
  workers?: number | undefined;
  seed: number;
  sliceMs: number;
  onProgress?: (fraction: number, detail: string) => void;
}

/** Runs the fleet and returns the figures. */
export async function runControlBench(o: ControlBenchOptions) {
  // A controller collects garbage at safe points, between control slices (bench/control/worker.ts). V8's
  // memory reducer would instead start its own incremental mark-compact whenever a worker's allocation
  // rate looks low, and finish it with a 10-15 ms pause inside some tick. Process-wide; read when an
  // isolate's heap is set up, so before the workers start.
  v8.setFlagsFromString('--no-memory-reducer');
  const workers = Math.max(1, Math.min(o.robots, o.workers ?? os.availableParallelism()));
  const threads = Array.from({ length: workers }, (_, w) => {
    const from = Math.floor((w * o.robots) / workers);
    const to = Math.floor(((w + 1) * o.robots) / workers);
    const data: ControlWorkerData = {
      robots: Array.from({ length: to - from }, (_, i) => from + i),
      seconds: o.seconds,
      sliceSec: o.sliceMs / 1000,
      seed: o.seed,
    };
    return spawnWorker(WORKER, data as unknown as Record<string, unknown>);
  });
  const progress = new Array<number>(workers).fill(0);
  const results: ControlWorkerResult[] = [];
  try {
    const ready = threads.map((t) => waitFor(t, 'ready'));
    await Promise.all(ready);
    const done = threads.map((t, w) =>
      waitFor(t, 'done', (simSec) => {
        progress[w] = simSec;
        o.onProgress?.(
          Math.min(...progress) / o.seconds,
          `${round(Math.min(...progress), 3)} of ${o.seconds} s simulated`,
        );
      }),
    );
    for (const t of threads) t.postMessage({ type: 'go' });
    for (const r of await Promise.all(done)) results.push((r as { result: ControlWorkerResult }).result);
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }

  const layers = {} as Record<LayerName, LayerTelemetry>;
  for (const name of LAYER_NAMES) {
    const total = new LayerTelemetry(name, results[0]!.layers[name].budgetMs);
    for (const r of results) {
      const l = r.layers[name];
      const part = new LayerTelemetry(name, l.budgetMs);
      part.histogram.merge(LatencyHistogram.fromSnapshot(l.histogram));
      part.ticks = l.ticks;
      part.misses = l.misses;
      part.faults = l.faults;
      part.preempted = l.preempted;
      part.maxWallMs = l.maxWallMs;
      total.merge(part);
    }
    layers[name] = total;
  }
  const realTimeFactor = Math.min(...results.map((r) => r.simSec / r.stackSec));
  // The physics alone would run this fast: the same robots' mj_step time in the same run.
  const baselineRealTimeFactor = Math.min(...results.map((r) => r.simSec / r.physicsSec));
  const layerRows = Object.fromEntries(
    LAYER_NAMES.map((name) => {
      const r = layers[name].report();
      return [
        name,
        {
          ticks: r.ticks,
          p50Ms: round(r.p50Ms),
          p99Ms: round(r.p99Ms),
          maxMs: round(r.maxMs),
          budgetMs: r.budgetMs,
          misses: r.misses,
          preempted: r.preempted,
          maxWallMs: round(r.maxWallMs),
        },
      ];
    }),
  ) as Record<
    LayerName,
    {
      ticks: number;
      p50Ms: number;
      p99Ms: number;
      maxMs: number;
      budgetMs: number;
      misses: number;
      preempted: number;
      maxWallMs: number;
    }
  >;
  return {
    robots: o.robots,
    realTimeFactor: round(realTimeFactor),
    deadlineMisses: LAYER_NAMES.reduce((n, name) => n + layers[name].misses, 0),
    layers: layerRows,
    workers,
    simSecPerRobot: round(Math.min(...results.map((r) => r.simSec))),
    wallSec: round(Math.max(...results.map((r) => r.wallSec))),
    /** Wall seconds per simulated second per robot: the stack's and the bare physics' (s/s). */
    stackCostPerRobot: round(Math.max(...results.map((r) => r.stackSec / r.simSec / r.robots))),
    physicsCostPerRobot: round(Math.max(...results.map((r) => r.physicsSec / r.simSec / r.robots))),
    episodes: results.reduce((n, r) => n + r.episodes, 0),
    successes: results.reduce((n, r) => n + r.successes, 0),
    safeStops: results.reduce((n, r) => n + r.safeStops, 0),
    layerFaults: LAYER_NAMES.reduce((n, name) => n + layers[name].faults, 0),
    baselineRealTimeFactor: round(baselineRealTimeFactor),
    loadAverage: os.loadavg().map((x) => round(x, 3)),
  };
}

/** Resolves with the worker's first message of `type`; rejects on its error or exit. */
function waitFor(
  worker: ReturnType<typeof spawnWorker>,
  type: 'ready' | 'done',
  onProgress?: (simSec: number) => void,
): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ControlReply) => {
      if (m.type === 'progress') onProgress?.(m.simSec);
      else if (m.type === 'error')
        finish(() => reject(new TgError('SIM_DIVERGED', `control worker: ${m.message}`)));
      else if (m.type === type) finish(() => resolve(m));
    };
    const onExit = (code: number) =>
      finish(() =>
        reject(new TgError('SIM_DIVERGED', `control worker exited (code ${code}) before '${type}'`)),
      );
    const onError = (err: Error) => finish(() => reject(err));
    const finish = (f: () => void) => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      worker.off('error', onError);
      f();
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    worker.on('error', onError);
  });
}

export default defineBenchmark({
  name: 'control',
  description:
    'N arm7 robots running the full control stack (pick-and-place) over worker threads: layer latencies, deadline misses, real-time factor',
  options: z
    .object({
      robots: z.coerce.number().int().min(1).max(10_000).default(100),
      // 100 robots x 250 Hz x 40 s = 10^6 cerebellum ticks.
      seconds: z.coerce.number().min(0.1).max(3600).default(40),
      workers: z.coerce.number().int().min(1).max(256).optional(),
      seed: z.coerce.number().int().min(0).default(1),
      sliceMs: z.coerce.number().min(1).max(1000).default(20),
    })
    .strict(),
  async run(opts, ctx) {
    const details = await runControlBench({ ...opts, onProgress: (f, d) => ctx.progress(f, d) });
    return [
      {
        metric: 'realTimeFactor',
        value: details.realTimeFactor,
        unit: 'x',
        baseline: details.baselineRealTimeFactor,
        higherIsBetter: true,
        details,
      },
    ];
  },
});
