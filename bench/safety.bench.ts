import { z } from 'zod';
import type { Plan } from '../src/control/contracts.ts';
import { LayerTelemetry, RateScheduler } from '../src/control/scheduler/index.ts';
import {
  SceneSpinePort,
  Spine,
  type SpineLimits,
  type StopCategory,
  servoModelFromScene,
  spineLimitsFor,
} from '../src/control/spine/index.ts';
import { SKILL_ARGS } from '../src/control/vocabulary.ts';
import { channelMaxVelocity, type Embodiment, loadEmbodiment } from '../src/embodiment/index.ts';
import { pickPlaceXml } from '../src/sim/scenes/pick-place.ts';
import { robotFile, robotFiles } from '../src/sim/scenes/scene.ts';
import { SceneWorld } from '../src/sim/scenes/scene-world.ts';
import { type Rng, seededRng } from '../src/sim/world.ts';
import { defineBenchmark } from './harness.ts';

/**
 * Adversarial commands and injected faults against the real spine and rate scheduler on a MuJoCo arm7
 * (the pick-and-place scene), judged by a checker that knows only the embodiment's limits and reads what
 * reached the actuators (`ctrl`) after every spine tick.
 *
 * Segments of 1 s simulated time alternate between
 * - attacks: the command source (the cerebellum slot, with a second unchecked link straight to the spine,
 *   as a teleoperation path would be) sends NaN, Inf, huge, out-of-limit and jumping commands, bursts of
 *   several commands in one tick, and goes silent (stale); interlock stops end the segment;
 * - faults: a nominal motion, then one injected fault: brain crash, hang or garbage plan; cerebellum
 *   exception, NaN output or timeout; proprioceptive or camera dropout; external e-stop of category 0, 1
 *   or 2.
 * An actuation is unsafe when a target is non-finite or outside the position limits, a step exceeds the
 * speed limit, a change of step exceeds the acceleration limit (except the frozen output of a category 0
 * stop), or, after a fault, any channel speeds up or reverses later than one tick after the fault
 * became detectable, or is still moving when the stop time has passed. `maxStopTicks` is the largest
 * number of spine ticks from that moment to the first tick from which the output follows a stop profile.
 */

const CEREBELLUM_HZ = 250;
const PERCEPTION_HZ = 50;
const SEGMENT_SEC = 1;
const BRAIN_LATENCY_SEC = 0.1;
const BRAIN_HANG_TIMEOUT_MS = 150;
/** Joint acceleration the spine and the checker use: full speed in 0.05 s (spineLimitsFor's default). */
const ACCELERATION_TIME_SEC = 0.05;

const FAULTS = [
  'brain_crash',
  'brain_hang',
  'brain_garbage',
  'cerebellum_exception',
  'cerebellum_nan',
  'cerebellum_timeout',
  'proprio_dropout',
  'camera_dropout',
  'estop_0',
  'estop_1',
  'estop_2',
] as const;
type FaultKind = (typeof FAULTS)[number];

/** What a checker with only the embodiment's numbers says about the stream of actuated targets. */
class ActuationChecker {
  unsafe = 0;
  private readonly n: number;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private readonly maxStep: Float64Array;
  private readonly maxStepChange: Float64Array;
  private readonly prev: Float64Array;
  private readonly prevStep: Float64Array;
  private readonly step: Float64Array;
  /** Steps written since the fault became detectable (one row per tick), for the stop-profile check. */
  private readonly afterFault: Float64Array[] = [];
  private readonly preFault: Float64Array;
  private faultTick = -1;
  private frozen = false;
  ticks = 0;

  constructor(arm: Embodiment, dt: number) {
    this.n = arm.actionNames.length;
    this.lower = Float64Array.from(arm.jointLimits.lower);
    this.upper = Float64Array.from(arm.jointLimits.upper);
    const vmax = channelMaxVelocity(arm);
    this.maxStep = Float64Array.from(vmax, (v) => v * dt);
    this.maxStepChange = Float64Array.from(vmax, (v) => (v / ACCELERATION_TIME_SEC) * dt * dt);
    this.prev = new Float64Array(this.n);
    this.prevStep = new Float64Array(this.n);
    this.step = new Float64Array(this.n);
    this.preFault = new Float64Array(this.n);
  }

  /** A new segment: the robot starts at rest at `ctrl`. */
  restart(ctrl: ArrayLike<number>): void {
    for (let i = 0; i < this.n; i++) this.prev[i] = ctrl[i]!;
    this.prevStep.fill(0);
    this.afterFault.length = 0;
    this.faultTick = -1;
    this.frozen = false;
    this.ticks = 0;
  }

  /** From this tick on the output must follow a stop profile (`frozen`: category 0, no motion at all). */
  faultDetectable(frozen: boolean): void {
    if (this.faultTick >= 0) return;
    this.faultTick = this.ticks;
    this.frozen = frozen;
    this.preFault.set(this.prevStep);
  }

  observe(ctrl: ArrayLike<number>): void {
    let bad = false;
    for (let i = 0; i < this.n; i++) {
      const c = ctrl[i]!;
      if (!Number.isFinite(c) || c < this.lower[i]! - 1e-12 || c > this.upper[i]! + 1e-12) bad = true;
      const d = c - this.prev[i]!;
      this.step[i] = d;
      if (Math.abs(d) > this.maxStep[i]! * (1 + 1e-9) + 1e-15) bad = true;
      const frozenStop = this.frozen && this.faultTick >= 0 && d === 0;
      if (!frozenStop && Math.abs(d - this.prevStep[i]!) > this.maxStepChange[i]! * (1 + 1e-6) + 1e-15)
        bad = true;
    }
    if (bad) this.unsafe++;
    if (this.faultTick >= 0) this.afterFault.push(Float64Array.from(this.step));
    for (let i = 0; i < this.n; i++) {
      this.prev[i] = ctrl[i]!;
      this.prevStep[i] = this.step[i]!;
    }
    this.ticks++;
  }

  /**
   * Closes a fault. A tick follows the stop profile when every channel's step is no larger than the one
   * before it less half the acceleration limit's change (or zero), in the same direction (all zero after
   * a category 0 stop). Returns the first tick (counted from the fault) from which every tick follows it,
   * and the ticks to standstill; a tick breaking the profile later than one tick after the fault, or still
   * moving after `standstillTicks`, is unsafe.
   */
  closeFault(standstillTicks: number): { stopTicks: number; standstill: boolean; settleTicks: number } {
    const rows = this.afterFault;
    const conforms = (k: number): boolean => {
      const cur = rows[k]!;
      const before = k === 0 ? this.preFault : rows[k - 1]!;
      for (let i = 0; i < this.n; i++) {
        const c = cur[i]!;
        if (this.frozen) {
          if (c !== 0) return false;
          continue;
        }
        const b = before[i]!;
        if (Math.abs(c) > Math.max(Math.abs(b) - 0.5 * this.maxStepChange[i]!, 0) + 1e-15 || c * b < 0)
          return false;
      }
      return true;
    };
    let start = rows.length;
    while (start > 0 && conforms(start - 1)) start--;
    for (let k = 1; k < start; k++) if (!conforms(k)) this.unsafe++;
    let settle = rows.length;
    while (settle > 0 && rows[settle - 1]!.every((d) => d === 0)) settle--;
    const standstill = settle < rows.length && settle <= standstillTicks;
    if (settle > standstillTicks) this.unsafe += settle - standstillTicks;
    this.faultTick = -1;
    this.afterFault.length = 0;
    return { stopTicks: start, standstill, settleTicks: settle };
  }
}

export default defineBenchmark({
  name: 'safety',
  description: 'adversarial commands and injected layer faults against the spine + scheduler on a MuJoCo arm',
  options: z
    .object({
      commands: z.coerce.number().int().min(1000).max(10_000_000).default(100_000),
      seed: z.coerce.number().int().default(1),
    })
    .strict(),
  async run({ commands: target, seed }, ctx) {
    const arm = loadEmbodiment('arm7');
    const world = await SceneWorld.create({
      name: 'pick-place',
      arm,
      xml: pickPlaceXml(robotFile(arm)),
      files: robotFiles(arm),
    });
    const dt = world.timestepSec;
    const limits = spineLimitsFor(arm, dt, {
      servo: servoModelFromScene(world),
      accelerationTimeSec: ACCELERATION_TIME_SEC,
    });
    const rng = seededRng(seed);
    const checker = new ActuationChecker(arm, dt);
    const standstillTicks = Math.ceil(ACCELERATION_TIME_SEC / dt) + 2;
    const tally = {
      commands: 0,
      faultsInjected: 0,
      safeStops: 0,
      maxStopTicks: 0,
      maxSettleTicks: 0,
      interlockStops: { watchdog: 0, contact: 0, workspace: 0, feedback: 0 },
      faultsByKind: Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<FaultKind, number>,
      maxStopTicksByKind: Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<FaultKind, number>,
      interventions: 0,
      events: 0,
      segments: 0,
      ticks: 0,
      spuriousLayerFaults: 0,
    };
    const spineTelemetry = new LayerTelemetry('spine', 1);
    const cerebTelemetry = new LayerTelemetry('cerebellum', 10);

    let segment = 0;
    while (tally.commands < target) {
      const fault: FaultKind | null =
        segment % 3 === 2 ? FAULTS[Math.floor(segment / 3) % FAULTS.length]! : null;
      const s = await runSegment(world, arm, limits, rng, checker, fault, standstillTicks);
      tally.commands += s.commands;
      tally.interventions += s.interventions;
      tally.events += s.events;
      tally.ticks += s.ticks;
      tally.segments++;
      if (!fault) tally.spuriousLayerFaults += s.layerFaults;
      for (const k of Object.keys(s.interlockStops) as (keyof typeof tally.interlockStops)[]) {
        tally.interlockStops[k] += s.interlockStops[k];
      }
      if (fault) {
        tally.faultsInjected++;
        tally.faultsByKind[fault]++;
        if (s.safeStop) tally.safeStops++;
        tally.maxStopTicks = Math.max(tally.maxStopTicks, s.stopTicks);
        tally.maxStopTicksByKind[fault] = Math.max(tally.maxStopTicksByKind[fault], s.stopTicks);
        tally.maxSettleTicks = Math.max(tally.maxSettleTicks, s.settleTicks);
      }
      spineTelemetry.merge(s.telemetry.spine);
      cerebTelemetry.merge(s.telemetry.cerebellum);
      segment++;
      ctx.progress(
        Math.min(0.95, tally.commands / target),
        `${tally.commands} commands, ${tally.faultsInjected} faults`,
      );
    }

    // Negative control: the same attacks written straight to the actuators, no spine. The checker must
    // object, or it proves nothing.
    const control = bypassControl(world, arm, seededRng(seed + 1), new ActuationChecker(arm, dt));

    // Baseline for the harness ratio: a bare copy of the command into ctrl (the write without the spine),
    // between physics steps as the spine's tick is.
    const cmd = Float64Array.from(arm.home);
    world.resetData();
    world.setArmState(arm.home);
    const bare = new LayerTelemetry('spine', 1);
    for (let k = 0; k < 20000; k++) {
      cmd[0] = arm.home[0]! + 0.1 * Math.sin(k * dt);
      const t0 = performance.now();
      world.applyAction(cmd);
      bare.record(performance.now() - t0);
      world.step();
    }
    world.dispose();
    ctx.progress(1);

    const sp = spineTelemetry.report();
    const us = (ms: number): number => Math.round(ms * 1e6) / 1000;
    return [
      {
        metric: 'spineTickP99Us',
        value: us(sp.p99Ms),
        unit: 'us',
        baseline: us(bare.report().p99Ms),
        higherIsBetter: false,
        details: {
          commands: tally.commands,
          faultsInjected: tally.faultsInjected,
          safeStops: tally.safeStops,
          unsafeActuations: checker.unsafe,
          maxStopTicks: tally.maxStopTicks,
          maxStandstillTicks: tally.maxSettleTicks,
          faultsByKind: tally.faultsByKind,
          maxStopTicksByKind: tally.maxStopTicksByKind,
          interlockStops: tally.interlockStops,
          spineInterventions: tally.interventions,
          safetyEvents: tally.events,
          segments: tally.segments,
          spineTicks: tally.ticks,
          simSec: Math.round(tally.ticks * dt * 1000) / 1000,
          spine: { p50Us: us(sp.p50Ms), p99Us: us(sp.p99Ms), maxUs: us(sp.maxMs), misses: sp.misses },
          cerebellumMisses: cerebTelemetry.misses,
          spuriousLayerFaults: tally.spuriousLayerFaults,
          checkerControl: control,
        },
      },
    ];
  },
});

interface SegmentResult {
  /** Faults the scheduler saw (in an attack segment, only a layer over its timeout on a loaded machine). */
  layerFaults: number;
  commands: number;
  interventions: number;
  events: number;
  ticks: number;
  safeStop: boolean;
  stopTicks: number;
  settleTicks: number;
  interlockStops: { watchdog: number; contact: number; workspace: number; feedback: number };
  telemetry: RateScheduler<Plan>['telemetry'];
}

/** A random pose inside a comfortable envelope around home (the nominal motion's waypoints). */
function waypoint(arm: Embodiment, rng: Rng, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    const span = i < arm.jointNames.length ? 0.5 : 0.04;
    const lo = arm.jointLimits.lower[i]!;
    const hi = arm.jointLimits.upper[i]!;
    out[i] = Math.min(hi, Math.max(lo, arm.home[i]! + (2 * rng.next() - 1) * span));
  }
}

/**
 * A nominal motion source: accelerates toward its waypoint at 10 rad/s^2 up to 1 rad/s (0.1 m/s for the
 * gripper) and picks a new waypoint when it gets there.
 */
class Mover {
  readonly x: Float64Array;
  private readonly v: Float64Array;
  private readonly goal: Float64Array;
  constructor(
    private readonly arm: Embodiment,
    private readonly rng: Rng,
    start: ArrayLike<number>,
  ) {
    this.x = Float64Array.from(start);
    this.v = new Float64Array(this.x.length);
    this.goal = new Float64Array(this.x.length);
    waypoint(arm, rng, this.goal);
  }

  advance(dtc: number): void {
    let arrived = true;
    for (let i = 0; i < this.x.length; i++) {
      const vmax = i < this.arm.jointNames.length ? 1 : 0.1;
      const a = 10 * vmax;
      const d = this.goal[i]! - this.x[i]!;
      // Speed that still stops at the goal, then at most a*dtc of change per tick.
      const vStop = Math.sign(d) * Math.min(vmax, Math.sqrt(2 * a * Math.abs(d)));
      const v = this.v[i]! + Math.max(-a * dtc, Math.min(a * dtc, vStop - this.v[i]!));
      this.v[i] = v;
      this.x[i] = this.x[i]! + v * dtc;
      if (Math.abs(d) > 1e-3) arrived = false;
    }
    if (arrived) waypoint(this.arm, this.rng, this.goal);
  }
}

/** One adversarial command (canonical order) written into `out`; returns how it must be sent. */
function attack(arm: Embodiment, rng: Rng, nominal: Float64Array, out: Float64Array): 'cmd' | 'direct' {
  out.set(nominal);
  const n = out.length;
  const all = rng.next() < 0.3;
  const ch = Math.floor(rng.next() * n);
  const pick = rng.next();
  const lo = arm.jointLimits.lower;
  const hi = arm.jointLimits.upper;
  for (let i = 0; i < n; i++) {
    if (!all && i !== ch) continue;
    if (pick < 0.25) {
      out[i] = Number.NaN;
    } else if (pick < 0.35) {
      out[i] = rng.next() < 0.5 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    } else if (pick < 0.55) {
      out[i] = (rng.next() < 0.5 ? -1 : 1) * 10 ** (3 + 6 * rng.next());
    } else if (pick < 0.8) {
      out[i] = rng.next() < 0.5 ? lo[i]! - 2 * rng.next() : hi[i]! + 2 * rng.next();
    } else {
      out[i] = lo[i]! + (hi[i]! - lo[i]!) * rng.next();
    }
  }
  return pick < 0.35 ? 'direct' : 'cmd';
}

async function runSegment(
  world: SceneWorld,
  arm: Embodiment,
  limits: SpineLimits,
  rng: Rng,
  checker: ActuationChecker,
  fault: FaultKind | null,
  standstillTicks: number,
): Promise<SegmentResult> {
  const dt = world.timestepSec;
  world.resetData();
  const start = Float64Array.from(arm.home);
  for (let i = 0; i < arm.jointNames.length; i++) start[i] = start[i]! + 0.2 * (2 * rng.next() - 1);
  world.setArmState(start);
  world.forward();

  const port = new SceneSpinePort(world, limits);
  const stops = { watchdog: 0, contact: 0, workspace: 0, feedback: 0 };
  let events = 0;
  let stoppedAt = -1;
  const spine = new Spine(limits, {
    actuators: port,
    sink: (e) => {
      events++;
      if (fault || e.category === undefined) return;
      // An interlock (or a spurious layer fault) stopped an attack segment: from this tick the checker
      // expects the stop profile. Events are delivered right after the spine tick, before `observe`.
      if (e.kind === 'watchdog_stop') stops[e.target === 'feedback' ? 'feedback' : 'watchdog']++;
      else if (e.kind === 'contact_force') stops.contact++;
      else if (e.kind === 'workspace') stops.workspace++;
      if (stoppedAt < 0) {
        stoppedAt = Math.round(e.tSec / dt);
        checker.faultDetectable(e.category === 0);
      }
    },
  });
  port.sense(spine.feedback, 0);
  spine.reset(spine.feedback.q, 0);
  checker.restart(world.ctrl.subarray(0, world.actionDim));

  const dtc = 1 / CEREBELLUM_HZ;
  const perceptionEvery = Math.round(1 / (PERCEPTION_HZ * dt));
  const ticks = Math.round(SEGMENT_SEC / dt);
  const faultTick = fault ? alignedTick(100 + Math.floor(rng.next() * 200), fault, dt) : -1;
  const mover = new Mover(arm, rng, start);
  const scratch = new Float64Array(world.actionDim);
  let silentUntil = -1;
  let driveUntil = -1;
  const drivePose = new Float64Array(world.actionDim);
  let proprioDead = false;
  let cameraStamp = 0;
  let lastCameraStamp = -1;
  let brainMode: 'ok' | 'crash' | 'hang' | 'garbage' = 'ok';
  let detectTick = -1;

  const scheduler: RateScheduler<Plan> = new RateScheduler<Plan>({
    spine,
    plant: {
      sense(t) {
        const k = Math.round(t / dt);
        if (fault === 'proprio_dropout' && k === faultTick) proprioDead = true;
        if (!proprioDead) port.sense(spine.feedback, t);
        // The camera delivers one frame per perception tick; after a dropout, none.
        if (k % perceptionEvery === 0 && !(fault === 'camera_dropout' && k >= faultTick)) cameraStamp = t;
        if (fault?.startsWith('estop_') && k === faultTick) {
          spine.estop(Number(fault.slice(6)) as StopCategory, t, 'button');
        }
      },
      advance() {
        world.step();
      },
    },
    perception: {
      rateHz: PERCEPTION_HZ,
      timeoutMs: 1000,
      layer: {
        tick() {
          // The camera has not delivered a frame since the last perception tick: a dropout.
          if (cameraStamp === lastCameraStamp) throw new Error('camera dropout');
          lastCameraStamp = cameraStamp;
        },
      },
    },
    cerebellum: {
      rateHz: CEREBELLUM_HZ,
      timeoutMs: 10,
      layer: {
        tick(t, cmd) {
          const k = Math.round(t / dt);
          mover.advance(dtc);
          if (fault === 'cerebellum_exception' && k === faultTick) throw new Error('skill crashed');
          if (fault === 'cerebellum_timeout' && k === faultTick) {
            // A hung skill: the thread blocks 15 ms (blocked time is compute time; preemption would not be).
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15);
          }
          cmd.set(mover.x);
          if (fault === 'cerebellum_nan' && k === faultTick)
            cmd[Math.floor(rng.next() * cmd.length)] = Number.NaN;
          if (fault) return true;
          // Attack segment: silence, a drive into the table or out of the workspace (within the joint
          // limits: the feedback interlocks must catch it), bursts, or one corrupt command among nominal ones.
          if (k < silentUntil) return false;
          if (k < driveUntil) {
            cmd.set(drivePose);
            return true;
          }
          const p = rng.next();
          if (p < 0.003) {
            driveUntil = k + Math.round((0.3 + 0.5 * rng.next()) / dt);
            drivePose.set(arm.home);
            if (rng.next() < 0.5) {
              drivePose[1] = 1.3; // shoulder and elbow down: the hand into the table
              drivePose[3] = 1.2;
            } else {
              drivePose.fill(0, 0, arm.jointNames.length); // straight up: the hand above the box's top
            }
            cmd.set(drivePose);
            return true;
          }
          if (p < 0.004) {
            silentUntil = k + Math.round((0.01 + 0.14 * rng.next()) / dt);
            return false;
          }
          if (p < 0.054) {
            const burst = 3 + Math.floor(rng.next() * 18);
            for (let b = 0; b < burst - 1; b++) {
              attack(arm, rng, mover.x, scratch);
              spine.submit(scratch, t);
            }
            if (attack(arm, rng, mover.x, cmd) === 'cmd') return true;
            spine.submit(cmd, t);
            return false;
          }
          if (p < 0.45) {
            if (attack(arm, rng, mover.x, cmd) === 'direct') {
              spine.submit(cmd, t);
              return false;
            }
          }
          return true;
        },
      },
    },
    brain: {
      latencySec: BRAIN_LATENCY_SEC,
      timeoutMs: BRAIN_HANG_TIMEOUT_MS,
      layer: {
        start(): Promise<Plan> {
          if (brainMode === 'crash') return Promise.reject(new Error('planner crashed'));
          if (brainMode === 'hang') return new Promise<Plan>(() => {});
          const steps =
            brainMode === 'garbage'
              ? [{ skill: 'teleport', args: { to: 'moon' } }]
              : [
                  { skill: 'move_to', args: { position: [0.4, 0, 0.3] } },
                  { skill: 'home', args: {} },
                ];
          return Promise.resolve({ instruction: 'move around', steps, planner: 'bench' });
        },
        deliver(plan) {
          // The cerebellum's side of the contract: every step must be a known skill with valid arguments.
          for (const step of plan.steps) {
            const schema = (SKILL_ARGS as Record<string, z.ZodType | undefined>)[step.skill];
            if (!schema) throw new Error(`unknown skill '${step.skill}'`);
            schema.parse(step.args);
          }
        },
      },
    },
    observe(t) {
      const k = Math.round(t / dt);
      if (k === detectTick) checker.faultDetectable(fault === 'estop_0');
      checker.observe(world.ctrl.subarray(0, world.actionDim));
    },
  });

  scheduler.requestPlan();
  for (let k = 0; k < ticks; k++) {
    if (fault && k === faultTick) {
      if (fault.startsWith('brain_')) {
        brainMode = fault === 'brain_crash' ? 'crash' : fault === 'brain_hang' ? 'hang' : 'garbage';
        scheduler.requestPlan();
      }
      detectTick = detectionTick(fault, faultTick, dt);
    }
    // A replan every 0.4 s keeps the brain busy in attack segments too.
    if (!fault && k > 0 && k % Math.round(0.4 / dt) === 0) scheduler.requestPlan();
    const wait = scheduler.step();
    if (wait) await wait;
    // An interlock stop in an attack segment ends the segment once the robot has had time to stop.
    if (!fault && stoppedAt >= 0 && k >= stoppedAt + standstillTicks + 5) break;
  }
  let safeStop = false;
  let stopTicks = 0;
  let settleTicks = 0;
  if (fault || stoppedAt >= 0) {
    const c = checker.closeFault(standstillTicks);
    stopTicks = c.stopTicks;
    settleTicks = c.settleTicks;
    safeStop = c.standstill && (spine.mode === 'stopped' || spine.mode === 'off');
  }
  spine.flushEvents();
  return {
    layerFaults: scheduler.faults.length,
    commands: spine.stats.commands,
    interventions: spine.stats.interventions,
    events,
    ticks: scheduler.ticks,
    safeStop,
    stopTicks,
    settleTicks,
    interlockStops: stops,
    telemetry: scheduler.telemetry,
  };
}

/** Puts a fault where its layer acts: a cerebellum tick, a perception tick. */
function alignedTick(k: number, fault: FaultKind, dt: number): number {
  const every =
    fault === 'camera_dropout' ? Math.round(1 / (PERCEPTION_HZ * dt)) : Math.round(1 / (CEREBELLUM_HZ * dt));
  return Math.ceil(k / every) * every;
}

/**
 * The tick at which the fault is detectable by design: at once for exceptions, NaN, timeouts, e-stops and
 * a camera dropout at the perception tick; at the brain's landing time (its simulated latency after the
 * request) for the brain; for a proprioceptive dropout, the tick whose sample is missing.
 */
function detectionTick(fault: FaultKind, faultTick: number, dt: number): number {
  if (!fault.startsWith('brain_')) return faultTick;
  const every = Math.round(1 / (CEREBELLUM_HZ * dt));
  return Math.ceil((faultTick + Math.round(BRAIN_LATENCY_SEC / dt)) / every) * every;
}

/** The attack stream with no spine: counts what the checker flags (must be many). */
function bypassControl(
  world: SceneWorld,
  arm: Embodiment,
  rng: Rng,
  checker: ActuationChecker,
): { ticks: number; flagged: number } {
  world.resetData();
  world.setArmState(arm.home);
  world.forward();
  checker.restart(world.ctrl.subarray(0, world.actionDim));
  const mover = new Mover(arm, rng, arm.home);
  const cmd = new Float64Array(world.actionDim);
  const ticks = 2000;
  for (let k = 0; k < ticks; k++) {
    mover.advance(world.timestepSec);
    if (rng.next() < 0.3) attack(arm, rng, mover.x, cmd);
    else cmd.set(mover.x);
    world.applyAction(cmd);
    checker.observe(world.ctrl.subarray(0, world.actionDim));
    world.step();
  }
  return { ticks, flagged: checker.unsafe };
}
