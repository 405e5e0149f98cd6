/**
 * The fleet benchmark: the same scene stepped three ways in one run, so only ratios are compared across
 * runs. (1) a bare `mj_step` loop on one MjData, this thread; (2) the full fleet on one worker; (3) the
 * full fleet on every worker. Every robot runs the hold-position controller (ctrl = home keyframe) and
 * copies its sensordata into shared memory every step.
 */
import os from 'node:os';
import { loadMujoco } from '../mujoco.ts';
import { FleetSimulator } from './fleet-simulator.ts';
import { compileFleetScene, type FleetModelName, fleetScene } from './scene.ts';

export interface FleetBenchOptions {
  model: FleetModelName;
  robots: number;
  /** Simulated seconds per fleet run. */
  seconds: number;
  /** Workers of the all-workers run (default: available parallelism). */
  workers?: number;
  modelPerRobot?: boolean;
  batchSec?: number;
  /** Skips the one-worker run (then `overheadRatio` and `scaling` are null). */
  skipSingle?: boolean;
  onProgress?: (fraction: number, detail: string) => void;
}

export interface FleetBenchResult {
  model: FleetModelName;
  robots: number;
  workers: number;
  timestepMs: number;
  /** The slowest robot's simulated seconds per wall second, all workers. */
  realTimeFactor: number;
  /** Robot steps per wall second, all workers. */
  stepsPerSec: number;
  /** Bare `mj_step` on one MjData of the same model, one thread, same run. */
  baselineStepsPerSec: number;
  /** One worker's per-step cost (sensors, messaging, checks included) over the bare step's. */
  overheadRatio: number | null;
  /** All-workers throughput over one worker's. */
  scaling: number | null;
  singleWorkerStepsPerSec: number | null;
  seconds: number;
  batchMs: number;
  scene: string;
  sensorValuesPerStep: number;
  controller: string;
  modelSharing: 'per-worker' | 'per-robot';
  divergences: number;
  restarts: number;
  /** Mean height of the free root body at the end (m), when the robot has one: a standing humanoid stays up. */
  meanRootHeightM: number | null;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runFleetBench(opts: FleetBenchOptions): Promise<FleetBenchResult> {
  const progress = opts.onProgress ?? (() => {});
  const mj = await loadMujoco();
  const scene = fleetScene(mj, opts.model);
  progress(0, 'bare mj_step');
  const bare = bareStepRate(mj, scene);

  const run = async (workers: number, from: number, to: number) => {
    const fleet = await FleetSimulator.start({
      model: scene,
      robots: opts.robots,
      workers,
      modelPerRobot: opts.modelPerRobot,
      batchSec: opts.batchSec,
    });
    try {
      await fleet.step(5); // warm-up: JIT, caches
      const batches = Math.max(1, Math.round(opts.seconds / fleet.batchSec));
      const sim0 = fleet.stats().minSimSec;
      const t0 = performance.now();
      const chunk = Math.max(1, Math.round(batches / 20));
      for (let b = 0; b < batches; b += chunk) {
        await fleet.step(Math.min(chunk, batches - b));
        progress(from + ((to - from) * (b + chunk)) / batches, `${workers} worker(s)`);
      }
      const wallSec = (performance.now() - t0) / 1000;
      const stats = fleet.stats();
      return {
        fleet,
        workers: fleet.workers,
        stepsPerSec: (batches * fleet.layout.stepsPerBatch * opts.robots) / wallSec,
        realTimeFactor: (stats.minSimSec - sim0) / wallSec,
        stats,
      };
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  };

  let single: Awaited<ReturnType<typeof run>> | undefined;
  if (!opts.skipSingle) {
    single = await run(1, 0.05, 0.5);
    await single.fleet.stop();
  }
  const all = await run(opts.workers ?? os.availableParallelism(), single ? 0.5 : 0.05, 1);
  const rootZ = rootHeight(all.fleet);
  await all.fleet.stop();
  return {
    model: opts.model,
    robots: opts.robots,
    workers: all.workers,
    timestepMs: round(all.fleet.timestepSec * 1000, 6),
    realTimeFactor: round(all.realTimeFactor),
    stepsPerSec: Math.round(all.stepsPerSec),
    baselineStepsPerSec: Math.round(bare.stepsPerSec),
    overheadRatio: single ? round(bare.stepsPerSec / single.stepsPerSec) : null,
    scaling: single ? round(all.stepsPerSec / single.stepsPerSec) : null,
    singleWorkerStepsPerSec: single ? Math.round(single.stepsPerSec) : null,
    seconds: opts.seconds,
    batchMs: round(all.fleet.batchSec * 1000, 6),
    scene: `${scene.source} alone on a floor`,
    sensorValuesPerStep: all.fleet.layout.nsensordata,
    controller: 'hold position (ctrl = home keyframe)',
    modelSharing: opts.modelPerRobot ? 'per-robot' : 'per-worker',
    divergences: all.stats.divergences.length + (single?.stats.divergences.length ?? 0),
    restarts: all.stats.restarts.length + (single?.stats.restarts.length ?? 0),
    meanRootHeightM: rootZ === null ? null : round(rootZ),
  };
}

/** Steps per second of a bare `mj_step` loop on one MjData at the home keyframe (about a second of wall time). */
export function bareStepRate(
  mj: Awaited<ReturnType<typeof loadMujoco>>,
  scene: ReturnType<typeof fleetScene>,
): { stepsPerSec: number } {
  const m = compileFleetScene(mj, scene);
  const d = new mj.MjData(m);
  try {
    if (m.nkey > 0) {
      const home = mj.mj_name2id(m, mj.mjtObj.mjOBJ_KEY.value, 'home');
      mj.mj_resetDataKeyframe(m, d, Math.max(0, home));
    }
    for (let i = 0; i < 200; i++) mj.mj_step(m, d); // warm-up
    let steps = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < 1000) {
      for (let i = 0; i < 500; i++) mj.mj_step(m, d);
      steps += 500;
      elapsed = performance.now() - t0;
    }
    return { stepsPerSec: (steps * 1000) / elapsed };
  } finally {
    d.delete();
    m.delete();
  }
}

/** Mean z of qpos[2] when the model's first joint is free (the root body's height), else null. */
function rootHeight(fleet: FleetSimulator): number | null {
  if (fleet.layout.nq < 7 || fleet.layout.nq === fleet.layout.nv) return null;
  let sum = 0;
  for (let k = 0; k < fleet.robots; k++) sum += fleet.qpos(k)[2]!;
  return sum / fleet.robots;
}
