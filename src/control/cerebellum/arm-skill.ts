/**
 * The frame every arm skill runs in. An `ArmContext` is one arm's shared motor state (the command
 * integrator, the grip regulator, what the hand holds); `ArmSkill` implements the `Skill` contract around
 * a skill's own `begin`/`tick`:
 *
 * - a non-finite joint state, or a command that would come out non-finite, fails the skill with a reason
 *   and the command holds its last finite value: NaN never reaches the spine from here;
 * - after success or failure the skill keeps holding (velocity ramps to zero, the grip keeps regulating)
 *   for as long as it is stepped;
 * - `command` comes in holding the command the actuators were last given (the scheduler's and the skill
 *   runner's convention): a skill that seeded its motion from the measured state continues from it instead;
 * - `step` allocates nothing (failure messages are built once, when failing).
 */
import type { ArmKinematics, ObjectEstimate, Skill, SkillStatus, WorldState } from '../contracts.ts';
import { ArmMotion, armStateFinite } from './arm-motion.ts';
import type { ArmProfile } from './arm-profile.ts';
import { type GripOptions, GripRegulator } from './grip.ts';

/** What skills need to know about an object or a target (m). */
export interface ObjectGeometry {
  /** Size across the fingers when grasped. */
  widthM: number;
  /** Height of the object (along the gripper axis when held: a peg's length). */
  heightM: number;
  /** Targets: height above the target's pose of the surface things are put on (a bin's floor). */
  surfaceM?: number;
  /**
   * Footprint symmetry for choosing the grasp yaw: 'box' (square: every 90 degrees), 'oblong' (a
   * rectangle: every 180 degrees, the fingers across its narrow side, the object's local y) or 'round'.
   */
  shape?: 'box' | 'oblong' | 'round';
  /**
   * Grip-site height above the object's bottom for the grasp (m). Default: a deep grasp near the bottom;
   * tall or open objects (a can, a cup) are held higher so the palm stays clear of their top.
   */
  graspHeightM?: number;
}

/** The object in the hand, as pick left it. */
export interface HeldObject {
  name: string;
  /** Grip site above the object's centre when grasped (m; negative: below). */
  siteAboveCentreM: number;
}

export class ArmContext {
  readonly profile: ArmProfile;
  readonly motion: ArmMotion;
  readonly grip: GripRegulator;
  readonly objects: ReadonlyMap<string, ObjectGeometry>;
  held: HeldObject | null = null;

  constructor(
    profile: ArmProfile,
    kin: ArmKinematics,
    dtSec: number,
    objects: Record<string, ObjectGeometry> = {},
    grip: GripOptions = {},
  ) {
    this.profile = profile;
    this.motion = new ArmMotion(profile, kin, dtSec);
    this.grip = new GripRegulator(this.motion, grip);
    this.objects = new Map(Object.entries(objects));
  }

  /** A new episode: the command re-seeds from the next state, the gripper idles, nothing is held. */
  reset(): void {
    this.motion.reset();
    this.grip.idle();
    this.held = null;
  }
}

export abstract class ArmSkill<Goal> implements Skill<Goal> {
  abstract readonly name: string;
  failure: string | null = 'not started';
  /** Current phase, for telemetry and tests. */
  phase = 'idle';
  /** Seconds since start, and in the current phase. */
  elapsedSec = 0;
  phaseSec = 0;
  protected status: SkillStatus = 'failed';
  protected readonly ctx: ArmContext;

  constructor(ctx: ArmContext) {
    this.ctx = ctx;
  }

  start(goal: Goal, state: WorldState): void {
    this.failure = null;
    this.status = 'running';
    this.elapsedSec = 0;
    this.phaseSec = 0;
    this.phase = 'start';
    if (!this.ctx.motion.sync(state)) {
      this.fail('non-finite joint state at start');
      return;
    }
    this.begin(goal, state);
  }

  step(state: WorldState, command: Float64Array): SkillStatus {
    const { motion, grip } = this.ctx;
    const n = motion.profile.armDof;
    if (!armStateFinite(state, n + 1)) {
      if (this.status === 'running') this.fail('non-finite joint state (q or qd): holding the last command');
      motion.write(command);
      return this.status;
    }
    if (!motion.ready) motion.sync(state);
    motion.continueFrom(command, state);
    motion.readSite();
    const dt = motion.dtSec;
    this.elapsedSec += dt;
    this.phaseSec += dt;
    // One joint-command update per tick: hold unless the skill's tick moved it (one that ends the skill
    // may have; integrating twice would double that tick's velocity).
    const moves = motion.moves;
    if (this.status === 'running') this.tick(state);
    if (motion.moves === moves) motion.hold(state);
    grip.step(state);
    motion.write(command);
    for (let i = 0; i <= n; i++) {
      if (!Number.isFinite(command[i]!)) {
        // Should not happen with finite inputs; never let it through.
        motion.sync(state, true);
        motion.write(command);
        if (this.status === 'running') this.fail('computed a non-finite command: holding the measured state');
        break;
      }
    }
    return this.status;
  }

  /** Skill-specific start (the goal is valid JSON of the skill's schema). May call `fail`. */
  protected abstract begin(goal: Goal, state: WorldState): void;
  /** One control tick while running: drive the motion and grip, call `succeed`/`fail`/`enter`. */
  protected abstract tick(state: WorldState): void;

  protected enter(phase: string): void {
    this.phase = phase;
    this.phaseSec = 0;
  }

  protected succeed(): void {
    this.status = 'succeeded';
    this.enter('done');
  }

  protected fail(reason: string): void {
    this.status = 'failed';
    this.failure = `${this.name}: ${reason}`;
    this.enter('failed');
  }

  /** The estimate of a named object, or a failure naming why there is none usable. */
  protected objectEstimate(state: WorldState, name: string): ObjectEstimate | null {
    const e = state.objects.get(name);
    if (e === undefined) {
      this.fail(
        `no object '${name}' in the world state (known: ${[...state.objects.keys()].join(', ') || 'none'})`,
      );
      return null;
    }
    if (!e.visible) {
      const age = state.tSec - e.stampSec;
      this.fail(
        Number.isNaN(e.stampSec)
          ? `object '${name}' is not visible and was never seen`
          : `object '${name}' is not visible (last seen ${age.toFixed(2)} s ago)`,
      );
      return null;
    }
    if (!finite3(e.pos) || !Number.isFinite(e.quat[0]!)) {
      this.fail(`object '${name}' has a non-finite pose estimate`);
      return null;
    }
    return e;
  }

  protected geometry(name: string): ObjectGeometry | null {
    const g = this.ctx.objects.get(name);
    if (g === undefined) this.fail(`no geometry for '${name}' in the arm's object catalogue`);
    return g ?? null;
  }
}

export function finite3(v: ArrayLike<number>): boolean {
  return Number.isFinite(v[0]!) && Number.isFinite(v[1]!) && Number.isFinite(v[2]!);
}

/** The yaw nearest `current` that is `objectYaw` plus a multiple of `period`. */
export function nearestSymmetricYaw(objectYaw: number, current: number, period: number): number {
  return objectYaw + period * Math.round((current - objectYaw) / period);
}
