/**
 * The motor state an arm's skills share, and the two ways they move it.
 *
 * One `ArmMotion` per arm holds the joint-target integrator (`qCmd`), the joint velocity it is ramping
 * (`dq`) and the gripper command (a RampFollower: speed and acceleration bounded), so that when one skill
 * hands over to the next (pick -> place) the command continues where it was instead of jumping. Every
 * channel's command stays within the profile's speeds and accelerations, which are shares of the spine's
 * limits (src/control/cerebellum/arm-profile.ts): the spine has nothing to cut from a nominal motion.
 *
 * `cartesian` is differential inverse kinematics: damped least squares on the grip-site Jacobian
 * (src/control/ik.ts) toward a goal position with the gripper pointing down at a yaw, with a null-space
 * pull toward home and joint limits enforced by clamping: a joint that would cross its limit (minus a
 * margin) is stopped there, its column is removed from the Jacobian and the rest of the arm re-solves the
 * remaining task (clamping weighted least-norm, Chan & Dubey 1995, in its simplest form).
 *
 * The loop closes on the *commanded* grip-site pose, measured pose + J (qCmd - q): the position servos are
 * then a spring about the goal (contact force = stiffness x deflection) instead of an integrator winding up
 * against an obstacle, which is what compliant insertion and grasping near a table need.
 *
 * Nothing here allocates after construction.
 */
import type { ArmKinematics, WorldState } from '../contracts.ts';
import { DlsIk, downOrientationError } from '../ik.ts';
import { norm3 } from '../rotation.ts';
import type { ArmProfile } from './arm-profile.ts';
import { approachVelocity, RampFollower } from './ramp-follower.ts';

const POS_GAIN = 8; // 1/s
const ROT_GAIN = 8; // 1/s
const MAX_ROT_SPEED = 1.5; // rad/s
const LIMIT_MARGIN_RAD = 0.05;
const MAX_LEAD_RAD = 0.15; // anti-windup: the target never further than this from the measured joint
const DAMPING = 0.05;

export class ArmMotion {
  readonly profile: ArmProfile;
  readonly kin: ArmKinematics;
  readonly dtSec: number;
  /** Arm joint targets (rad) and the joint velocity being commanded (rad/s). */
  readonly qCmd: Float64Array;
  readonly dq: Float64Array;
  /** Gripper opening command (m), moved by `moveGripper`/`haltGripper` (the grip regulator drives it). */
  readonly gripper: RampFollower;
  /** Measured grip-site pose (refreshed by `readSite`). */
  readonly pos = new Float64Array(3);
  readonly mat = new Float64Array(9);
  readonly jac: Float64Array;
  /** Errors of the measured pose to the last Cartesian goal (m, rad). */
  posError = 0;
  rotError = 0;
  /** Joint-command updates so far (each `cartesian`, `joint` or `hold` is one). */
  moves = 0;
  private initialized = false;
  /** Seeded from a measured state and not yet continued from the actuated command (see `continueFrom`). */
  private seeded = false;
  private override: Float64Array | null = null;
  private readonly n: number;
  private readonly ik: DlsIk;
  private readonly jacW: Float64Array;
  private readonly twist = new Float64Array(6);
  /** Commanded minus measured grip-site pose (linear m, angular rad) at the last Cartesian tick. */
  readonly defl = new Float64Array(6);
  private readonly sol: Float64Array;
  private readonly fixed: Uint8Array;
  private readonly fixedVel: Float64Array;
  private readonly e3 = new Float64Array(3);

  constructor(profile: ArmProfile, kin: ArmKinematics, dtSec: number) {
    this.profile = profile;
    this.kin = kin;
    this.dtSec = dtSec;
    this.n = profile.armDof;
    this.qCmd = new Float64Array(this.n);
    this.dq = new Float64Array(this.n);
    this.jac = new Float64Array(6 * this.n);
    this.jacW = new Float64Array(6 * this.n);
    this.sol = new Float64Array(this.n);
    this.fixed = new Uint8Array(this.n);
    this.fixedVel = new Float64Array(this.n);
    this.ik = new DlsIk(this.n, { damping: DAMPING, nullGain: 1 });
    this.gripper = new RampFollower(dtSec, profile.gripper.speedMps, profile.gripper.accelMps2);
  }

  /** The gripper opening command (m). */
  get gripCmd(): number {
    return this.gripper.x;
  }

  /** True once the command has been seeded from a measured state. */
  get ready(): boolean {
    return this.initialized;
  }

  /**
   * Seeds the command from the measured state the first time (or when `force`): later skills continue
   * from the previous skill's command. A command that no longer matches the arm (something else moved
   * it since: teleoperation, a reset) is re-seeded too. Returns false when the state is not finite.
   */
  sync(state: WorldState, force = false): boolean {
    if (!armStateFinite(state, this.n + 1)) return false;
    if (this.initialized && !force) {
      let stale = false;
      for (let i = 0; i < this.n; i++) if (Math.abs(this.qCmd[i]! - state.q[i]!) > MAX_LEAD_RAD) stale = true;
      if (!stale) return true;
    }
    for (let i = 0; i < this.n; i++) this.qCmd[i] = state.q[i]!;
    this.dq.fill(0);
    this.gripper.reset(state.q[this.profile.gripper.channel]!);
    this.initialized = true;
    this.seeded = true;
    return true;
  }

  /**
   * Right after `sync` seeded the command from a measured state: continues from `command` instead, the
   * command the actuators were last given (the caller's buffer holds it when a skill is stepped). Position
   * servos hold their joints short of the command (gravity sag), so the measurement is not where the
   * command was, and starting there would be a step. Ignored when that command is not finite or is not
   * close to the measurement (it was never applied: a reset, a first episode).
   */
  continueFrom(command: ArrayLike<number>, state: WorldState): void {
    if (!this.seeded) return;
    this.seeded = false;
    const n = this.n;
    const g = this.profile.gripper.channel;
    for (let i = 0; i <= n; i++) {
      const c = command[i]!;
      if (!Number.isFinite(c) || Math.abs(c - state.q[i]!) > MAX_LEAD_RAD) return;
    }
    for (let i = 0; i < n; i++) this.qCmd[i] = command[i]!;
    this.gripper.reset(command[g]!);
  }

  /** One tick of the gripper command toward `openingM` at no more than `speedMps` (default: the profile's). */
  moveGripper(openingM: number, speedMps?: number): void {
    this.gripper.follow(openingM, speedMps);
  }

  /** One tick of the gripper command braking to rest. */
  haltGripper(): void {
    this.gripper.halt();
  }

  /** Forgets the command: the next `sync` seeds it from the measured state (a new episode). */
  reset(): void {
    this.initialized = false;
    this.seeded = false;
    this.override = null;
    this.dq.fill(0);
  }

  /** Refreshes the measured grip-site pose and Jacobian from the kinematics. */
  readSite(): void {
    this.kin.gripSite(this.pos, this.mat, this.jac);
  }

  /** Yaw of the grip site's x axis about world z (rad). */
  siteYaw(): number {
    return Math.atan2(this.mat[3]!, this.mat[0]!);
  }

  /**
   * One differential-IK tick toward `goal` (m, world) with the gripper down at `yaw`, grip-site speed
   * capped at `speedMps`. Call `readSite` first in the tick. Updates `posError`/`rotError` (measured).
   * `posture` false drops the null-space pull home: the damped projector leaks part of it into the task
   * (a steady offset of ~0.5 mm on arm7), which fine positioning cannot afford.
   */
  cartesian(state: WorldState, goal: ArrayLike<number>, yaw: number, speedMps: number, posture = true): void {
    const n = this.n;
    const J = this.jac;
    const q = state.q;
    const t = this.twist;
    // Deflection of the commanded pose from the measured one, through the Jacobian.
    for (let r = 0; r < 6; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += J[r * n + k]! * (this.qCmd[k]! - q[k]!);
      this.defl[r] = s;
    }
    for (let i = 0; i < 3; i++) t[i] = POS_GAIN * (goal[i]! - this.pos[i]! - this.defl[i]!);
    const v = norm3(t[0]!, t[1]!, t[2]!);
    if (v > speedMps) for (let i = 0; i < 3; i++) t[i] = (t[i]! * speedMps) / v;
    downOrientationError(this.mat, yaw, this.e3, 0);
    this.posError = norm3(goal[0]! - this.pos[0]!, goal[1]! - this.pos[1]!, goal[2]! - this.pos[2]!);
    this.rotError = norm3(this.e3[0]!, this.e3[1]!, this.e3[2]!);
    for (let i = 0; i < 3; i++) t[3 + i] = ROT_GAIN * (this.e3[i]! - this.defl[3 + i]!);
    const w = norm3(t[3]!, t[4]!, t[5]!);
    if (w > MAX_ROT_SPEED) for (let i = 3; i < 6; i++) t[i] = (t[i]! * MAX_ROT_SPEED) / w;
    this.solveWithLimits(q, posture);
    this.integrate(q);
  }

  /**
   * One joint-space tick: each joint's velocity toward `qRef` (rad) proportional to the error (gain 1/s),
   * capped at the profile's speed times `speedScale` and ramped at its acceleration. Moves `qCmd`.
   */
  joint(state: WorldState, qRef: ArrayLike<number>, gain: number, speedScale = 1): void {
    for (let i = 0; i < this.n; i++) {
      const vmax = this.profile.maxJointSpeed[i]! * speedScale;
      this.sol[i] = Math.min(vmax, Math.max(-vmax, gain * (qRef[i]! - this.qCmd[i]!)));
    }
    this.integrate(state.q);
  }

  /**
   * One joint-space tick toward per-joint targets `qTarget` (rad): each joint as fast as its speed allows
   * and slow enough to arrive at rest (RampFollower's rule), ramped at the acceleration. A joint whose
   * target is NaN brakes to rest. Moves `qCmd`.
   */
  track(state: WorldState, qTarget: ArrayLike<number>): void {
    const p = this.profile;
    const dt = this.dtSec;
    const adt = p.maxJointAccel * dt;
    for (let i = 0; i < this.n; i++) {
      const e = qTarget[i]! - this.qCmd[i]!;
      this.sol[i] = Number.isNaN(e) ? 0 : approachVelocity(e, p.maxJointSpeed[i]!, adt, dt);
    }
    this.integrate(state.q);
  }

  /** Stops: the velocity ramps down to zero at the acceleration limit, the target stays put after. */
  hold(state: WorldState): void {
    this.sol.fill(0);
    if (armStateFinite(state, this.n)) this.integrate(state.q);
  }

  /**
   * Makes the next `write` output `q` (arm joints) instead of `qCmd`, which stays the reference: joint
   * impedance commands an offset from its reference trajectory.
   */
  overrideOutput(q: Float64Array): void {
    this.override = q;
  }

  /** Writes the arm targets and the gripper target into `command` (canonical action order). */
  write(command: Float64Array): void {
    const src = this.override ?? this.qCmd;
    this.override = null;
    for (let i = 0; i < this.n; i++) command[i] = src[i]!;
    command[this.profile.gripper.channel] = this.gripper.x;
  }

  /** DLS with the null-space pull home; joints about to cross a limit are clamped and the rest re-solve. */
  private solveWithLimits(q: Float64Array, posture: boolean): void {
    const n = this.n;
    const p = this.profile;
    const dt = this.dtSec;
    this.fixed.fill(0);
    this.jacW.set(this.jac);
    for (let pass = 0; pass < 3; pass++) {
      if (posture) this.ik.solve(this.jacW, this.twist, this.sol, q, p.home);
      else this.ik.solve(this.jacW, this.twist, this.sol);
      for (let k = 0; k < n; k++) if (this.fixed[k] === 1) this.sol[k] = this.fixedVel[k]!;
      let clamped = false;
      for (let k = 0; k < n; k++) {
        if (this.fixed[k] === 1) continue;
        const hi = Math.max(0, (p.upper[k]! - LIMIT_MARGIN_RAD - this.qCmd[k]!) / dt);
        const lo = Math.min(0, (p.lower[k]! + LIMIT_MARGIN_RAD - this.qCmd[k]!) / dt);
        const v = this.sol[k]!;
        if (v <= hi && v >= lo) continue;
        // Stop this joint at its limit; the others take over its share of the twist on the next pass.
        const vFixed = v > hi ? hi : lo;
        this.fixed[k] = 1;
        this.fixedVel[k] = vFixed;
        this.sol[k] = vFixed;
        for (let r = 0; r < 6; r++) {
          this.twist[r] = this.twist[r]! - this.jacW[r * n + k]! * vFixed;
          this.jacW[r * n + k] = 0;
        }
        clamped = true;
      }
      if (!clamped) break;
    }
  }

  /** Ramps `dq` toward `sol` at the acceleration limit and integrates it into `qCmd`. */
  private integrate(q: ArrayLike<number>): void {
    const p = this.profile;
    const dt = this.dtSec;
    const dv = p.maxJointAccel * dt;
    this.moves++;
    for (let i = 0; i < this.n; i++) {
      const prev = this.dq[i]!;
      const vmax = p.maxJointSpeed[i]!;
      let v = Math.min(prev + dv, Math.max(prev - dv, this.sol[i]!));
      v = Math.min(vmax, Math.max(-vmax, v));
      this.dq[i] = v;
      const qi = q[i]!;
      let c = this.qCmd[i]! + v * dt;
      c = Math.min(qi + MAX_LEAD_RAD, Math.max(qi - MAX_LEAD_RAD, c));
      c = Math.min(p.upper[i]! - LIMIT_MARGIN_RAD / 2, Math.max(p.lower[i]! + LIMIT_MARGIN_RAD / 2, c));
      this.qCmd[i] = c;
    }
  }
}

/** True when the first `n` entries of q and qd are finite. */
export function armStateFinite(state: WorldState, n: number): boolean {
  const q = state.q;
  const qd = state.qd;
  for (let i = 0; i < n; i++) if (!Number.isFinite(q[i]!) || !Number.isFinite(qd[i]!)) return false;
  return true;
}
