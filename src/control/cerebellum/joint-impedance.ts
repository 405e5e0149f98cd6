/**
 * Joint-space PD / impedance control on position-servoed joints.
 *
 * A reference `qRef` moves toward the goal at the profile's joint speed and acceleration (ArmMotion.joint).
 * The commanded position then realises the impedance tau = K (qRef - q) - D qd through the joint's own
 * position servo of stiffness Ks: tau = Ks (qCmd - q) gives
 *
 *     qCmd = q + (K / Ks) (qRef - q) - (D / Ks) qd.
 *
 * With K = Ks and D = 0 this is plain position control; a lower K makes the joint compliant (it yields
 * K^-1 rad per N m of external torque), a positive D adds damping on top of the servo's own.
 *
 * The skill succeeds when every joint is within `toleranceRad` of the goal and nearly at rest, and fails
 * on timeout (naming the worst joint). `home` is this skill with the profile's home pose as goal.
 */
import type { WorldState } from '../contracts.ts';
import { ArmSkill } from './arm-skill.ts';

export interface JointGoal {
  /** Arm joint positions (rad), canonical order. */
  q: ArrayLike<number>;
  /** Stiffness as a fraction of each servo's (0, 1], default 1. */
  stiffness?: number;
  /** Damping (N m s/rad) added to the servo's, default 0. */
  dampingNms?: number;
  toleranceRad?: number;
  timeoutSec?: number;
  /** Fraction of the profile's joint speed (default 1). */
  speedScale?: number;
}

const REST_RAD_S = 0.05;
const REF_GAIN = 4; // 1/s: the reference approaches the goal exponentially near the end

export class JointPdSkill extends ArmSkill<JointGoal> {
  readonly name: string;
  private readonly goal: Float64Array;
  private readonly impedanceCmd: Float64Array;
  private stiffness = 1;
  private damping = 0;
  private tol = 0.01;
  private timeoutSec = 10;
  private speedScale = 1;

  constructor(ctx: ConstructorParameters<typeof ArmSkill>[0], name = 'joint_pd') {
    super(ctx);
    this.name = name;
    this.goal = new Float64Array(ctx.profile.armDof);
    this.impedanceCmd = new Float64Array(ctx.profile.armDof);
  }

  protected begin(goal: JointGoal, _state: WorldState): void {
    const p = this.ctx.profile;
    if (goal.q.length < p.armDof) {
      this.fail(`goal has ${goal.q.length} joint positions, the arm has ${p.armDof}`);
      return;
    }
    for (let i = 0; i < p.armDof; i++) {
      const x = goal.q[i]!;
      if (!Number.isFinite(x) || x < p.lower[i]! || x > p.upper[i]!) {
        this.fail(`joint ${i} goal ${x} is outside [${p.lower[i]}, ${p.upper[i]}]`);
        return;
      }
      this.goal[i] = x;
    }
    const k = goal.stiffness ?? 1;
    if (!(k > 0 && k <= 1)) {
      this.fail(`stiffness ${k} must be in (0, 1]`);
      return;
    }
    this.stiffness = k;
    this.damping = goal.dampingNms ?? 0;
    this.tol = goal.toleranceRad ?? 0.01;
    this.timeoutSec = goal.timeoutSec ?? 10;
    this.speedScale = goal.speedScale ?? 1;
    this.enter('moving');
  }

  protected tick(state: WorldState): void {
    const m = this.ctx.motion;
    const p = this.ctx.profile;
    m.joint(state, this.goal, REF_GAIN, this.speedScale);
    // Done when the measured joints are at the goal and at rest (judged before the impedance rewrite).
    let worst = 0;
    let worstJoint = 0;
    let moving = false;
    for (let i = 0; i < p.armDof; i++) {
      const e = Math.abs(this.goal[i]! - state.q[i]!);
      if (e > worst) {
        worst = e;
        worstJoint = i;
      }
      if (Math.abs(state.qd[i]!) > REST_RAD_S) moving = true;
    }
    this.applyImpedance(state);
    if (worst < this.tol && !moving) {
      this.succeed();
    } else if (this.elapsedSec > this.timeoutSec) {
      this.fail(`joint ${worstJoint} still ${worst.toFixed(3)} rad from its goal after ${this.timeoutSec} s`);
    }
  }

  /** Rewrites the motion's targets so that the servo produces the impedance torque about the reference. */
  private applyImpedance(state: WorldState): void {
    if (this.stiffness === 1 && this.damping === 0) return;
    const m = this.ctx.motion;
    const p = this.ctx.profile;
    for (let i = 0; i < p.armDof; i++) {
      const q = state.q[i]!;
      const ks = p.servoKp[i]!;
      this.impedanceCmd[i] = q + this.stiffness * (m.qCmd[i]! - q) - (this.damping / ks) * state.qd[i]!;
    }
    m.overrideOutput(this.impedanceCmd);
  }
}
