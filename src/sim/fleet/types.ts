import type { FleetModelName, FleetScene } from './scene.ts';

/** A robot whose state stopped being trustworthy; it was reset to its seeded home state and kept its clock. */
export interface Divergence {
  robot: number;
  /** The robot's simulated time at the end of the batch in which it diverged. */
  atSimSec: number;
  reason: string;
}

/** A worker thread that died and was replaced; its robots resumed from their last checkpoints. */
export interface WorkerRestart {
  worker: number;
  robots: number[];
  /** Fleet batch count when the crash was noticed. */
  atBatch: number;
  error: string;
}

export interface FleetOptions {
  /** A named robot scene, or a composed one. */
  model: FleetModelName | FleetScene;
  robots: number;
  /** Worker threads (default: the machine's available parallelism, at most one per robot). */
  workers?: number;
  /** Robot k resets from `seeds[k]` when given, else from `seed + k` (default seed 0). */
  seed?: number;
  seeds?: number[];
  /** Simulated seconds per lock-step batch (one message per worker per batch; default 0.01). */
  batchSec?: number;
  /** One compiled MjModel per robot instead of one per worker shared by its robots (default false). */
  modelPerRobot?: boolean;
  /** Batches between automatic checkpoints used to resume after a worker crash (default 10; 0 = never). */
  checkpointEveryBatches?: number;
  /** Worker crashes tolerated before the fleet gives up (default 10). */
  maxRestarts?: number;
}

export interface FleetStats {
  robots: number;
  workers: number;
  timestepSec: number;
  batches: number;
  /** Physics steps taken by all robots together. */
  robotSteps: number;
  /** The slowest robot's simulated time. */
  minSimSec: number;
  divergences: Divergence[];
  restarts: WorkerRestart[];
}
