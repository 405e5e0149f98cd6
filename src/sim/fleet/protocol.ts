import type { FleetLayout } from './layout.ts';
import type { FleetScene } from './scene.ts';
import type { Divergence } from './types.ts';

/** What a fleet worker is started with (`workerData`). */
export interface FleetWorkerData {
  shared: Float64Array;
  layout: FleetLayout;
  scene: FleetScene;
  robots: Array<{ index: number; seed: number }>;
  modelPerRobot: boolean;
  checkpointEveryBatches: number;
  /** Start each robot from its checkpoint in shared memory (if it has one) instead of its seeded reset. */
  resume: boolean;
}

/** coordinator -> worker; every request carries an id its reply echoes. */
export type FleetRequest =
  /** `batches` lock-step batches back to back (commands cannot change in between, so no barrier is needed). */
  | { type: 'step'; id: number; batches: number }
  | { type: 'reset'; id: number; robot: number; seed?: number }
  | { type: 'getState'; id: number; robot: number }
  | { type: 'setState'; id: number; robot: number; state: Float64Array }
  | { type: 'setQvel'; id: number; robot: number; qvel: Float64Array }
  | { type: 'crash'; id: number };

/** worker -> coordinator */
export type FleetReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; divergences?: Divergence[]; state?: Float64Array }
  | { type: 'error'; id: number; message: string };
