/**
 * FleetSimulator: many robots across a pool of worker threads, advanced in lock-step batches of simulated
 * time (one message per worker per batch). Positions, velocities and sensor samples are read from shared
 * memory views; commands are written into them between batches. A robot that diverges is reset and
 * reported; a worker that crashes is replaced and its robots resume from their last checkpoints.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { TgError } from '../../errors/index.ts';
import { spawnWorker } from '../../threads/index.ts';
import { loadMujoco } from '../mujoco.ts';
import { allocateShared, type FleetLayout, fleetLayout } from './layout.ts';
import type { FleetReply, FleetRequest, FleetWorkerData } from './protocol.ts';
import { compileFleetScene, type FleetScene, fleetScene } from './scene.ts';
import type { Divergence, FleetOptions, FleetStats, WorkerRestart } from './types.ts';

const WORKER = new URL('./fleet-worker.ts', import.meta.url);

interface Pending {
  resolve: (reply: FleetReply & { type: 'done' }) => void;
  reject: (err: Error) => void;
  /** Steps are settled (with no divergences) when their worker dies: its robots just lag behind. */
  isStep: boolean;
}

interface Slot {
  worker: Worker;
  robots: Array<{ index: number; seed: number }>;
  pending: Map<number, Pending>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class FleetSimulator {
  readonly scene: FleetScene;
  readonly layout: FleetLayout;
  readonly timestepSec: number;
  readonly batchSec: number;
  private readonly shared: Float64Array;
  private readonly slots: Slot[] = [];
  private readonly owner: number[] = [];
  private readonly divergences: Divergence[] = [];
  private readonly restarts: WorkerRestart[] = [];
  private batches = 0;
  private robotSteps = 0;
  private nextId = 1;
  private stopped = false;

  private constructor(
    scene: FleetScene,
    layout: FleetLayout,
    timestepSec: number,
    private readonly opts: Required<Omit<FleetOptions, 'seeds' | 'model' | 'batchSec'>> & { seeds: number[] },
  ) {
    this.scene = scene;
    this.layout = layout;
    this.timestepSec = timestepSec;
    this.batchSec = layout.stepsPerBatch * timestepSec;
    this.shared = allocateShared(layout);
  }

  /** Compiles the scene once here (for its sizes), starts the workers and waits until every robot is reset. */
  static async start(options: FleetOptions): Promise<FleetSimulator> {
    const robots = options.robots;
    if (!Number.isInteger(robots) || robots < 1)
      throw new TgError('USAGE', 'robots must be a positive integer');
    const mj = await loadMujoco();
    const scene = typeof options.model === 'string' ? fleetScene(mj, options.model) : options.model;
    const model = compileFleetScene(mj, scene);
    let layout: FleetLayout;
    let timestepSec: number;
    try {
      timestepSec = model.opt.timestep;
      const batchSec = options.batchSec ?? 0.01;
      layout = fleetLayout({
        robots,
        nq: model.nq,
        nv: model.nv,
        nu: model.nu,
        nsensordata: model.nsensordata,
        stateSize: mj.mj_stateSize(model, mj.mjtState.mjSTATE_INTEGRATION.value),
        stepsPerBatch: Math.max(1, Math.round(batchSec / timestepSec)),
      });
    } finally {
      model.delete();
    }
    const seed = options.seed ?? 0;
    const seeds = options.seeds ?? Array.from({ length: robots }, (_, k) => seed + k);
    if (seeds.length !== robots) throw new TgError('USAGE', `${seeds.length} seeds for ${robots} robots`);
    const workers = Math.max(1, Math.min(robots, options.workers ?? os.availableParallelism()));
    const fleet = new FleetSimulator(scene, layout, timestepSec, {
      robots,
      workers,
      seed,
      seeds,
      modelPerRobot: options.modelPerRobot ?? false,
      checkpointEveryBatches: options.checkpointEveryBatches ?? 10,
      maxRestarts: options.maxRestarts ?? 10,
    });
    try {
      await Promise.all(
        Array.from({ length: workers }, (_, w) => {
          const from = Math.floor((w * robots) / workers);
          const to = Math.floor(((w + 1) * robots) / workers);
          const members = seeds.slice(from, to).map((s, i) => ({ index: from + i, seed: s }));
          for (const m of members) fleet.owner[m.index] = w;
          return fleet.startWorker(w, members, false);
        }),
      );
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  get robots(): number {
    return this.layout.robots;
  }

  get workers(): number {
    return this.slots.length;
  }

  /**
   * Advances every robot by `batches` lock-step batches (`batchSec` of simulated time each). Commands are
   * only written between calls, so each worker runs all the batches back to back: one message and one
   * barrier per call, not per batch (with 10 ms batches the per-batch barrier cost the pool ~10%).
   */
  async step(batches = 1): Promise<Divergence[]> {
    if (!Number.isInteger(batches) || batches < 1)
      throw new TgError('USAGE', 'batches must be a positive integer');
    const replies = await Promise.all(
      this.slots.map((_, w) => this.request(w, { type: 'step', batches }, true)),
    );
    this.batches += batches;
    this.robotSteps += this.layout.robots * this.layout.stepsPerBatch * batches;
    const found: Divergence[] = [];
    for (const r of replies) if (r.divergences?.length) found.push(...r.divergences);
    this.divergences.push(...found);
    return found;
  }

  /** Runs until the slowest robot has advanced `simSec` (whole batches). */
  async run(simSec: number): Promise<void> {
    await this.step(Math.max(1, Math.round(simSec / this.batchSec)));
  }

  /** Live view of the robot's joint positions (valid until the next `step`). */
  qpos(robot: number): Float64Array {
    const b = this.base(robot) + this.layout.qpos;
    return this.shared.subarray(b, b + this.layout.nq);
  }

  qvel(robot: number): Float64Array {
    const b = this.base(robot) + this.layout.qvel;
    return this.shared.subarray(b, b + this.layout.nv);
  }

  /** The robot's sensordata after the last step of the last batch. */
  sensors(robot: number): Float64Array {
    const { nsensordata: ns, stepsPerBatch } = this.layout;
    const b = this.base(robot) + this.layout.sensors + (stepsPerBatch - 1) * ns;
    return this.shared.subarray(b, b + ns);
  }

  /** Every step's sensordata of the last batch, step-major (stepsPerBatch x nsensordata). */
  sensorHistory(robot: number): Float64Array {
    const { nsensordata: ns, stepsPerBatch } = this.layout;
    const b = this.base(robot) + this.layout.sensors;
    return this.shared.subarray(b, b + stepsPerBatch * ns);
  }

  /** Writable view of the robot's command, read by its worker at the start of each batch. */
  ctrl(robot: number): Float64Array {
    const b = this.base(robot) + this.layout.ctrl;
    return this.shared.subarray(b, b + this.layout.nu);
  }

  setCtrl(robot: number, values: ArrayLike<number>): void {
    if (values.length !== this.layout.nu) {
      throw new TgError('INPUT_INVALID', `ctrl has ${values.length} numbers, expected ${this.layout.nu}`);
    }
    this.ctrl(robot).set(values);
  }

  simTimeSec(robot: number): number {
    return this.shared[this.base(robot) + this.layout.time]!;
  }

  /** The robot's full MuJoCo integration state (`mj_getState`, `mjSTATE_INTEGRATION`). */
  async saveState(robot: number): Promise<Float64Array> {
    const reply = await this.request(this.owner[this.check(robot)]!, { type: 'getState', robot }, false);
    return reply.state as Float64Array;
  }

  /** Restores a state from `saveState` (its ctrl becomes the robot's command). */
  async restoreState(robot: number, state: Float64Array): Promise<void> {
    await this.request(this.owner[this.check(robot)]!, { type: 'setState', robot, state }, false);
  }

  /** Seeded reset to the home pose (the robot's own seed unless one is given); the clock keeps running. */
  async reset(robot: number, seed?: number): Promise<void> {
    await this.request(this.owner[this.check(robot)]!, { type: 'reset', robot, seed }, false);
  }

  /** Overwrites the robot's joint velocities (pushes; fault injection in tests). */
  async setQvel(robot: number, qvel: ArrayLike<number>): Promise<void> {
    await this.request(
      this.owner[this.check(robot)]!,
      { type: 'setQvel', robot, qvel: Float64Array.from(qvel) },
      false,
    );
  }

  /** Test hook: makes worker `w` throw an uncaught error; the fleet restarts it. */
  injectWorkerCrash(w: number): void {
    this.slots[w]?.worker.postMessage({ type: 'crash', id: 0 } satisfies FleetRequest);
  }

  stats(): FleetStats {
    let minSimSec = Number.POSITIVE_INFINITY;
    for (let k = 0; k < this.layout.robots; k++) minSimSec = Math.min(minSimSec, this.simTimeSec(k));
    return {
      robots: this.layout.robots,
      workers: this.slots.length,
      timestepSec: this.timestepSec,
      batches: this.batches,
      robotSteps: this.robotSteps,
      minSimSec,
      divergences: [...this.divergences],
      restarts: [...this.restarts],
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }

  private base(robot: number): number {
    return this.check(robot) * this.layout.stride;
  }

  private check(robot: number): number {
    if (!Number.isInteger(robot) || robot < 0 || robot >= this.layout.robots) {
      throw new TgError('NOT_FOUND', `no robot ${robot} (fleet has ${this.layout.robots})`);
    }
    return robot;
  }

  private request(
    w: number,
    req: DistributiveOmit<FleetRequest, 'id'>,
    isStep: boolean,
  ): Promise<FleetReply & { type: 'done' }> {
    const slot = this.slots[w]!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, isStep });
      slot.worker.postMessage({ ...req, id } as FleetRequest);
    });
  }

  private startWorker(w: number, robots: Slot['robots'], resume: boolean): Promise<void> {
    const data: FleetWorkerData = {
      shared: this.shared,
      layout: this.layout,
      scene: this.scene,
      robots,
      modelPerRobot: this.opts.modelPerRobot,
      checkpointEveryBatches: this.opts.checkpointEveryBatches,
      resume,
    };
    const worker = spawnWorker(WORKER, { ...data });
    const slot: Slot = { worker, robots, pending: new Map() };
    this.slots[w] = slot;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (reply: FleetReply) => {
        if (reply.type === 'ready') {
          ready = true;
          resolve();
          return;
        }
        const p = slot.pending.get(reply.id);
        if (!p) return;
        slot.pending.delete(reply.id);
        if (reply.type === 'done') p.resolve(reply);
        else p.reject(new TgError('INPUT_INVALID', reply.message));
      });
      const died = (error: string) => {
        if (this.slots[w] !== slot) return;
        if (!ready) {
          reject(new TgError('MODEL_INVALID', `fleet worker ${w} failed to start: ${error}`));
          return;
        }
        if (!this.stopped) void this.restart(w, slot, error);
      };
      worker.on('error', (err) => died(err.message));
      worker.on('exit', (code) => died(`exited with code ${code}`));
    });
  }

  /** Replaces a dead worker; its robots resume from their checkpoints (or their seeded reset). */
  private async restart(w: number, dead: Slot, error: string): Promise<void> {
    this.restarts.push({ worker: w, robots: dead.robots.map((r) => r.index), atBatch: this.batches, error });
    const failAll = (err: Error) => {
      for (const p of dead.pending.values()) p.reject(err);
      dead.pending.clear();
    };
    void dead.worker.terminate();
    if (this.restarts.length > this.opts.maxRestarts) {
      this.stopped = true;
      failAll(new TgError('SIM_DIVERGED', `fleet worker ${w} crashed (${error}); too many restarts`));
      return;
    }
    try {
      await this.startWorker(w, dead.robots, true);
    } catch (err) {
      failAll(err as Error);
      return;
    }
    for (const p of dead.pending.values()) {
      if (p.isStep) p.resolve({ type: 'done', id: 0 });
      else p.reject(new TgError('INTERRUPTED', `fleet worker ${w} crashed during the request (${error})`));
    }
    dead.pending.clear();
  }
}
