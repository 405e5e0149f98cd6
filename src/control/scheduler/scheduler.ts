/**
 * The rate scheduler: one robot's control layers, each at its own rate, on the spine's clock.
 *
 * Every spine tick (the physics / actuator period):
 *   plant.sense -> perception (when due) -> brain pick-up/start (at cerebellum ticks) -> cerebellum (when
 *   due) -> spine.tick (the only actuator write) -> observe -> plant.advance
 * Each layer's compute time goes into its histogram against its budget; over budget is a deadline miss.
 * A tick over budget in wall time is checked against the kernel's count of the thread's run-queue wait
 * (read at a tick's start when the last reading is older than PREEMPTION_MARK_MS, and after the slow
 * tick): the time the operating system had the thread off its core is not the layer's compute. In
 * simulated time that also keeps a preempted tick from timing out (the simulated world did not move
 * meanwhile); in realtime mode a timeout is wall time.
 *
 * A slower layer never blocks a faster one: the brain is asynchronous, its result is handed over at the
 * first cerebellum tick after it lands, and the cerebellum keeps executing the last plan meanwhile. A
 * fault in a layer above the spine (an exception, a non-finite command, a compute time past the layer's
 * timeout, a rejected plan) stops the robot through the spine in the same tick, and the faulted layer is
 * not run again until `resume`.
 *
 * Simulated time (default) is deterministic: the brain's result lands `latencySec` of simulated time after
 * it was started, waiting in wall time if it is late, so wall-clock speed never changes what the robot
 * does. Only timeouts read the wall clock. `realtime` paces ticks to the wall clock instead (teleoperation,
 * real robots) and picks the brain's result up whenever it arrives.
 */
import { TgError } from '../../errors/index.ts';
import { runQueueWaitMs } from '../../threads/index.ts';
import { LAYER_BUDGET_MS, type LayerName } from '../contracts.ts';
import type { Spine, StopCategory } from '../spine/index.ts';
import { type LayerReport, LayerTelemetry } from './layer-telemetry.ts';

/** The robot (simulated or real) under the scheduler. */
export interface Plant {
  /** Reads the sensors for the tick at `tSec`, before any layer runs: at least `spine.feedback`. */
  sense(tSec: number): void;
  /** Advances the world by one spine tick (a simulation steps; a real robot's time passes by itself). */
  advance(): void;
}

/** Perception: turns the latest sensor readings into the world state the layers above read. */
export interface PeriodicLayer {
  tick(tSec: number): void;
}

/**
 * The cerebellum: writes the next command (canonical action order) over the previous one in `command`.
 * Returning false means "nothing new this tick" (a teleoperation link without a fresh packet): nothing is
 * submitted and the spine's watchdog ages the last command.
 */
export interface CommandLayer {
  // biome-ignore lint/suspicious/noConfusingVoidType: a layer that always submits returns nothing.
  tick(tSec: number, command: Float64Array): boolean | void;
}

/** The brain: plans asynchronously; `deliver` hands a landed result on (and throws on a garbage plan). */
export interface PlannerLayer<R> {
  start(tSec: number, signal: AbortSignal): Promise<R>;
  deliver(result: R, tSec: number): void;
}

export interface RateOptions {
  rateHz: number;
  /** Defaults: LAYER_BUDGET_MS. */
  budgetMs?: number;
  /** Compute time past which the layer's output is discarded and the robot stopped (default: budget). */
  timeoutMs?: number;
}

export interface SchedulerOptions<R = unknown> {
  /** The spine, holding the robot's only actuator port; primed with `reset` before the scheduler runs. */
  spine: Spine;
  plant: Plant;
  cerebellum: RateOptions & {
    layer: CommandLayer;
    /** Ramp each command over one cerebellum period (first-order hold); default true. */
    interpolate?: boolean;
  };
  perception?: RateOptions & { layer: PeriodicLayer };
  brain?: {
    layer: PlannerLayer<R>;
    budgetMs?: number;
    /** Wall time past which a plan is a fault (default: budget); the planner's signal is aborted then. */
    timeoutMs?: number;
    /** Simulated time from start to the result landing (simulated-time mode; default 0). */
    latencySec?: number;
  };
  /** Pace to the wall clock instead of running as fast as possible in simulated time. */
  realtime?: boolean;
  /** Stop category for a fault above the spine (default 2: controlled stop, power stays on). */
  faultStopCategory?: StopCategory;
  /** Called after each spine tick, before the plant advances (recorders, independent checkers). */
  observe?: (tSec: number) => void;
  /** Simulated time of the first tick (default 0). */
  startSec?: number;
}

/** The slowest rates the control hierarchy allows (the floor for each layer). */
export const MIN_RATE_HZ = { cerebellum: 200, perception: 30 } as const;

export interface LayerFault {
  layer: Exclude<LayerName, 'spine'>;
  reason: string;
  tSec: number;
}

export interface SchedulerReport {
  simSec: number;
  /** Spine ticks run. */
  ticks: number;
  /** Sum of every layer's misses. */
  deadlineMisses: number;
  /** Realtime mode: ticks that started more than one period late. */
  overruns: number;
  faults: LayerFault[];
  layers: Record<LayerName, LayerReport>;
}

interface BrainFlight<R> {
  controller: AbortController;
  startedSec: number;
  dueSec: number;
  wallStart: number;
  wallEnd: number;
  settled: boolean;
  ok: boolean;
  value: R | undefined;
  error: unknown;
  settledPromise: Promise<void>;
}

const now = (): number => performance.now();

/**
 * Wall time after which a tick reads the thread's run-queue wait afresh. A reading costs about a
 * microsecond; the wall time between the last reading and a slow tick's start is what the scheduler cannot
 * tell apart from preemption, and is charged to the tick (so robots taking turns on a thread, or a pause
 * between ticks, cost one reading each time, not a wrongly counted miss).
 */
const PREEMPTION_MARK_MS = 0.5;

export class RateScheduler<R = unknown> {
  readonly telemetry: Record<LayerName, LayerTelemetry>;
  readonly faults: LayerFault[] = [];
  overruns = 0;

  private readonly spine: Spine;
  private readonly plant: Plant;
  private readonly o: SchedulerOptions<R>;
  private readonly tickSec: number;
  private readonly cerebEvery: number;
  private readonly percEvery: number;
  private readonly cerebTimeoutMs: number;
  private readonly percTimeoutMs: number;
  private readonly brainTimeoutMs: number;
  private readonly rampSec: number;
  private readonly command: Float64Array;
  private readonly faulted = { brain: false, perception: false, cerebellum: false };
  private readonly startSec: number;
  private k = 0;
  private planWanted = false;
  private flight: BrainFlight<R> | null = null;
  /** Wall time and run-queue wait at the last preemption mark. */
  private markWall = 0;
  private markWaitMs = Number.NaN;

  constructor(opts: SchedulerOptions<R>) {
    this.o = opts;
    this.spine = opts.spine;
    this.plant = opts.plant;
    this.tickSec = opts.spine.limits.tickSec;
    this.startSec = opts.startSec ?? 0;
    const spineHz = 1 / this.tickSec;
    this.cerebEvery = ticksPer('cerebellum', opts.cerebellum.rateHz, spineHz, MIN_RATE_HZ.cerebellum);
    this.percEvery = opts.perception
      ? ticksPer('perception', opts.perception.rateHz, spineHz, MIN_RATE_HZ.perception)
      : 0;
    const budget = (layer: LayerName, ms: number | undefined): number => {
      const b = ms ?? LAYER_BUDGET_MS[layer];
      if (!(b > 0)) throw new TgError('CONFIG_INVALID', `${layer} budgetMs ${b} must be > 0`);
      return b;
    };
    this.telemetry = {
      brain: new LayerTelemetry('brain', budget('brain', opts.brain?.budgetMs)),
      perception: new LayerTelemetry('perception', budget('perception', opts.perception?.budgetMs)),
      cerebellum: new LayerTelemetry('cerebellum', budget('cerebellum', opts.cerebellum.budgetMs)),
      spine: new LayerTelemetry('spine', LAYER_BUDGET_MS.spine),
    };
    this.cerebTimeoutMs = opts.cerebellum.timeoutMs ?? this.telemetry.cerebellum.budgetMs;
    this.percTimeoutMs = opts.perception?.timeoutMs ?? this.telemetry.perception.budgetMs;
    this.brainTimeoutMs = opts.brain?.timeoutMs ?? this.telemetry.brain.budgetMs;
    const latency = opts.brain?.latencySec ?? 0;
    if (!(latency >= 0)) throw new TgError('CONFIG_INVALID', `brain latencySec ${latency} must be >= 0`);
    this.rampSec = opts.cerebellum.interpolate === false ? 0 : this.cerebEvery * this.tickSec;
    this.command = new Float64Array(opts.spine.size);
  }

  /** Simulated time of the next tick. */
  get tSec(): number {
    return this.startSec + this.k * this.tickSec;
  }

  get ticks(): number {
    return this.k;
  }

  /** Asks the brain for a plan; it starts at the next cerebellum tick (after one in flight lands). */
  requestPlan(): void {
    this.planWanted = true;
  }

  get planning(): boolean {
    return this.flight !== null || this.planWanted;
  }

  /** The layers above the spine that faulted since the last `resume` (they are not run until then). */
  get faultedLayers(): readonly Exclude<LayerName, 'spine'>[] {
    return (['brain', 'perception', 'cerebellum'] as const).filter((l) => this.faulted[l]);
  }

  /**
   * After a fault has been dealt with: re-enables the faulted layers and releases the spine's stop (false
   * while the spine is still decelerating).
   */
  resume(): boolean {
    if (!this.spine.release(this.tSec)) return false;
    this.faulted.brain = false;
    this.faulted.perception = false;
    this.faulted.cerebellum = false;
    this.command.set(this.spine.output);
    return true;
  }

  /**
   * Runs one spine tick. Returns a promise only when the tick must wait for the brain (simulated time);
   * otherwise it completed synchronously.
   */
  step(): Promise<void> | undefined {
    const t = this.tSec;
    // The cerebellum's first command starts from where the spine holds the robot (primed by its reset).
    if (this.k === 0) this.command.set(this.spine.output);
    const wall = now();
    if (wall - this.markWall > PREEMPTION_MARK_MS) {
      this.markWall = wall;
      this.markWaitMs = runQueueWaitMs();
    }
    this.plant.sense(t);
    if (this.percEvery > 0 && this.k % this.percEvery === 0) this.runPerception(t);
    const cerebDue = this.k % this.cerebEvery === 0;
    if (cerebDue && this.o.brain) {
      const wait = this.serviceBrain(t);
      if (wait) return this.finishAfter(wait, t);
    }
    this.finishTick(t, cerebDue);
    return undefined;
  }

  /** Runs ticks until simulated time reaches `endSec` (in realtime mode, paced to the wall clock). */
  async runUntil(endSec: number): Promise<void> {
    const end = endSec - 1e-9;
    if (!this.o.realtime) {
      while (this.tSec < end) {
        const wait = this.step();
        if (wait) await wait;
      }
      return;
    }
    const t0 = this.tSec;
    const wall0 = now();
    const periodMs = this.tickSec * 1000;
    while (this.tSec < end) {
      const dueMs = wall0 + (this.tSec - t0) * 1000;
      const lead = dueMs - now();
      // setTimeout resolves in whole milliseconds: sleep only when a tick is at least 1 ms ahead.
      if (lead >= 1) await sleep(lead);
      if (now() - dueMs > periodMs) this.overruns++;
      const wait = this.step();
      if (wait) await wait;
    }
  }

  report(): SchedulerReport {
    const layers = {
      brain: this.telemetry.brain.report(),
      perception: this.telemetry.perception.report(),
      cerebellum: this.telemetry.cerebellum.report(),
      spine: this.telemetry.spine.report(),
    };
    return {
      simSec: this.k * this.tickSec,
      ticks: this.k,
      deadlineMisses:
        layers.brain.misses + layers.perception.misses + layers.cerebellum.misses + layers.spine.misses,
      overruns: this.overruns,
      faults: [...this.faults],
      layers,
    };
  }

  // ---- internals ----
  //
  // The per-tick functions (step, serviceBrain, startBrain's check) create no closures: a function with a
  // closure that captures its locals or `this` allocates its context on every call, even on the paths that
  // never create the closure. The closures live in the rarely called helpers below.

  /** A cerebellum tick (the only kind that waits for the brain) finished once the brain has landed. */
  private finishAfter(wait: Promise<void>, t: number): Promise<void> {
    return wait.then(() => this.finishTick(t, true));
  }

  private finishTick(t: number, cerebDue: boolean): void {
    if (cerebDue && !this.faulted.cerebellum) this.runCerebellum(t);
    const spine = this.spine;
    const t0 = now();
    spine.tick(t);
    this.charge(this.telemetry.spine, t0);
    spine.flushEvents();
    this.o.observe?.(t);
    this.plant.advance();
    this.k++;
  }

  /**
   * Records the compute time of a run that started at wall time `t0` and returns it: its wall time, less
   * the time the thread was preempted when that made it go over budget (in realtime mode the wall time is
   * returned all the same, for the timeout: there the world moved on while the thread waited).
   */
  private charge(tel: LayerTelemetry, t0: number): number {
    const wall = now() - t0;
    if (wall <= tel.budgetMs) {
      tel.record(wall);
      return wall;
    }
    // Preempted for at least the run-queue wait since the mark, less the wall time between mark and start.
    // The wall time is read again after the wait, so that a preemption between the two is charged too. (A
    // kernel that delays dequeuing a sleeping thread, EEVDF, counts a little of a sleep as wait: control
    // ticks compute, they do not sleep.)
    const preempted = runQueueWaitMs() - this.markWaitMs - (t0 - this.markWall);
    const wallAfter = now() - t0;
    if (!(preempted > 0)) {
      tel.record(wallAfter);
      return wallAfter;
    }
    tel.recordPreempted(wallAfter, preempted);
    return this.o.realtime ? wallAfter : Math.max(0, wallAfter - preempted);
  }

  private fault(layer: LayerFault['layer'], reason: string, tSec: number): void {
    this.faulted[layer] = true;
    this.telemetry[layer].faults++;
    this.faults.push({ layer, reason, tSec });
    this.spine.estop(this.o.faultStopCategory ?? 2, tSec, `${layer}: ${reason}`);
  }

  private runPerception(t: number): void {
    const p = this.o.perception!;
    if (this.faulted.perception) return;
    const t0 = now();
    try {
      p.layer.tick(t);
    } catch (err) {
      this.charge(this.telemetry.perception, t0);
      this.fault('perception', `exception: ${message(err)}`, t);
      return;
    }
    const ms = this.charge(this.telemetry.perception, t0);
    if (ms > this.percTimeoutMs)
      this.fault('perception', `timeout: ${round(ms)} ms > ${this.percTimeoutMs} ms`, t);
  }

  private runCerebellum(t: number): void {
    const cmd = this.command;
    const t0 = now();
    let fresh: unknown;
    try {
      fresh = this.o.cerebellum.layer.tick(t, cmd);
    } catch (err) {
      this.charge(this.telemetry.cerebellum, t0);
      this.fault('cerebellum', `exception: ${message(err)}`, t);
      return;
    }
    const ms = this.charge(this.telemetry.cerebellum, t0);
    if (ms > this.cerebTimeoutMs) {
      this.fault('cerebellum', `timeout: ${round(ms)} ms > ${this.cerebTimeoutMs} ms`, t);
      return;
    }
    if (fresh === false) return;
    for (let i = 0; i < cmd.length; i++) {
      if (!Number.isFinite(cmd[i]!)) {
        this.fault('cerebellum', `non-finite command on channel ${this.spine.limits.names[i]}`, t);
        return;
      }
    }
    this.spine.submit(cmd, t, this.rampSec);
  }

  /** Delivers a landed plan and starts a requested one; returns a promise when simulated time must wait. */
  private serviceBrain(t: number): Promise<void> | undefined {
    const f = this.flight;
    if (f) {
      if (!f.settled) {
        if (!this.o.realtime && t >= f.dueSec - 1e-12) {
          // Simulated time has reached the landing time: wait (wall clock) for the result or the timeout.
          return this.landWhenSettled(t, f);
        }
        if (now() - f.wallStart > this.brainTimeoutMs) this.landBrain(t, f);
      } else if (this.o.realtime || t >= f.dueSec - 1e-12) {
        this.landBrain(t, f);
      }
    }
    this.startBrain(t);
    return undefined;
  }

  private landWhenSettled(t: number, f: BrainFlight<R>): Promise<void> {
    const left = this.brainTimeoutMs - (now() - f.wallStart);
    return settledWithin(f.settledPromise, left).then(() => this.landBrain(t, f));
  }

  private landBrain(t: number, f: BrainFlight<R>): void {
    if (this.flight !== f) return;
    this.flight = null;
    const tel = this.telemetry.brain;
    if (!f.settled) {
      tel.record(now() - f.wallStart);
      f.controller.abort();
      this.fault('brain', `timeout: no plan after ${this.brainTimeoutMs} ms`, t);
      return;
    }
    const ms = f.wallEnd - f.wallStart;
    tel.record(ms);
    if (!f.ok) {
      this.fault('brain', `exception: ${message(f.error)}`, t);
      return;
    }
    if (ms > this.brainTimeoutMs) {
      this.fault('brain', `timeout: plan took ${round(ms)} ms > ${this.brainTimeoutMs} ms`, t);
      return;
    }
    try {
      this.o.brain!.layer.deliver(f.value as R, t);
    } catch (err) {
      this.fault('brain', `rejected plan: ${message(err)}`, t);
    }
    this.startBrain(t);
  }

  private startBrain(t: number): void {
    if (!this.planWanted || this.flight || this.faulted.brain) return;
    this.launchBrain(t);
  }

  private launchBrain(t: number): void {
    this.planWanted = false;
    const controller = new AbortController();
    const f: BrainFlight<R> = {
      controller,
      startedSec: t,
      dueSec: t + (this.o.brain!.latencySec ?? 0),
      wallStart: now(),
      wallEnd: 0,
      settled: false,
      ok: false,
      value: undefined,
      error: undefined,
      settledPromise: Promise.resolve(),
    };
    let promise: Promise<R>;
    try {
      promise = this.o.brain!.layer.start(t, controller.signal);
    } catch (err) {
      promise = Promise.reject(err);
    }
    f.settledPromise = promise.then(
      (value) => {
        f.wallEnd = now();
        f.settled = true;
        f.ok = true;
        f.value = value;
      },
      (err: unknown) => {
        f.wallEnd = now();
        f.settled = true;
        f.error = err;
      },
    );
    this.flight = f;
  }
}

function ticksPer(layer: string, rateHz: number, spineHz: number, minHz: number): number {
  if (!(rateHz >= minHz)) {
    throw new TgError('CONFIG_INVALID', `${layer} rate ${rateHz} Hz is below the ${minHz} Hz floor`);
  }
  const every = Math.round(spineHz / rateHz);
  if (every < 1 || Math.abs(every * rateHz - spineHz) > 1e-6 * spineHz) {
    throw new TgError(
      'CONFIG_INVALID',
      `${layer} rate ${rateHz} Hz does not divide the spine rate ${spineHz} Hz`,
    );
  }
  return every;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `p` settles or after `ms`, whichever is first, leaving no timer behind. */
function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
