/**
 * Scripted pick-and-place (cerebellum). A phase machine sets a grip-site goal (position, gripper pointing
 * down with the fingers square to the cube) and a gripper goal; damped-least-squares differential IK on
 * the grip-site Jacobian turns the bounded Cartesian velocity toward the goal into joint targets, with a
 * null-space pull toward the home pose to keep the redundant joint away from its limits.
 * Every phase has a timeout so the skill can never hang; a timed-out phase hands over to the next.
 */
import type { PickPlaceLayout } from '../../sim/scenes/pick-place.ts';
import type { PickPlaceWorld } from '../../sim/world.ts';

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
  private readonly a = new Float64Array(36);
  private readonly y = new Float64Array(6);
  private readonly dq: Float64Array;
  private readonly nullDq: Float64Array;

  constructor(world: PickPlaceWorld, opts: PickPlaceSkillOptions) {
    this.dt = opts.controlDtSec;
    this.n = world.armDof;
    this.layout = world.layout;
    this.home = Float64Array.from(world.embodiment.home.slice(0, this.n));
    this.state = new Float64Array(world.stateDim);
    this.qCmd = new Float64Array(this.n);
    this.jac = new Float64Array(6 * this.n);
    this.dq = new Float64Array(this.n);
    this.nullDq = new Float64Array(this.n);
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
    this.solveDls();
    const maxStep = JOINT_SPEED * this.dt;
    for (let i = 0; i < n; i++) {
      const d = Math.min(maxStep, Math.max(-maxStep, this.dq[i]! * this.dt));
      const q = this.state[i]!;
      this.qCmd[i] = Math.min(q + MAX_LEAD_RAD, Math.max(q - MAX_LEAD_RAD, this.qCmd[i]! + d));
      out[i] = this.qCmd[i]!;
    }
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

  /** Orientation error vector (rad, world): 0.5 * sum_j R[:,j] x Rgoal[:,j]; goal z points down. */
  private rotationErrorInto(e: Float64Array, offset: number): void {
    const m = this.mat;
    const c = Math.cos(this.yawGoal);
    const s = Math.sin(this.yawGoal);
    // Goal axes x = (c, s, 0), y = (s, -c, 0), z = (0, 0, -1); column j of R is (m[j], m[3 + j], m[6 + j]).
    // x column cross (c, s, 0), y column cross (s, -c, 0), z column cross (0, 0, -1):
    const ex = -m[6]! * s + m[7]! * c - m[5]!;
    const ey = m[6]! * c + m[7]! * s + m[2]!;
    const ez = m[0]! * s - m[3]! * c - m[1]! * c - m[4]! * s;
    e[offset] = 0.5 * ex;
    e[offset + 1] = 0.5 * ey;
    e[offset + 2] = 0.5 * ez;
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

  /**
   * dq = J^T (J J^T + lambda^2 I)^-1 twist + (I - J^T (J J^T + lambda^2 I)^-1 J) k (q_home - q):
   * damped least squares (Wampler 1986) with a null-space posture term.
   */
  private solveDls(): void {
    const n = this.n;
    const J = this.jac;
    const A = this.a;
    for (let r = 0; r < 6; r++) {
      for (let c = 0; c <= r; c++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += J[r * n + k]! * J[c * n + k]!;
        if (r === c) sum += DAMPING * DAMPING;
        A[r * 6 + c] = sum;
      }
    }
    choleskyInPlace(A);
    // Task part.
    this.y.set(this.twist);
    choleskySolve(A, this.y);
    for (let k = 0; k < n; k++) {
      let sum = 0;
      for (let r = 0; r < 6; r++) sum += J[r * n + k]! * this.y[r]!;
      this.dq[k] = sum;
    }
    // Null-space part: v - J^T A^-1 J v.
    const v = this.nullDq;
    for (let k = 0; k < n; k++) v[k] = NULL_GAIN * (this.home[k]! - this.state[k]!);
    for (let r = 0; r < 6; r++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += J[r * n + k]! * v[k]!;
      this.y[r] = sum;
    }
    choleskySolve(A, this.y);
    for (let k = 0; k < n; k++) {
      let sum = 0;
      for (let r = 0; r < 6; r++) sum += J[r * n + k]! * this.y[r]!;
      this.dq[k] = this.dq[k]! + v[k]! - sum;
    }
  }
}

/** Lower-triangular Cholesky factor of a 6x6 SPD matrix, in place (lower triangle used). */
function choleskyInPlace(A: Float64Array): void {
  for (let j = 0; j < 6; j++) {
    let d = A[j * 6 + j]!;
    for (let k = 0; k < j; k++) d -= A[j * 6 + k]! * A[j * 6 + k]!;
    const l = Math.sqrt(d);
    A[j * 6 + j] = l;
    for (let i = j + 1; i < 6; i++) {
      let s = A[i * 6 + j]!;
      for (let k = 0; k < j; k++) s -= A[i * 6 + k]! * A[j * 6 + k]!;
      A[i * 6 + j] = s / l;
    }
  }
}

/** Solves L L^T x = b in place (b becomes x). */
function choleskySolve(L: Float64Array, b: Float64Array): void {
  for (let i = 0; i < 6; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * 6 + k]! * b[k]!;
    b[i] = s / L[i * 6 + i]!;
  }
  for (let i = 5; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < 6; k++) s -= L[k * 6 + i]! * b[k]!;
    b[i] = s / L[i * 6 + i]!;
  }
}
