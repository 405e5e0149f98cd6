/**
 * The contracts between the control layers of DESIGN.md (brain -> perception -> cerebellum -> spine).
 * Each layer lives in its own folder under src/control and depends on this file, not on the others, so a
 * planner, a skill or an interlock can be replaced without touching its neighbours.
 *
 * Hot-path types (WorldState, Skill.step) are built on preallocated typed arrays: the cerebellum runs at
 * >= 200 Hz for 100+ robots per core, so a tick must not allocate.
 */

/** The four layers and their budgets (ms), from the national "big brain / small brain" architecture. */
export type LayerName = 'brain' | 'perception' | 'cerebellum' | 'spine';
/** The layers, slowest first (the order of every per-layer table). */
export const LAYER_NAMES: readonly LayerName[] = ['brain', 'perception', 'cerebellum', 'spine'];

export const LAYER_BUDGET_MS: Readonly<Record<LayerName, number>> = {
  brain: 500,
  perception: 50,
  cerebellum: 10,
  spine: 1,
};

/** Estimated pose of one object, as perception reports it (world frame, metres, quaternion w x y z). */
export interface ObjectEstimate {
  readonly pos: Float64Array;
  readonly quat: Float64Array;
  /** Sim time of the sensor sample the estimate comes from (s): older than `WorldState.tSec` by the latency. */
  stampSec: number;
  /** False when the object was not seen in the last sample (occluded, dropped out): the pose is stale. */
  visible: boolean;
}

/** Contact features of one tactile pad. */
export interface TactileFeatures {
  contact: boolean;
  /** Total normal force over the pad (N). */
  forceN: number;
  /** Force-weighted centroid in the pad's grid, each axis in [0, 1] (0.5, 0.5 = centre). */
  readonly centroid: Float64Array;
  /** Centroid speed over the pad (grid units per second): a slip indicator. */
  slipRate: number;
}

/** Floating-base state from IMU plus kinematics (humanoids); absent for fixed-base robots. */
export interface BaseState {
  readonly pos: Float64Array;
  readonly quat: Float64Array;
  readonly linVel: Float64Array;
  readonly angVel: Float64Array;
}

/**
 * What perception hands to the cerebellum and the brain: one object per robot, updated in place.
 * `q`, `qd` and `tau` are canonical state vectors (embodiment order, radians / metres).
 */
export interface WorldState {
  tSec: number;
  readonly q: Float64Array;
  readonly qd: Float64Array;
  readonly tau: Float64Array;
  /** By object name ('cube', 'peg', 'cup', ...). */
  readonly objects: Map<string, ObjectEstimate>;
  /** By pad name ('left_pad', 'right_pad'). */
  readonly tactile: Map<string, TactileFeatures>;
  /** Wrist force then torque (N, N m) in the sensor frame, if the robot has a wrist F/T sensor. */
  readonly wrench?: Float64Array;
  readonly base?: BaseState;
}

/**
 * The kinematics a cerebellum skill may query on its own robot. On a real robot this is the robot's own
 * model; in simulation the world answers from MuJoCo. Both worlds in src/sim satisfy it structurally.
 */
export interface ArmKinematics {
  /** Arm joints (the Jacobian's columns); state/action channels after them are grippers. */
  readonly armDof: number;
  readonly actionDim: number;
  /**
   * Grip-site pose and Jacobian at the current positions: `pos` (3), `mat` (3x3 row-major), `jac`
   * (6 x armDof row-major, translational rows first).
   */
  gripSite(pos: Float64Array, mat: Float64Array, jac?: Float64Array): void;
}

export type SkillStatus = 'running' | 'succeeded' | 'failed';

/**
 * A motor skill (cerebellum): started with a goal, stepped at the control rate with the current world
 * state, writing the next command (canonical action order) into `command`. `step` must not allocate and
 * must not throw on ordinary failures: it returns 'failed' and sets `failure`.
 */
export interface Skill<Goal = unknown> {
  readonly name: string;
  start(goal: Goal, state: WorldState): void;
  step(state: WorldState, command: Float64Array): SkillStatus;
  /** Why the last run failed, in words, once `step` returned 'failed'. */
  readonly failure: string | null;
}

/** One step of a plan: a skill from the vocabulary and its goal, as JSON. */
export interface SkillCall {
  skill: string;
  args: Record<string, unknown>;
}

export interface Plan {
  /** The instruction the plan answers. */
  instruction: string;
  steps: SkillCall[];
  /** Which planner produced it ('builtin', 'llm', 'llm->builtin' after a fallback). */
  planner: string;
}

/** What the spine did, recorded as an episode event (DESIGN.md: every intervention is an event). */
export type SafetyEventKind =
  | 'clamp_position'
  | 'limit_velocity'
  | 'limit_acceleration'
  | 'limit_torque'
  | 'workspace'
  | 'contact_force'
  | 'reject_nonfinite'
  | 'watchdog_hold'
  | 'watchdog_stop'
  | 'estop';

export interface SafetyEvent {
  kind: SafetyEventKind;
  tSec: number;
  /** Channel index, body region or site involved, where there is one. */
  target?: string;
  /** Measured value and the limit it broke, in the units of the check. */
  value?: number;
  limit?: number;
  /** For e-stops: the IEC 60204-1 stop category. */
  category?: 0 | 1 | 2;
}
