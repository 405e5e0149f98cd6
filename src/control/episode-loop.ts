/**
 * One pick-and-place episode: physics every step, the cerebellum (scripted skill) at `controlHz`, the spine
 * on every physics step, frames at exactly `frameHz` in sim time. Nothing reaches the actuators except
 * through the spine.
 *
 * Between two cerebellum ticks the loop interpolates linearly from the previous command to the new one
 * (first-order hold, as industrial controllers do to a slower trajectory source), so that a 100 Hz
 * staircase does not look like a velocity spike to the spine's per-tick rate limit; the spine then fires
 * only on commands that really are too fast, out of range or non-finite.
 */
import { TgError } from '../errors/index.ts';
import type { PickPlaceWorld } from '../sim/world.ts';
import { PickPlaceSkill } from './skills/pick-place.ts';
import { Spine } from './spine.ts';

export interface PickPlaceEpisodeOptions {
  world: PickPlaceWorld;
  seed: number;
  /** Episode length limit in sim time (default 12 s). */
  maxSimSec?: number;
  /** Cerebellum rate (default 100 Hz); must divide the physics rate. */
  controlHz?: number;
  /**
   * Called for frame k at sim time k / frameHz with the canonical state and the actuated action (spine
   * output) of that moment. The arrays are reused: copy what you keep.
   */
  onFrame?: (timestampSec: number, state: Float32Array, action: Float32Array) => void;
  frameHz?: number;
  /** The spinal cord to run (default: the embodiment's limits at the physics rate). */
  spine?: Spine;
}

export interface PickPlaceEpisodeResult {
  success: boolean;
  frames: number;
  simSec: number;
  spineInterventions: number;
}

export async function runPickPlaceEpisode(opts: PickPlaceEpisodeOptions): Promise<PickPlaceEpisodeResult> {
  const { world, seed } = opts;
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

  world.reset(seed);
  const n = world.actionDim;
  const state = new Float32Array(world.stateDim);
  const state64 = new Float64Array(world.stateDim);
  const prevCmd = new Float64Array(n);
  const nextCmd = new Float64Array(n);
  const held = new Float64Array(n);
  const safe = new Float64Array(n);
  const action = new Float32Array(n);

  world.readState(state64);
  const spine = opts.spine ?? Spine.forEmbodiment(world.embodiment, dt);
  spine.reset(state64);
  const interventionsBefore = spine.stats.interventions;
  const skill = new PickPlaceSkill(world, { controlDtSec: stepsPerControl * dt });
  prevCmd.set(state64);
  nextCmd.set(state64);

  const totalSteps = Math.round(maxSimSec / dt);
  // Frame k is due at the first physics step whose time is >= k / frameHz.
  const stepsPerFrame = 1 / (frameHz * dt);
  let frame = 0;
  let nextFrameStep = 0;
  let success = false;
  let step = 0;
  for (; step <= totalSteps; step++) {
    const phaseInControl = step % stepsPerControl;
    if (phaseInControl === 0) {
      if (skill.done) {
        success = world.cubeInBin();
        break;
      }
      prevCmd.set(nextCmd);
      skill.step(world, nextCmd);
    }
    const alpha = (phaseInControl + 1) / stepsPerControl;
    for (let i = 0; i < n; i++) held[i] = prevCmd[i]! + alpha * (nextCmd[i]! - prevCmd[i]!);
    spine.check(held, safe);
    world.applyAction(safe);
    if (step === nextFrameStep) {
      world.readState(state);
      for (let i = 0; i < n; i++) action[i] = safe[i]!;
      opts.onFrame?.(frame / frameHz, state, action);
      frame++;
      nextFrameStep = Math.ceil(frame * stepsPerFrame - 1e-9);
    }
    if (step === totalSteps) break;
    world.step();
    if (world.diverged()) {
      throw new TgError(
        'SIM_DIVERGED',
        `pick-place seed ${seed}: non-finite state at t=${world.simTimeSec}s`,
      );
    }
  }
  if (!success) success = skill.done && world.cubeInBin();
  return {
    success,
    frames: frame,
    simSec: world.stepCount * dt,
    spineInterventions: spine.stats.interventions - interventionsBefore,
  };
}
