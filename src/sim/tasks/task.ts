/**
 * A task: what to do in a scene, kept apart from the physics (dm_control's split). It owns the initial-state
 * distribution (`sampleInitialState`, drawn only from the generator passed in), how a state is written into
 * a world (`apply`), and how an episode is judged (`success`, `metrics`). It never composes or edits the
 * model: scenes do that, randomization (src/sim/randomization.ts) perturbs it.
 */

import { type Rng, seededRng } from '../rng.ts';
import type { SceneWorld } from '../scenes/scene-world.ts';

export interface Task<S> {
  readonly name: string;
  /** One initial state drawn from `rng` (the only source of randomness). */
  sampleInitialState(rng: Rng): S;
  /** `count` initial states from `seed`: the same list for the same seed, every time, on every platform. */
  initialStates(seed: number, count: number): S[];
  /** Resets the world's data and writes `state` into it (then mj_forward); clears the task's history. */
  apply(world: SceneWorld, state: S): void;
  /** `apply(world, sampleInitialState(rng))`; returns the state used. */
  reset(world: SceneWorld, rng: Rng): S;
  /** Called after every physics step, for predicates and metrics over time (max force, time standing). */
  update(world: SceneWorld): void;
  success(world: SceneWorld): boolean;
  /** Named numbers, SI units in the names (`insertionDepthM`, `maxContactForceN`). */
  metrics(world: SceneWorld): Record<string, number>;
}

/** Shared plumbing: `initialStates`, `reset` and a no-op `update` from the three methods a task defines. */
export abstract class BaseTask<S> implements Task<S> {
  abstract readonly name: string;
  abstract sampleInitialState(rng: Rng): S;
  abstract apply(world: SceneWorld, state: S): void;
  abstract success(world: SceneWorld): boolean;
  abstract metrics(world: SceneWorld): Record<string, number>;

  initialStates(seed: number, count: number): S[] {
    const rng = seededRng(seed);
    return Array.from({ length: count }, () => this.sampleInitialState(rng));
  }

  reset(world: SceneWorld, rng: Rng): S {
    const s = this.sampleInitialState(rng);
    this.apply(world, s);
    return s;
  }

  update(_world: SceneWorld): void {}
}

/**
 * Distance between (ax, ay) and (bx, by). Not Math.hypot, which allocates per call in V8: tasks update on
 * every physics step of every robot.
 */
export function planarDistance(ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  return Math.sqrt(dx * dx + dy * dy);
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Quaternion (w, x, y, z) of a rotation by `yaw` about world z. */
export function yawQuat(yaw: number): [number, number, number, number] {
  return [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];
}

/** The arm's home state with each joint moved by up to +-`jitterRad` (the gripper channel unchanged). */
export function jitteredHome(home: readonly number[], armDof: number, rng: Rng, jitterRad: number): number[] {
  return home.map((v, i) => (i < armDof ? v + uniform(rng, -jitterRad, jitterRad) : v));
}
