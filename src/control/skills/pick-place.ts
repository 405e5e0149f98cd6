/**
 * Scripted pick-and-place (cerebellum): takes an object from wherever it lies to a release point. A phase
 * machine sets a grip-site goal (position, gripper pointing down with the fingers square to the object)
 * and a gripper goal; damped-least-squares differential IK on the grip-site Jacobian turns the bounded
 * Cartesian velocity toward the goal into joint targets, with a null-space pull toward the home pose to
 * keep the redundant joint away from its limits (src/control/ik.ts). Every phase has a timeout so the
 * skill can never hang; a timed-out phase hands over to the next.
 *
 * What is moved and where is a `PickPlaceTarget`: the cube into the bin (factory), a cup onto a hand-over
 * spot (mall), one object after another into a box (home, `retarget` between them).
 */
import { TgError } from '../../errors/index.ts';
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import type { PickPlaceTask } from '../../sim/tasks/pick-place.ts';
import { DlsIk, downOrientationError, integrateJointTargets } from '../ik.ts';
import { norm3 } from '../rotation.ts';

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

/** The object to pick and where to let go of it. */
export interface PickPlaceTarget {
  /** Writes the object's frame origin (m, world) and orientation (w, x, y, z). Called every tick. */
  objectPose(world: SceneWorld, pos: Float64Array, quat: Float64Array): void;
  /** Grip-site height above the object's frame origin at the grasp (m). */
  graspHeightM: number;
  /**
   * Grasp yaw symmetry about the vertical (rad): pi/2 for a cube, pi for a box whose narrow side is along
   * its local y, null for a round object (any yaw: the gripper keeps its own).
   */
  yawPeriodRad: number | null;
  /** Grip-site position (m, world) at which the gripper opens. */
  release: readonly [number, number, number];
}

export interface PickPlaceSkillOptions {
  /** Period at which `step` is called (s). */
  controlDtSec: number;
  /** Grip-site height while carrying (m, world; default 0.2). */
  carryZ?: number;
  /** Grip-site height after letting go (m, world; default 0.25). */
  retreatZ?: number;
  /** Grip-site speed while carrying (m/s, default 0.4): slower keeps a cup upright. */
  carrySpeed?: number;
  /** Grip-site speed while lowering to the release point (m/s, default 0.2). */
  lowerSpeed?: number;
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
const GRIPPER_CLOSED_M = 0; // below any object's width: the position servo then squeezes with kp * gap
const GRIPPER_SPEED = 0.2; // m/s, under the spine's 0.25
const HOVER_M = 0.1; // approach height above the grasp point
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
  private target: PickPlaceTarget;
  private readonly dt: number;
  private readonly n: number;
  private readonly carryZ: number;
  private readonly retreatZ: number;
  private readonly carrySpeed: number;
  private readonly lowerSpeed: number;
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
  private readonly obj = new Float64Array(3);
  private readonly objQuat = new Float64Array(4);
  private readonly twist = new Float64Array(6);
  private readonly ik: DlsIk;
  private readonly dq: Float64Array;
  private readonly dqPrev: Float64Array;

  constructor(world: SceneWorld, target: PickPlaceTarget, opts: PickPlaceSkillOptions) {
    const arm = world.scene.arm;
    if (!arm) throw new TgError('CONFIG_INVALID', `scene '${world.scene.name}' has no arm to pick with`);
    this.target = target;
    this.dt = opts.controlDtSec;
    this.carryZ = opts.carryZ ?? 0.2;
    this.retreatZ = opts.retreatZ ?? 0.25;
    this.carrySpeed = opts.carrySpeed ?? PHASES.transfer.speed;
    this.lowerSpeed = opts.lowerSpeed ?? PHASES.lower.speed;
    this.n = world.armDof;
    this.home = Float64Array.from(arm.home.slice(0, this.n));
    this.state = new Float64Array(world.stateDim);
    this.qCmd = new Float64Array(this.n);
    this.jac = new Float64Array(6 * this.n);
    this.dq = new Float64Array(this.n);
    this.dqPrev = new Float64Array(this.n);
    this.ik = new DlsIk(this.n, { damping: DAMPING, nullGain: NULL_GAIN });
    this.reset(world);
  }

  get finished(): boolean {
    return this.phase === 'done';
  }

  /** Starts over from the world's current configuration. */
  reset(world: SceneWorld): void {
    world.readState(this.state);
    for (let i = 0; i < this.n; i++) this.qCmd[i] = this.state[i]!;
    this.gripperCmd = this.state[this.n]!;
    this.dqPrev.fill(0);
    this.gripperGoal = GRIPPER_OPEN_M;
    this.phase = 'approach';
    this.phaseSec = 0;
    this.timeouts = 0;
  }

  /**
   * The next object: starts again at 'approach' from where the last one left the arm, without a jump in
   * the joint command (the commanded joints, their ramped velocity and the gripper carry over).
   */
  retarget(target: PickPlaceTarget): void {
    this.target = target;
    this.phase = 'approach';
    this.phaseSec = 0;
  }

  /** One control tick: writes joint targets then the gripper target into `out` (canonical action order). */
  step(world: SceneWorld, out: Float64Array): void {
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
    this.computeTwist(this.phaseSpeed());
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

  private phaseSpeed(): number {
    switch (this.phase) {
      case 'done':
        return 0.2;
      case 'transfer':
        return this.carrySpeed;
      case 'lower':
        return this.lowerSpeed;
      default:
        return PHASES[this.phase].speed;
    }
  }

  /** Sets goal position, yaw and gripper for the current phase; returns whether the phase's goal is met. */
  private updateGoal(world: SceneWorld): boolean {
    const t = this.target;
    const goal = this.goal;
    switch (this.phase) {
      case 'approach':
      case 'descend': {
        t.objectPose(world, this.obj, this.objQuat);
        this.yawGoal = this.graspYaw();
        goal[0] = this.obj[0]!;
        goal[1] = this.obj[1]!;
        goal[2] = this.obj[2]! + t.graspHeightM + (this.phase === 'approach' ? HOVER_M : 0);
        this.gripperGoal = GRIPPER_OPEN_M;
        const tol = this.phase === 'approach' ? 0.01 : 0.004;
        return this.positionError() < tol && this.rotationError() < 0.05;
      }
      case 'close':
        this.gripperGoal = GRIPPER_CLOSED_M;
        return false; // ends by its dwell time (the timeout): the squeeze needs time to build
      case 'lift':
        goal[2] = this.carryZ;
        return this.positionError() < 0.015;
      case 'transfer':
        goal[0] = t.release[0];
        goal[1] = t.release[1];
        goal[2] = this.carryZ;
        return this.positionError() < 0.015;
      case 'lower':
        goal[2] = t.release[2];
        return this.positionError() < 0.01;
      case 'open':
        this.gripperGoal = GRIPPER_OPEN_M;
        return false;
      case 'retreat':
        goal[2] = this.retreatZ;
        return this.positionError() < 0.02;
      case 'done':
        return false;
    }
  }

  /** Yaw of the grip site closest to its current yaw that puts the fingers square to the object. */
  private graspYaw(): number {
    const current = Math.atan2(this.mat[3]!, this.mat[0]!);
    const period = this.target.yawPeriodRad;
    if (period === null) return current;
    const [w, x, y, z] = this.objQuat as unknown as [number, number, number, number];
    const objYaw = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
    return objYaw + period * Math.round((current - objYaw) / period);
  }

  private positionError(): number {
    return norm3(this.goal[0]! - this.pos[0]!, this.goal[1]! - this.pos[1]!, this.goal[2]! - this.pos[2]!);
  }

  private rotationError(): number {
    downOrientationError(this.mat, this.yawGoal, this.twist, 3);
    return norm3(this.twist[3]!, this.twist[4]!, this.twist[5]!);
  }

  /** Desired grip-site twist: proportional to the error, capped at the phase's speed. */
  private computeTwist(speed: number): void {
    const t = this.twist;
    for (let i = 0; i < 3; i++) t[i] = POS_GAIN * (this.goal[i]! - this.pos[i]!);
    const v = norm3(t[0]!, t[1]!, t[2]!);
    if (v > speed) for (let i = 0; i < 3; i++) t[i] = (t[i]! * speed) / v;
    downOrientationError(this.mat, this.yawGoal, t, 3);
    for (let i = 3; i < 6; i++) t[i] = ROT_GAIN * t[i]!;
    const w = norm3(t[3]!, t[4]!, t[5]!);
    if (w > MAX_ROT_SPEED) for (let i = 3; i < 6; i++) t[i] = (t[i]! * MAX_ROT_SPEED) / w;
  }
}

/** The factory task's target: the cube, gripped at its centre, released 3 cm above the bin floor. */
export function cubeIntoBin(task: PickPlaceTask): PickPlaceTarget {
  const { bin, tableTopZ, cubeSizeM } = task.layout;
  return {
    objectPose: (world, pos, quat) => task.cubePose(world, pos, quat),
    graspHeightM: 0,
    yawPeriodRad: Math.PI / 2,
    release: [bin.x, bin.y, tableTopZ + bin.wallM + cubeSizeM / 2 + 0.03],
  };
}
