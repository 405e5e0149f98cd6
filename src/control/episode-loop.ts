/**
 * One scripted episode in a SceneWorld whose initial state a task has written: physics every step, the
 * cerebellum (a scripted skill) at `controlHz`, the spine on every physics step, the task's `update` after
 * every step, frames at exactly `frameHz` in sim time. The task, not the skill, judges the outcome.
 *
 * Nothing reaches the actuators except through the spine, as in the control stack (src/control/stack):
 * the world's actuator port (SceneSpinePort) is handed to the loop's spine and to nothing else; every
 * physics step the port fills the spine's feedback (joint state, TCP sites, contact forces), the spine
 * ticks (every interlock: limits, NaN, rate, torque, workspace, contact force, the command watchdog, an
 * e-stop) and writes the safe targets. Each control tick the skill's command is submitted stamped with
 * its time and a first-order-hold ramp over the control period (as industrial controllers do to a slower
 * trajectory source), so a 100 Hz staircase does not look like a velocity spike to the spine's rate
 * limits; the spine then fires only on commands that really are too fast, out of range, non-finite or
 * stale. Every intervention comes back as a SafetyEvent for the episode's events; a stop (an interlock,
 * the watchdog, an e-stop) ends the episode once the arm stands still.
 */
import type { EpisodeEvent } from '../data/episode.ts';
import type { Embodiment } from '../embodiment/index.ts';
import { TgError } from '../errors/index.ts';
import { seededRng } from '../sim/rng.ts';
import type { SceneWorld } from '../sim/scenes/scene-world.ts';
import { PickPlaceTask } from '../sim/tasks/pick-place.ts';
import type { Task } from '../sim/tasks/task.ts';
import type { SafetyEvent } from './contracts.ts';
import { cubeIntoBin, PickPlaceSkill } from './skills/pick-place.ts';
import {
  SceneSpinePort,
  Spine,
  type SpineLimits,
  type SpineMode,
  type StopCategory,
  spineLimitsFor,
  toEpisodeEvent,
} from './spine.ts';

/** A scripted cerebellum skill as the loop drives it. */
export interface ScriptedSkill {
  /** One control tick: the canonical action (joint targets, then grippers) into `out`. */
  step(world: SceneWorld, out: Float64Array): void;
  /** True once the skill has nothing more to do (succeeded or gave up). */
  readonly finished: boolean;
}

/** Called for frame k at sim time k / frameHz with the canonical state and the actuated action (spine
 * output) of that moment. The arrays are reused: copy what you keep. */
export type FrameSink = (timestampSec: number, state: Float32Array, action: Float32Array) => void;

export interface EpisodeOptions {
  /** The world, its initial state already written (`task.apply` / `task.reset`). */
  world: SceneWorld;
  /** Updated after every physics step; judges success and reports metrics at the end. */
  task: Pick<Task<unknown>, 'name' | 'update' | 'success' | 'metrics'>;
  /** Builds the skill from the world's initial state, once the control period is known. */
  skill: (controlDtSec: number) => ScriptedSkill;
  /** Episode length limit in sim time (default 12 s). */
  maxSimSec?: number;
  /** Cerebellum rate (default 100 Hz); must divide the physics rate. */
  controlHz?: number;
  /** Sim time to keep stepping after the skill finishes, holding its last command (default 0). */
  settleSec?: number;
  onFrame?: FrameSink;
  /** Frame rate (default 30 Hz), at most the physics rate. */
  frameHz?: number;
  /**
   * The robot's spine limits (default `drillLimits`: the stack's arm spine without acceleration and
   * torque-window limits). The loop builds the spine over the world's port.
   */
  limits?: SpineLimits;
  /**
   * An extra envelope the commands pass first (a cell's or a test's tighter limits), through its `check`
   * filter; the robot's spine (`limits`) still ticks after it and is the one writer of the actuators.
   * Its interventions count in `spineInterventions`; its events go to its own sink.
   */
  spine?: Spine;
  /**
   * Polled every physics step before the spine ticks: an e-stop of the returned category (a field's stop
   * button, an operator, an independent checker), or nothing.
   */
  estop?: (tSec: number) => StopCategory | null | undefined;
  /** Safety events kept in the result (the rest are counted; default 1000). */
  maxEvents?: number;
}

/** How a stop ended the episode. */
export interface EpisodeStop {
  /** The event that began it (`kind: target`). */
  reason: string;
  category: StopCategory;
  tSec: number;
  /** The spine's mode at the end: 'stopped' or 'off' once the arm stood still. */
  mode: SpineMode;
}

export interface EpisodeResult {
  success: boolean;
  /** Whether the skill finished before the time limit (false after a stop). */
  finished: boolean;
  frames: number;
  simSec: number;
  /** Spine ticks that changed the command (the robot's spine, plus the extra envelope's when given). */
  spineInterventions: number;
  /** The task's metrics at the end. */
  metrics: Record<string, number>;
  /** The robot spine's interventions as they began (edge-triggered), in time order: the episode's events. */
  safetyEvents: SafetyEvent[];
  /** All of them, kept or not (`maxEvents`). */
  safetyEventCount: number;
  /** The stop that ended the episode early, or null. */
  safeStop: EpisodeStop | null;
}

/** Longest the loop waits after a stop for the arm to stand still (s); as the control stack. */
const MAX_STOP_SEC = 2;
/** A stopped arm is kept this long before the episode closes (s): the standstill is observed. */
const STOPPED_HOLD_SEC = 0.05;

/** The episode's safety events as the recorder's episode events (frames at `fps`). */
export function episodeEvents(result: Pick<EpisodeResult, 'safetyEvents'>, fps: number): EpisodeEvent[] {
  return result.safetyEvents.map((e) => toEpisodeEvent(e, fps));
}

/**
 * The drill's spine: the control stack's arm spine (`spineLimitsFor`: position and speed limits, the
 * workspace box, the contact-force envelope, the command watchdog; e-stops always) without the two
 * interlocks that reshape a scripted skill's tuned profile, as the stack leaves out acceleration for
 * locomotion. Measured with them (seed 1 of each scene): the pick-place drill's gripper steps drew 78
 * acceleration/speed events over 232 ticks, serve-cup and tidy's grasps held the gripper target at its
 * 20 N servo window for 2224 and 1552 ticks, the 500 Hz peg insertion drew 28 joint acceleration/speed
 * events; the skills succeeded either way. Pass `limits` (e.g. `spineLimitsFor` with
 * `servoModelFromScene`) to run every interlock.
 */
export function drillLimits(world: SceneWorld, arm: Embodiment): SpineLimits {
  const { maxAcceleration: _profile, ...limits } = spineLimitsFor(arm, world.timestepSec);
  return limits;
}

export function runEpisode(opts: EpisodeOptions): EpisodeResult {
  const { world, task } = opts;
  const maxSimSec = opts.maxSimSec ?? 12;
  const controlHz = opts.controlHz ?? 100;
  const frameHz = opts.frameHz ?? 30;
  const dt = world.timestepSec;
  const stepsPerControl = Math.round(1 / (controlHz * dt));
  if (stepsPerControl < 1 || Math.abs(stepsPerControl * controlHz * dt - 1) > 1e-9) {
    throw new TgError(
      'CONFIG_INVALID',
      `controlHz ${controlHz} does not divide the physics rate ${1 / dt} Hz`,
    );
  }
  if (!(frameHz > 0) || frameHz > 1 / dt) {
    throw new TgError('CONFIG_INVALID', `frameHz ${frameHz} must be in (0, ${1 / dt}]`);
  }
  const arm = world.scene.arm;
  if (!arm) throw new TgError('CONFIG_INVALID', `scene '${world.scene.name}' has no arm to drive`);
  const envelope = opts.spine ?? null;
  if (envelope && envelope.size !== world.actionDim) {
    throw new TgError(
      'CONFIG_INVALID',
      `spine envelope has ${envelope.size} channels for the arm's ${world.actionDim}`,
    );
  }

  const n = world.actionDim;
  const controlDtSec = stepsPerControl * dt;
  const state = new Float32Array(world.stateDim);
  const state64 = new Float64Array(world.stateDim);
  const prevCmd = new Float64Array(n);
  const nextCmd = new Float64Array(n);
  const held = new Float64Array(n);
  const safe = new Float64Array(n);
  const action = new Float32Array(n);

  const maxEvents = opts.maxEvents ?? 1000;
  const events: SafetyEvent[] = [];
  let eventCount = 0;
  const limits = opts.limits ?? drillLimits(world, arm);
  const port = new SceneSpinePort(world, limits);
  const spine = new Spine(limits, {
    actuators: port,
    sink: (e) => {
      eventCount++;
      if (events.length < maxEvents) events.push(e);
    },
  });
  world.readState(state64);
  port.sense(spine.feedback, 0);
  spine.reset(state64, 0);
  const envelopeBefore = envelope?.stats.interventions ?? 0;
  envelope?.reset(state64);
  const skill = opts.skill(controlDtSec);
  prevCmd.set(state64);
  nextCmd.set(state64);

  const totalSteps = Math.round(maxSimSec / dt);
  const settleSteps = Math.round((opts.settleSec ?? 0) / dt);
  // Frame k is due at the first physics step whose time is >= k / frameHz.
  const stepsPerFrame = 1 / (frameHz * dt);
  let frame = 0;
  let nextFrameStep = 0;
  let finishedAt = -1;
  let stopBegan = -1;
  let stillSince = -1;
  const onFrame = opts.onFrame;
  const estop = opts.estop;
  for (let step = 0; step <= totalSteps; step++) {
    const t = step * dt;
    const running = spine.mode === 'run';
    if (step % stepsPerControl === 0 && running) {
      if (skill.finished) {
        if (finishedAt < 0) finishedAt = step;
        if (step - finishedAt >= settleSteps) break;
      }
      prevCmd.set(nextCmd);
      skill.step(world, nextCmd);
      // Without an envelope the spine ramps to the command itself (the control stack's way).
      if (!envelope) spine.submit(nextCmd, t, controlDtSec);
    }
    if (envelope && running) {
      // The envelope filters every physics tick, so the loop holds the staircase itself; a command the
      // envelope holds (non-finite) reaches the spine as the envelope's safe output.
      const alpha = ((step % stepsPerControl) + 1) / stepsPerControl;
      for (let i = 0; i < n; i++) held[i] = prevCmd[i]! + alpha * (nextCmd[i]! - prevCmd[i]!);
      envelope.check(held, safe);
      spine.submit(safe, t - (step % stepsPerControl) * dt);
    }
    const category = estop?.(t);
    if (category !== null && category !== undefined) spine.estop(category, t);
    port.sense(spine.feedback, t);
    spine.tick(t);
    spine.flushEvents();
    if (step === nextFrameStep) {
      if (onFrame) {
        world.readState(state);
        const out = spine.output;
        for (let i = 0; i < n; i++) action[i] = out[i]!;
        onFrame(frame / frameHz, state, action);
      }
      frame++;
      nextFrameStep = Math.ceil(frame * stepsPerFrame - 1e-9);
    }
    const mode = spine.mode;
    if (mode !== 'run') {
      // A stop ends the episode once the arm has stood still a moment (or after MAX_STOP_SEC).
      if (stopBegan < 0) stopBegan = t;
      const still = mode === 'stopped' || mode === 'off';
      if (still && stillSince < 0) stillSince = t;
      if ((still && t - stillSince >= STOPPED_HOLD_SEC - 1e-9) || t - stopBegan >= MAX_STOP_SEC) break;
    }
    if (step === totalSteps) break;
    world.step();
    if (world.diverged()) {
      throw new TgError('SIM_DIVERGED', `${task.name}: non-finite state at t=${world.simTimeSec}s`);
    }
    task.update(world);
  }
  spine.flushEvents();
  let safeStop: EpisodeStop | null = null;
  if (spine.mode !== 'run') {
    const first = events.find((e) => e.category !== undefined);
    safeStop = {
      reason: first ? `${first.kind}${first.target ? `: ${first.target}` : ''}` : 'the spine stopped the arm',
      category: spine.stopCategory ?? 2,
      tSec: first?.tSec ?? stopBegan,
      mode: spine.mode,
    };
  }
  // mj_step leaves derived quantities (site poses, sensors) at the start of the last step: bring them to
  // the final positions before the task judges them.
  const simSec = world.stepCount * dt;
  world.forward();
  return {
    success: task.success(world),
    finished: skill.finished && safeStop === null,
    frames: frame,
    simSec,
    spineInterventions:
      spine.stats.interventions + (envelope ? envelope.stats.interventions - envelopeBefore : 0),
    metrics: task.metrics(world),
    safetyEvents: events,
    safetyEventCount: eventCount,
    safeStop,
  };
}

export interface PickPlaceEpisodeOptions extends Omit<EpisodeOptions, 'task' | 'skill' | 'settleSec'> {
  /** Initial state: `task.sampleInitialState(seededRng(seed))`. */
  seed: number;
  /** The task (default: the cube into the bin on the default layout). */
  task?: PickPlaceTask;
}

/** The factory drill: reset the pick-place task from `seed`, run the scripted pick-and-place. */
export function runPickPlaceEpisode(opts: PickPlaceEpisodeOptions): EpisodeResult {
  const { world, seed } = opts;
  const task = opts.task ?? new PickPlaceTask();
  task.reset(world, seededRng(seed));
  return runEpisode({
    ...opts,
    task,
    skill: (controlDtSec) => new PickPlaceSkill(world, cubeIntoBin(task), { controlDtSec }),
  });
}
