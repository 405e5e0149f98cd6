/**
 * Rotations as the control layers handle them: 3x3 matrices (row-major, world-from-frame) and unit
 * quaternions (w, x, y, z), plus the norms of small vectors. Shared by perception (the base estimator,
 * object poses) and the cerebellum (the walker, the arm skills). Nothing allocates: these run every tick,
 * which is also why the norms are explicit square roots (V8's Math.hypot allocates an array per call).
 */

/** Euclidean norm of (x, y). */
export function norm2(x: number, y: number): number {
  return Math.sqrt(x * x + y * y);
}

/** Euclidean norm of (x, y, z). */
export function norm3(x: number, y: number, z: number): number {
  return Math.sqrt(x * x + y * y + z * z);
}

/** Euclidean norm of a quaternion (w, x, y, z). */
export function norm4(w: number, x: number, y: number, z: number): number {
  return Math.sqrt(w * w + x * x + y * y + z * z);
}

/** Rotation by `a` (rad) about x. */
export function rotX(a: number, out: Float64Array): void {
  const c = Math.cos(a);
  const s = Math.sin(a);
  out[0] = 1;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  out[4] = c;
  out[5] = -s;
  out[6] = 0;
  out[7] = s;
  out[8] = c;
}

/** Rotation by `a` (rad) about y. */
export function rotY(a: number, out: Float64Array): void {
  const c = Math.cos(a);
  const s = Math.sin(a);
  out[0] = c;
  out[1] = 0;
  out[2] = s;
  out[3] = 0;
  out[4] = 1;
  out[5] = 0;
  out[6] = -s;
  out[7] = 0;
  out[8] = c;
}

/** Rotation by `a` (rad) about z. */
export function rotZ(a: number, out: Float64Array): void {
  const c = Math.cos(a);
  const s = Math.sin(a);
  out[0] = c;
  out[1] = -s;
  out[2] = 0;
  out[3] = s;
  out[4] = c;
  out[5] = 0;
  out[6] = 0;
  out[7] = 0;
  out[8] = 1;
}

/** out = a b (out must not alias a or b). */
export function mulMat(a: ArrayLike<number>, b: ArrayLike<number>, out: Float64Array): void {
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[3 * r + c] = a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!;
    }
  }
}

/** out = a^T b (out must not alias a or b). */
export function mulTMat(a: ArrayLike<number>, b: ArrayLike<number>, out: Float64Array): void {
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[3 * r + c] = a[r]! * b[c]! + a[3 + r]! * b[3 + c]! + a[6 + r]! * b[6 + c]!;
    }
  }
}

/** out = m v (out must not alias v). */
export function mulVec(m: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array): void {
  const x = v[0]!;
  const y = v[1]!;
  const z = v[2]!;
  out[0] = m[0]! * x + m[1]! * y + m[2]! * z;
  out[1] = m[3]! * x + m[4]! * y + m[5]! * z;
  out[2] = m[6]! * x + m[7]! * y + m[8]! * z;
}

/** out = m^T v (out must not alias v). */
export function mulTVec(m: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array): void {
  const x = v[0]!;
  const y = v[1]!;
  const z = v[2]!;
  out[0] = m[0]! * x + m[3]! * y + m[6]! * z;
  out[1] = m[1]! * x + m[4]! * y + m[7]! * z;
  out[2] = m[2]! * x + m[5]! * y + m[8]! * z;
}

/** Rotation matrix (row-major) of a unit quaternion (w, x, y, z). */
export function quatToMat(q: ArrayLike<number>, out: Float64Array, offset = 0): void {
  const w = q[offset]!;
  const x = q[offset + 1]!;
  const y = q[offset + 2]!;
  const z = q[offset + 3]!;
  out[0] = 1 - 2 * (y * y + z * z);
  out[1] = 2 * (x * y - w * z);
  out[2] = 2 * (x * z + w * y);
  out[3] = 2 * (x * y + w * z);
  out[4] = 1 - 2 * (x * x + z * z);
  out[5] = 2 * (y * z - w * x);
  out[6] = 2 * (x * z - w * y);
  out[7] = 2 * (y * z + w * x);
  out[8] = 1 - 2 * (x * x + y * y);
}

/** Yaw (rad about world z) of a rotation matrix's x axis. */
export function yawOf(m: ArrayLike<number>): number {
  return Math.atan2(m[3]!, m[0]!);
}

/** Yaw (rad) about world z of a quaternion (w, x, y, z). */
export function quatYaw(q: ArrayLike<number>): number {
  const w = q[0]!;
  const x = q[1]!;
  const y = q[2]!;
  const z = q[3]!;
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** Rotation matrix (row-major, at `offset`) to quaternion (w, x, y, z), Shepperd's method. */
export function matToQuat(m: ArrayLike<number>, offset: number, q: Float64Array): void {
  const r00 = m[offset]!;
  const r01 = m[offset + 1]!;
  const r02 = m[offset + 2]!;
  const r10 = m[offset + 3]!;
  const r11 = m[offset + 4]!;
  const r12 = m[offset + 5]!;
  const r20 = m[offset + 6]!;
  const r21 = m[offset + 7]!;
  const r22 = m[offset + 8]!;
  const tr = r00 + r11 + r22;
  if (tr > 0) {
    const s = 2 * Math.sqrt(1 + tr);
    q[0] = s / 4;
    q[1] = (r21 - r12) / s;
    q[2] = (r02 - r20) / s;
    q[3] = (r10 - r01) / s;
  } else if (r00 > r11 && r00 > r22) {
    const s = 2 * Math.sqrt(1 + r00 - r11 - r22);
    q[0] = (r21 - r12) / s;
    q[1] = s / 4;
    q[2] = (r01 + r10) / s;
    q[3] = (r02 + r20) / s;
  } else if (r11 > r22) {
    const s = 2 * Math.sqrt(1 + r11 - r00 - r22);
    q[0] = (r02 - r20) / s;
    q[1] = (r01 + r10) / s;
    q[2] = s / 4;
    q[3] = (r12 + r21) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r22 - r00 - r11);
    q[0] = (r10 - r01) / s;
    q[1] = (r02 + r20) / s;
    q[2] = (r12 + r21) / s;
    q[3] = s / 4;
  }
}
