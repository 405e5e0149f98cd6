/**
 * Scripted pick-and-place (cerebellum). A phase machine sets a grip-site goal (position, gripper pointing
 * down with the fingers square to the cube) and a gripper goal; damped-least-squares differential IK on
 * the grip-site Jacobian turns the bounded Cartesian velocity toward the goal into joint targets, with a
 * null-space pull toward the home pose to keep the redundant joint away from its limits (src/control/ik.ts).
 * Every phase has a timeout so the skill can never hang; a timed-out phase hands over to the next.
 */
import type { PickPlaceLayout } from '../../sim/scenes/pick-place.ts';
import type { PickPlaceWorld } from '../../sim/world.ts';
import { DlsIk, downOrientationError, integrateJointTargets } from '../ik.ts';

export type PickPlacePhase =
  | 'approach'
  | 'descend'
  | 'close'
  | 'lift'
  | 'transfer'
  | 'lower'
  | 'open'
  | 'retreat'
  | 'done';

export interface PickPlaceSkillOptions {
  /** Period at which `step` is called (s). */
  controlDtSec: number;
}

interface PhaseSpec {
  timeoutSec: number;
  /** Cartesian speed limit of the grip site in this phase (m/s). */
  speed: number;
}

const PHASES: Record<Exclude<PickPlacePhase, 'done'>, PhaseSpec> = {
  approach: { timeoutSec: 4, speed: 0.4 },
  descend: { timeoutSec: 2, speed: 0.15 },
  close: { timeoutSec: 0.6, speed: 0.05 },
  lift: { timeoutSec: 3, speed: 0.3 },
  transfer: { timeoutSec: 4, speed: 0.4 },
  lower: { timeoutSec: 2, speed: 0.2 },
  open: { timeoutSec: 0.4, speed: 0.05 },
  retreat: { timeoutSec: 2, speed: 0.3 },
};
const NEXT: Record<Exclude<PickPlacePhase, 'done'>, PickPlacePhase> = {
  approach: 'descend',
  descend: 'close',
  close: 'lift',
  lift: 'transfer',
  transfer: 'lower',
  lower: 'open',
  open: 'retreat',
  retreat: 'done',
};

const GRIPPER_OPEN_M = 0.08;
const GRIPPER_CLOSED_M = 0; // below the cube's width: the position servo then squeezes with kp * gap
const GRIPPER_SPEED = 0.2; // m/s, under the spine's 0.25
const HOVER_M = 0.1; // approach height above the cube centre
const CARRY_Z = 0.2;
const RETREAT_Z = 0.25;
const POS_GAIN = 8; // 1/s
const ROT_GAIN = 8; // 1/s
const MAX_ROT_SPEED = 2; // rad/s
const JOINT_SPEED = 1.5; // rad/s, under the spine's 2.5
// Joint acceleration limit: velocity ramps instead of steps at phase changes, so the recorded motion has
// no acceleration spikes that the quality checks would (rightly) read as collisions.
const JOINT_ACCEL = 4; // rad/s^2
const NULL_GAIN = 1; // 1/s
const DAMPING = 0.05; // DLS lambda
const MAX_LEAD_RAD = 0.15; // anti-windup: command never further than this from the measured joint

export class PickPlaceSkill {
  phase: PickPlacePhase = 'approach';
  /** Phases that ended by timeout rather than by reaching their goal. */
  timeouts = 0;
  private readonly dt: number;
  private readonly n: number;
  private readonly layout: PickPlaceLayout;
  private readonly home: Float64Array;
  private phaseSec = 0;
  private yawGoal = 0;
  private readonly goal = new Float64Array(3);
  private gripperGoal = GRIPPER_OPEN_M;
  private gripperCmd = GRIPPER_OPEN_M;
  // Preallocated work arrays: `step` allocates nothing.
  private readonly state: Float64Array;
  private readonly qCmd: Float64Array;
  private readonly pos = new Float64Array(3);
  private readonly mat = new Float64Array(9);
  private readonly jac: Float64Array;
  private readonly cube = new Float64Array(3);
  private readonly cubeQuat = new Float64Array(4);
  private readonly twist = new Float64Array(6);
  private readonly ik: DlsIk;
  private readonly dq: Float64Array;
  private readonly dqPrev: Float64Array;

  constructor(world: PickPlaceWorld, opts: PickPlaceSkillOptions) {
    this.dt = opts.controlDtSec;
    this.n = world.armDof;
    this.layout = world.layout;
    this.home = Float64Array.from(world.embodiment.home.slice(0, this.n));
    this.state = new Float64Array(world.stateDim);
    this.qCmd = new Float64Array(this.n);
    this.jac = new Float64Array(6 * this.n);
    this.dq = new Float64Array(this.n);
    this.dqPrev = new Float64Array(this.n);
    this.ik = new DlsIk(this.n, { damping: DAMPING, nullGain: NULL_GAIN });
    this.reset(world);
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Starts over from the world's current configuration. */
  reset(world: PickPlaceWorld): void {
    world.readState(this.state);
    for (let i = 0; i < this.n; i++) this.qCmd[i] = this.state[i]!;
    this.gripperCmd = this.state[this.n]!;
    this.dqPrev.fill(0);
    this.gripperGoal = GRIPPER_OPEN_M;
    this.phase = 'approach';
    this.phaseSec = 0;
    this.timeouts = 0;
  }

  /** One control tick: writes joint targets then the gripper target into `out` (canonical action order). */
  step(world: PickPlaceWorld, out: Float64Array): void {
    const n = this.n;
    world.readState(this.state);
    world.gripSite(this.pos, this.mat, this.jac);
    const reached = this.updateGoal(world);
    if (this.phase !== 'done') {
      this.phaseSec += this.dt;
      const spec = PHASES[this.phase];
      if (reached || this.phaseSec >= spec.timeoutSec) {
        if (!reached) this.timeouts++;
        this.phase = NEXT[this.phase];
        this.phaseSec = 0;
      }
    }
    const speed = this.phase === 'done' ? 0.2 : PHASES[this.phase].speed;
    this.computeTwist(speed);
    this.ik.solve(this.jac, this.twist, this.dq, this.state, this.home);
    const dvMax = JOINT_ACCEL * this.dt;
    for (let i = 0; i < n; i++) {
      const prev = this.dqPrev[i]!;
      const v = Math.min(prev + dvMax, Math.max(prev - dvMax, this.dq[i]!));
      this.dq[i] = v;
      this.dqPrev[i] = v;
    }
    integrateJointTargets(this.qCmd, this.state, this.dq, this.dt, JOINT_SPEED, MAX_LEAD_RAD);
    for (let i = 0; i < n; i++) out[i] = this.qCmd[i]!;
    const gStep = GRIPPER_SPEED * this.dt;
    this.gripperCmd += Math.min(gStep, Math.max(-gStep, this.gripperGoal - this.gripperCmd));
    out[n] = this.gripperCmd;
  }

  /** Sets goal position, yaw and gripper for the current phase; returns whether the phase's goal is met. */
  private updateGoal(world: PickPlaceWorld): boolean {
    const { bin, tableTopZ, cubeSizeM } = this.layout;
    const goal = this.goal;
    switch (this.phase) {
      case 'approach':
      case 'descend': {
        world.cubePose(this.cube, this.cubeQuat);
        this.yawGoal = this.squareYaw();
        goal[0] = this.cube[0]!;
        goal[1] = this.cube[1]!;
        goal[2] = this.cube[2]! + (this.phase === 'approach' ? HOVER_M : 0);
        this.gripperGoal = GRIPPER_OPEN_M;
        const tol = this.phase === 'approach' ? 0.01 : 0.004;
        return this.positionError() < tol && this.rotationError() < 0.05;
      }
      case 'close':
        this.gripperGoal = GRIPPER_CLOSED_M;
        return false; // ends by its dwell time (the timeout): the squeeze needs time to build
      case 'lift':
        goal[2] = CARRY_Z;
        return this.positionError() < 0.015;
      case 'transfer':
        goal[0] = bin.x;
        goal[1] = bin.y;
        goal[2] = CARRY_Z;
        return this.positionError() < 0.015;
      case 'lower':
        goal[2] = tableTopZ + bin.wallM + cubeSizeM / 2 + 0.03;
        return this.positionError() < 0.01;
      case 'open':
        this.gripperGoal = GRIPPER_OPEN_M;
        return false;
      case 'retreat':
        goal[2] = RETREAT_Z;
        return this.positionError() < 0.02;
      case 'done':
        return false;
    }
  }

  /** Yaw of the grip site closest to its current yaw that puts the fingers square to the cube's faces. */
  private squareYaw(): number {
    const [w, x, y, z] = this.cubeQuat as unknown as [number, number, number, number];
    const cubeYaw = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
    const current = Math.atan2(this.mat[3]!, this.mat[0]!);
    const quarter = Math.PI / 2;
    return cubeYaw + quarter * Math.round((current - cubeYaw) / quarter);
  }

  private positionError(): number {
    return Math.hypot(
      this.goal[0]! - this.pos[0]!,
      this.goal[1]! - this.pos[1]!,
      this.goal[2]! - this.pos[2]!,
    );
  }

  /** Orientation error vector (rad, world) toward the gripper pointing down at the goal yaw. */
  private rotationErrorInto(e: Float64Array, offset: number): void {
    downOrientationError(this.mat, this.yawGoal, e, offset);
  }

  private rotationError(): number {
    this.rotationErrorInto(this.twist, 3);
    return Math.hypot(this.twist[3]!, this.twist[4]!, this.twist[5]!);
  }

  /** Desired grip-site twist: proportional to the error, capped at the phase's speed. */
  private computeTwist(speed: number): void {
    const t = this.twist;
    for (let i = 0; i < 3; i++) t[i] = POS_GAIN * (this.goal[i]! - this.pos[i]!);
    const v = Math.hypot(t[0]!, t[1]!, t[2]!);
    if (v > speed) for (let i = 0; i < 3; i++) t[i] = (t[i]! * speed) / v;
    this.rotationErrorInto(t, 3);
    for (let i = 3; i < 6; i++) t[i] = ROT_GAIN * t[i]!;
    const w = Math.hypot(t[3]!, t[4]!, t[5]!);
    if (w > MAX_ROT_SPEED) for (let i = 3; i < 6; i++) t[i] = (t[i]! * MAX_ROT_SPEED) / w;
  }
}
