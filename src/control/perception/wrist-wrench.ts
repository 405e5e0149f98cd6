/**
 * Gravity compensation of a wrist force/torque sensor: the reading minus the weight of what hangs below
 * it (hand, fingers, anything held), leaving the contact wrench.
 *
 * The sensor (MuJoCo `force`/`torque` at a site, like a real F/T cell) reads the wrench the arm exerts on
 * the tool, in the sensor frame. At rest and out of contact that is the tool's support: f = R^T (0, 0, m g)
 * and t = c x f for a tool of mass m with its centre of mass at c (sensor frame), R the sensor's
 * orientation in the world. The compensated output is the wrench the environment exerts on the tool,
 * sensor frame: -(reading - support). Pressing a held peg down on a board thus reads +z in world.
 *
 * `identify` takes a tool model from one static, contact-free reading (mass from |f|, the part of c
 * perpendicular to f from t = c x f: c_perp = f x t / |f|^2), as robots "tare" a sensor after picking up a
 * tool or a part. `compensate` allocates nothing.
 */
export class WristWrenchCompensator {
  /** Tool mass below the sensor (kg) and its centre of mass in the sensor frame (m). */
  massKg = 0;
  readonly comM = new Float64Array(3);
  readonly gravity: number;
  private readonly support = new Float64Array(6);

  constructor(gravity = 9.81) {
    this.gravity = gravity;
  }

  setTool(massKg: number, comM: ArrayLike<number> = [0, 0, 0]): void {
    this.massKg = massKg;
    for (let i = 0; i < 3; i++) this.comM[i] = comM[i]!;
  }

  /** Tool model from a static, contact-free `raw` reading taken at sensor orientation `R` (row-major). */
  identify(raw: ArrayLike<number>, R: ArrayLike<number>): void {
    const fx = raw[0]!;
    const fy = raw[1]!;
    const fz = raw[2]!;
    const f2 = fx * fx + fy * fy + fz * fz;
    if (!(f2 > 0) || !Number.isFinite(f2)) {
      this.setTool(0);
      return;
    }
    // The mass along gravity: world z of the force.
    const up = R[6]! * fx + R[7]! * fy + R[8]! * fz;
    this.massKg = Math.max(0, up / this.gravity);
    const tx = raw[3]!;
    const ty = raw[4]!;
    const tz = raw[5]!;
    this.comM[0] = (fy * tz - fz * ty) / f2;
    this.comM[1] = (fz * tx - fx * tz) / f2;
    this.comM[2] = (fx * ty - fy * tx) / f2;
  }

  /** Contact wrench (environment on tool, sensor frame) from a raw reading at orientation `R`. */
  compensate(raw: ArrayLike<number>, R: ArrayLike<number>, out: Float64Array): void {
    const s = this.support;
    const w = this.massKg * this.gravity;
    // R^T (0, 0, w): the third row of R, scaled.
    s[0] = R[6]! * w;
    s[1] = R[7]! * w;
    s[2] = R[8]! * w;
    const c = this.comM;
    s[3] = c[1]! * s[2]! - c[2]! * s[1]!;
    s[4] = c[2]! * s[0]! - c[0]! * s[2]!;
    s[5] = c[0]! * s[1]! - c[1]! * s[0]!;
    for (let i = 0; i < 6; i++) out[i] = s[i]! - raw[i]!;
  }
}
