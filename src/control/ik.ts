/**
 * Differential inverse kinematics on a site Jacobian (`mj_jacSite`), shared by the scripted skills.
 *
 * dq = J^T (J J^T + lambda^2 I)^-1 twist + (I - J^T (J J^T + lambda^2 I)^-1 J) v_null: damped least squares
 * (Wampler 1986) with a null-space posture term that keeps a redundant arm away from its limits.
 * Everything is preallocated: `solve` allocates nothing.
 */

/** What differential IK needs from a world: the arm's canonical state and a site's pose and Jacobian. */
export interface ArmSite {
  /** Number of arm joints (the Jacobian's column count). */
  readonly armDof: number;
  /** Canonical state: arm joint positions first (rad), then any gripper channels. */
  readState(out: Float64Array): void;
  /**
   * Site pose and Jacobian at the current positions: `pos` (3), `mat` (3x3 row-major, columns are the
   * site's axes in world), `jac` (6 x armDof row-major: 3 translational rows, then 3 rotational).
   */
  gripSite(pos: Float64Array, mat: Float64Array, jac?: Float64Array): void;
}

export interface DlsIkOptions {
  /** DLS damping lambda (default 0.05). */
  damping?: number;
  /** Gain of the null-space pull toward the posture (1/s, default 1). */
  nullGain?: number;
}

export class DlsIk {
  readonly n: number;
  private readonly damping: number;
  private readonly nullGain: number;
  private readonly a = new Float64Array(36);
  private readonly y = new Float64Array(6);
  private readonly v: Float64Array;

  constructor(n: number, opts: DlsIkOptions = {}) {
    this.n = n;
    this.damping = opts.damping ?? 0.05;
    this.nullGain = opts.nullGain ?? 1;
    this.v = new Float64Array(n);
  }

  /**
   * Joint velocities `dq` (rad/s) realising the 6-vector `twist` (linear m/s, then angular rad/s, world)
   * through `jac` (6 x n row-major), plus the null-space pull of `q` toward `posture` when one is given.
   */
  solve(
    jac: Float64Array,
    twist: Float64Array,
    dq: Float64Array,
    q?: ArrayLike<number>,
    posture?: ArrayLike<number>,
  ): void {
    const n = this.n;
    const J = jac;
    const A = this.a;
    const lambda2 = this.damping * this.damping;
    for (let r = 0; r < 6; r++) {
      for (let c = 0; c <= r; c++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += J[r * n + k]! * J[c * n + k]!;
        if (r === c) sum += lambda2;
        A[r * 6 + c] = sum;
      }
    }
    choleskyInPlace(A);
    // Task part.
    this.y.set(twist);
    choleskySolve(A, this.y);
    for (let k = 0; k < n; k++) {
      let sum = 0;
      for (let r = 0; r < 6; r++) sum += J[r * n + k]! * this.y[r]!;
      dq[k] = sum;
    }
    if (!q || !posture) return;
    // Null-space part: v - J^T A^-1 J v.
    const v = this.v;
    for (let k = 0; k < n; k++) v[k] = this.nullGain * (posture[k]! - q[k]!);
    for (let r = 0; r < 6; r++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += J[r * n + k]! * v[k]!;
      this.y[r] = sum;
    }
    choleskySolve(A, this.y);
    for (let k = 0; k < n; k++) {
      let sum = 0;
      for (let r = 0; r < 6; r++) sum += J[r * n + k]! * this.y[r]!;
      dq[k] = dq[k]! + v[k]! - sum;
    }
  }
}

/**
 * Orientation error (rad, world) from the site frame `mat` to a goal frame whose z axis points straight
 * down and whose x axis is at `yaw` about world z: 0.5 * sum_j R[:,j] x Rgoal[:,j], written at `offset`.
 */
export function downOrientationError(mat: Float64Array, yaw: number, e: Float64Array, offset: number): void {
  const m = mat;
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  // Goal axes x = (c, s, 0), y = (s, -c, 0), z = (0, 0, -1); column j of R is (m[j], m[3 + j], m[6 + j]).
  // x column cross (c, s, 0), y column cross (s, -c, 0), z column cross (0, 0, -1):
  const ex = -m[6]! * s + m[7]! * c - m[5]!;
  const ey = m[6]! * c + m[7]! * s + m[2]!;
  const ez = m[0]! * s - m[3]! * c - m[1]! * c - m[4]! * s;
  e[offset] = 0.5 * ex;
  e[offset + 1] = 0.5 * ey;
  e[offset + 2] = 0.5 * ez;
}

/**
 * Integrates joint velocities into position targets: each step capped at `maxSpeed * dt`, and the target
 * never more than `maxLead` from the measured joint (anti-windup when the arm is blocked).
 */
export function integrateJointTargets(
  qCmd: Float64Array,
  q: ArrayLike<number>,
  dq: Float64Array,
  dt: number,
  maxSpeed: number,
  maxLead: number,
): void {
  const maxStep = maxSpeed * dt;
  for (let i = 0; i < qCmd.length; i++) {
    const d = Math.min(maxStep, Math.max(-maxStep, dq[i]! * dt));
    const qi = q[i]!;
    qCmd[i] = Math.min(qi + maxLead, Math.max(qi - maxLead, qCmd[i]! + d));
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
