/**
 * One scripted episode in a SceneWorld whose initial state a task has written: physics every step, the
 * cerebellum (a scripted skill) at `controlHz`, the spine on every physics step, the task's `update` after
 * every step, frames at exactly `frameHz` in sim time. Nothing reaches the actuators except through the
 * spine. The task, not the skill, judges the outcome.
 *
 * Between two cerebellum ticks the loop interpolates linearly from the previous command to the new one
 * (first-order hold, as industrial controllers do to a slower trajectory source), so that a 100 Hz
 * staircase does not look like a velocity spike to the spine's per-tick rate limit; the spine then fires
 * only on commands that really are too fast, out of range or non-finite.
 */
import { TgError } from '../errors/index.ts';
import { seededRng } from '../sim/rng.ts';
import type { SceneWorld } from '../sim/scenes/scene-world.ts';
import { PickPlaceTask } from '../sim/tasks/pick-place.ts';
import type { Task } from '../sim/tasks/task.ts';
import { cubeIntoBin, PickPlaceSkill } from './skills/pick-place.ts';
import { Spine } from './spine.ts';

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
  /** The spinal cord to run (default: the arm's limits at the physics rate). */
  spine?: Spine;
}

export interface EpisodeResult {
  success: boolean;
  /** Whether the skill finished before the time limit. */
  finished: boolean;
  frames: number;
  simSec: number;
  spineInterventions: number;
  /** The task's metrics at the end. */
  metrics: Record<string, number>;
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

  const n = world.actionDim;
  const state = new Float32Array(world.stateDim);
  const state64 = new Float64Array(world.stateDim);
  const prevCmd = new Float64Array(n);
  const nextCmd = new Float64Array(n);
  const held = new Float64Array(n);
  const safe = new Float64Array(n);
  const action = new Float32Array(n);

  world.readState(state64);
  const spine = opts.spine ?? Spine.forEmbodiment(arm, dt);
  spine.reset(state64);
  const interventionsBefore = spine.stats.interventions;
  const skill = opts.skill(stepsPerControl * dt);
  prevCmd.set(state64);
  nextCmd.set(state64);

  const totalSteps = Math.round(maxSimSec / dt);
  const settleSteps = Math.round((opts.settleSec ?? 0) / dt);
  // Frame k is due at the first physics step whose time is >= k / frameHz.
  const stepsPerFrame = 1 / (frameHz * dt);
  let frame = 0;
  let nextFrameStep = 0;
  let finishedAt = -1;
  const onFrame = opts.onFrame;
  for (let step = 0; step <= totalSteps; step++) {
    const phaseInControl = step % stepsPerControl;
    if (phaseInControl === 0) {
      if (skill.finished) {
        if (finishedAt < 0) finishedAt = step;
        if (step - finishedAt >= settleSteps) break;
      }
      prevCmd.set(nextCmd);
      skill.step(world, nextCmd);
    }
    const alpha = (phaseInControl + 1) / stepsPerControl;
    for (let i = 0; i < n; i++) held[i] = prevCmd[i]! + alpha * (nextCmd[i]! - prevCmd[i]!);
    spine.check(held, safe);
    world.applyAction(safe);
    if (step === nextFrameStep) {
      if (onFrame) {
        world.readState(state);
        for (let i = 0; i < n; i++) action[i] = safe[i]!;
        onFrame(frame / frameHz, state, action);
      }
      frame++;
      nextFrameStep = Math.ceil(frame * stepsPerFrame - 1e-9);
    }
    if (step === totalSteps) break;
    world.step();
    if (world.diverged()) {
      throw new TgError('SIM_DIVERGED', `${task.name}: non-finite state at t=${world.simTimeSec}s`);
    }
    task.update(world);
  }
  // mj_step leaves derived quantities (site poses, sensors) at the start of the last step: bring them to
  // the final positions before the task judges them.
  const simSec = world.stepCount * dt;
  world.forward();
  return {
    success: task.success(world),
    finished: skill.finished,
    frames: frame,
    simSec,
    spineInterventions: spine.stats.interventions - interventionsBefore,
    metrics: task.metrics(world),
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
