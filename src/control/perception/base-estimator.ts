/**
 * Floating-base state of a legged robot from what the robot itself measures: IMU (orientation, angular
 * velocity, linear acceleration), joint positions, and the load on each foot. It fills
 * `WorldState.base` (src/control/contracts.ts) in place.
 *
 * - Orientation: the gyro integrated and pulled toward the IMU's orientation output (an attitude
 *   complementary filter); angular velocity is the gyro's. The IMU frame is taken as the base frame.
 * - Position is leg odometry: a foot that carries load is assumed not to slip, so its sole is an anchor in
 *   the world; the base is wherever the leg's kinematics put it relative to the anchors of the loaded feet
 *   (weighted by load). An anchor is set when its foot touches down and forgotten when it lifts off.
 * - Velocity is a complementary filter: the accelerometer (gravity removed) predicts it, the legs'
 *   kinematics (gyro plus encoder rates of the loaded legs) correct it (Bloesch et al., "State estimation
 *   for legged robots", RSS 2012, in its simplest form); position integrates it and is pulled toward the
 *   leg odometry. With no foot loaded (a flight phase, a fall) the base coasts on the IMU alone.
 *
 * `update` allocates nothing. Frames: world is z up; `pos`, `linVel`, `angVel` are in world coordinates,
 * `quat` is (w, x, y, z) base -> world.
 */
import type { BaseState } from '../contracts.ts';
import { mulVec, norm4, quatToMat } from '../rotation.ts';

/** The leg kinematics the estimator needs (HumanoidModel in src/control/cerebellum satisfies it). */
export interface LegKinematics {
  /** Sole centre of leg `side` (0, 1) in the base frame from the canonical joint positions. */
  sole(side: 0 | 1, q: ArrayLike<number>, pos: Float64Array): void;
}

export interface BaseEstimatorOptions {
  /** Foot load (N) above which a foot counts as a stance anchor (default 40 N, ~8% of a 50 kg robot). */
  contactN?: number;
  /** Weight of the kinematic velocity in the velocity filter per tick, 0..1 (default 0.15). */
  velocityBlend?: number;
  /** Weight of the leg-odometry position against the integrated velocity per tick, 0..1 (default 0.2). */
  positionBlend?: number;
  /** Weight of the IMU's orientation against the integrated gyro per update, 0..1 (default 0.05). */
  attitudeBlend?: number;
  /** Gravity (m/s^2, default 9.81). */
  gravity?: number;
}

/** IMU reading: accelerometer (m/s^2, IMU frame), gyro (rad/s, IMU frame), orientation (w, x, y, z). */
export interface ImuReading {
  readonly acc: ArrayLike<number>;
  readonly gyro: ArrayLike<number>;
  readonly quat: ArrayLike<number>;
}

export class BaseEstimator {
  readonly base: BaseState = {
    pos: new Float64Array(3),
    quat: Float64Array.of(1, 0, 0, 0),
    linVel: new Float64Array(3),
    angVel: new Float64Array(3),
  };
  /** Per side: whether the foot is an anchor now, and where its sole is in the world. */
  readonly contact: [boolean, boolean] = [false, false];
  readonly anchor: [Float64Array, Float64Array] = [new Float64Array(3), new Float64Array(3)];

  private readonly legs: LegKinematics;
  /** Foot load (N) above which a foot is a stance anchor. */
  readonly contactThresholdN: number;
  private readonly blend: number;
  private readonly g: number;
  private readonly rot = new Float64Array(9);
  private readonly rel = new Float64Array(3);
  /** Sole minus base in world coordinates, per side. */
  private readonly foot: [Float64Array, Float64Array] = [new Float64Array(3), new Float64Array(3)];
  private readonly kinPos = new Float64Array(3);
  private readonly kinVel = new Float64Array(3);
  /** Each sole in the base frame at the previous update. */
  private readonly relPrev: [Float64Array, Float64Array] = [new Float64Array(3), new Float64Array(3)];
  private hasPrev = false;
  private readonly d = new Float64Array(3);
  private readonly v = new Float64Array(3);
  private readonly posBlend: number;
  private readonly attBlend: number;
  private hasAttitude = false;
  private lastSec = Number.NaN;

  constructor(legs: LegKinematics, opts: BaseEstimatorOptions = {}) {
    this.legs = legs;
    this.contactThresholdN = opts.contactN ?? 40;
    this.blend = opts.velocityBlend ?? 0.15;
    this.posBlend = opts.positionBlend ?? 0.2;
    this.attBlend = opts.attitudeBlend ?? 0.05;
    this.g = opts.gravity ?? 9.81;
  }

  /**
   * Starts from a known base position (a localisation fix: where the robot was placed), at rest. The
   * first update anchors every loaded foot relative to it.
   */
  reset(pos: ArrayLike<number>): void {
    for (let k = 0; k < 3; k++) {
      this.base.pos[k] = pos[k]!;
      this.base.linVel[k] = 0;
      this.base.angVel[k] = 0;
    }
    this.contact[0] = false;
    this.contact[1] = false;
    this.hasPrev = false;
    this.hasAttitude = false;
    this.lastSec = Number.NaN;
  }

  /**
   * Orientation: the gyro integrated (q <- q (1, w dt / 2)), pulled toward the IMU's own orientation by
   * `attitudeBlend` per update. The gyro carries the fast motion, the orientation output the slow truth, so
   * sample noise on the orientation reaches the base frame attenuated (an attitude complementary filter).
   */
  private attitude(imu: ImuReading, dt: number): void {
    const q = this.base.quat;
    const m = imu.quat;
    const n = norm4(m[0]!, m[1]!, m[2]!, m[3]!) || 1;
    if (!this.hasAttitude || !(dt > 0)) {
      for (let k = 0; k < 4; k++) q[k] = m[k]! / n;
      this.hasAttitude = true;
      return;
    }
    const hx = 0.5 * imu.gyro[0]! * dt;
    const hy = 0.5 * imu.gyro[1]! * dt;
    const hz = 0.5 * imu.gyro[2]! * dt;
    const w = q[0]!;
    const x = q[1]!;
    const y = q[2]!;
    const z = q[3]!;
    q[0] = w - x * hx - y * hy - z * hz;
    q[1] = x + w * hx + y * hz - z * hy;
    q[2] = y + w * hy - x * hz + z * hx;
    q[3] = z + w * hz + x * hy - y * hx;
    // The measured quaternion on the same hemisphere, then a small step toward it.
    const dot = q[0]! * m[0]! + q[1]! * m[1]! + q[2]! * m[2]! + q[3]! * m[3]!;
    const sgn = dot < 0 ? -1 : 1;
    const a = this.attBlend;
    for (let k = 0; k < 4; k++) q[k] = q[k]! + a * ((sgn * m[k]!) / n - q[k]!);
    const qn = norm4(q[0]!, q[1]!, q[2]!, q[3]!);
    for (let k = 0; k < 4; k++) q[k] = q[k]! / qn;
  }

  /**
   * One estimate at time `tSec` from the IMU, canonical joint positions `q` and the normal load on each
   * foot (N).
   */
  update(tSec: number, imu: ImuReading, q: ArrayLike<number>, leftLoadN: number, rightLoadN: number): void {
    const b = this.base;
    const dt = Number.isNaN(this.lastSec) ? 0 : tSec - this.lastSec;
    this.lastSec = tSec;
    this.attitude(imu, dt);
    quatToMat(b.quat, this.rot);
    mulVec(this.rot, imu.gyro, b.angVel);

    // Velocity prediction from the accelerometer: specific force rotated to world, plus gravity.
    if (dt > 0) {
      mulVec(this.rot, imu.acc, this.rel);
      b.linVel[0] = b.linVel[0]! + this.rel[0]! * dt;
      b.linVel[1] = b.linVel[1]! + this.rel[1]! * dt;
      b.linVel[2] = b.linVel[2]! + (this.rel[2]! - this.g) * dt;
    }

    // Leg odometry. Position: from the anchors of the loaded feet. Velocity: a loaded sole does not move,
    // so the base moves at -(w x f + R d/dt p_rel) with f = R p_rel the sole seen from the base; taking w
    // from the gyro and p_rel from the encoders (instead of differentiating R p_rel) keeps orientation
    // noise from turning into velocity noise.
    let wSum = 0;
    let vSum = 0;
    this.kinPos.fill(0);
    this.kinVel.fill(0);
    for (let i = 0; i < 2; i++) {
      const side = i as 0 | 1;
      const load = side === 0 ? leftLoadN : rightLoadN;
      const rel = this.rel;
      this.legs.sole(side, q, rel);
      const f = this.foot[side];
      mulVec(this.rot, rel, f);
      const loaded = load > this.contactThresholdN;
      const wasLoaded = this.contact[side];
      if (loaded && !wasLoaded) {
        // Touch-down: the sole is where the current base estimate says it is.
        for (let k = 0; k < 3; k++) this.anchor[side][k] = b.pos[k]! + f[k]!;
      }
      this.contact[side] = loaded;
      const prev = this.relPrev[side];
      if (loaded) {
        for (let k = 0; k < 3; k++) this.kinPos[k] = this.kinPos[k]! + load * (this.anchor[side][k]! - f[k]!);
        wSum += load;
        if (wasLoaded && this.hasPrev && dt > 0) {
          for (let k = 0; k < 3; k++) this.d[k] = (rel[k]! - prev[k]!) / dt;
          mulVec(this.rot, this.d, this.v);
          const w = b.angVel;
          this.kinVel[0] = this.kinVel[0]! - load * (w[1]! * f[2]! - w[2]! * f[1]! + this.v[0]!);
          this.kinVel[1] = this.kinVel[1]! - load * (w[2]! * f[0]! - w[0]! * f[2]! + this.v[1]!);
          this.kinVel[2] = this.kinVel[2]! - load * (w[0]! * f[1]! - w[1]! * f[0]! + this.v[2]!);
          vSum += load;
        }
      }
      prev.set(rel);
    }
    this.hasPrev = true;
    if (vSum > 0) {
      for (let k = 0; k < 3; k++)
        b.linVel[k] = b.linVel[k]! + this.blend * (this.kinVel[k]! / vSum - b.linVel[k]!);
    }
    // Position: integrate the velocity, pulled toward the leg-odometry position while a foot is loaded.
    for (let k = 0; k < 3; k++) b.pos[k] = b.pos[k]! + b.linVel[k]! * dt;
    if (wSum > 0) {
      for (let k = 0; k < 3; k++) b.pos[k] = b.pos[k]! + this.posBlend * (this.kinPos[k]! / wSum - b.pos[k]!);
    }
  }
}
