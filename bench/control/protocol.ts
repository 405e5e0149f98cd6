/** Messages between `tg bench control` and its worker threads (bench/control/worker.ts). */
import type { LayerName } from '../../src/control/contracts.ts';
import type { HistogramSnapshot } from '../../src/control/scheduler/index.ts';

export interface ControlWorkerData {
  /** Global indices of this worker's robots (seeds derive from them). */
  robots: number[];
  /** Simulated seconds each robot runs. */
  seconds: number;
  /** Simulated seconds a robot runs before the next robot's turn. */
  sliceSec: number;
  seed: number;
}

export interface LayerSnapshot {
  budgetMs: number;
  ticks: number;
  misses: number;
  faults: number;
  preempted: number;
  maxWallMs: number;
  histogram: HistogramSnapshot;
}

export interface ControlWorkerResult {
  robots: number;
  /** The slowest robot's simulated seconds. */
  simSec: number;
  /** Wall time spent in the robots' ticks (s, summed over the worker's robots, which run in turn). */
  stackSec: number;
  /** Wall time of the whole run, baseline slices included (s). */
  wallSec: number;
  episodes: number;
  successes: number;
  safeStops: number;
  layers: Record<LayerName, LayerSnapshot>;
  /** Wall time in the physics step (mj_step) within those ticks (s, summed over the robots). */
  physicsSec: number;
}

/** worker -> coordinator */
export type ControlReply =
  | { type: 'ready' }
  | { type: 'progress'; simSec: number }
  | { type: 'done'; result: ControlWorkerResult }
  | { type: 'error'; message: string };

/** coordinator -> worker: start the timed run (every worker has built its robots). */
export type ControlRequest = { type: 'go' };
