/**
 * The humanoid's own kinematic model, as its locomotion skills and base estimator use it: leg forward
 * kinematics (sole pose in the pelvis frame), the centre of mass in the pelvis frame, and analytic leg
 * inverse kinematics. It is read once from the robot's compiled MJCF (link offsets, sole site, masses and
 * the upper body's CoM in its `stand` pose), then runs on plain arrays: nothing here touches MuJoCo or
 * allocates after construction, so a real robot runs the same code from its own model file.
 *
 * Leg chain (src/embodiment/robots/humanoid.xml): hip yaw -> roll -> pitch about one anchor, knee pitch,
 * ankle pitch -> roll about one anchor, then the sole. The upper body (torso, head, arms) is taken as rigid
 * in its stand pose: locomotion skills hold the arms there, so only the legs move the CoM.
 *
 * Rotations are 3x3 row-major arrays; vectors are (x, y, z). Sides: 0 = left, 1 = right.
 */
import type { Embodiment } from '../embodiment/index.ts';
import { TgError } from '../errors/index.ts';
import type { MjModel, Mujoco } from '../sim/mujoco.ts';
import { mulMat, mulTVec, mulVec, norm2, norm3, rotX, rotY, rotZ } from './rotation.ts';

export type Side = 0 | 1;
export const SIDES = ['left', 'right'] as const;
/** Leg channels per side, in canonical order: hip yaw, hip roll, hip pitch, knee, ankle pitch, ankle roll. */
export const LEG_JOINTS = ['hip_yaw', 'hip_roll', 'hip_pitch', 'knee', 'ankle_pitch', 'ankle_roll'] as const;

export interface LegGeometry {
  /** Hip anchor in the pelvis frame, per side (m). */
  readonly hip: readonly [Float64Array, Float64Array];
  /** Knee below the hip along the thigh's -z (m), ankle below the knee along the shank's -z (m). */
  readonly thighM: number;
  readonly shankM: number;
  /** Sole centre (on the sole's surface) in the foot frame (m). */
  readonly sole: Float64Array;
  /** Sole half-length and half-width (m): the foot's support rectangle around `sole`. */
  readonly soleHalfLengthM: number;
  readonly soleHalfWidthM: number;
  /** Height of the sole force/torque site above the sole surface (m). */
  readonly soleSiteHeightM: number;
}

export interface MassModel {
  readonly totalKg: number;
  /** Pelvis plus upper body (rigid): mass and CoM in the pelvis frame. */
  readonly upperKg: number;
  readonly upperCom: Float64Array;
  /** Thigh, shank, foot: mass and CoM in the link frame (same for both sides). */
  readonly linkKg: readonly [number, number, number];
  readonly linkCom: readonly [Float64Array, Float64Array, Float64Array];
}

/** Canonical indices of the channels the locomotion skills drive. */
export interface LegChannels {
  /** First canonical channel of each leg (six consecutive channels in LEG_JOINTS order). */
  readonly leg: readonly [number, number];
  readonly count: number;
}

export class HumanoidModel {
  readonly geometry: LegGeometry;
  readonly mass: MassModel;
  readonly channels: LegChannels;
  /** Canonical stand pose (the embodiment's home), for the channels the legs do not use. */
  readonly home: Float64Array;
  /** Per channel, in canonical order. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  /**
   * Position-servo stiffness per channel (N m/rad, canonical order), when known: a target offset of
   * tau / kp makes a servo apply tau more, which is how the skills feed forward the load a leg carries.
   */
  readonly servoKp: Float64Array | null;

  // Scratch (FK/IK allocate nothing).
  private readonly rt = new Float64Array(9);
  private readonly rs = new Float64Array(9);
  private readonly rf = new Float64Array(9);
  private readonly m1 = new Float64Array(9);
  private readonly m2 = new Float64Array(9);
  private readonly v1 = new Float64Array(3);
  private readonly v2 = new Float64Array(3);
  private readonly knee = new Float64Array(3);
  private readonly ankle = new Float64Array(3);
  private readonly qScratch: Float64Array;
  private readonly p0 = new Float64Array(3);
  private readonly p1 = new Float64Array(3);

  constructor(embodiment: Embodiment, geometry: LegGeometry, mass: MassModel, servoKp?: ArrayLike<number>) {
    this.geometry = geometry;
    this.mass = mass;
    this.servoKp = servoKp ? Float64Array.from(servoKp) : null;
    this.qScratch = new Float64Array(embodiment.stateNames.length);
    const idx = (n: string) => {
      const i = embodiment.stateNames.indexOf(n);
      if (i < 0) throw new TgError('MODEL_INVALID', `embodiment '${embodiment.name}' has no joint '${n}'`);
      return i;
    };
    const leg = SIDES.map((s) => {
      const first = idx(`${s}_${LEG_JOINTS[0]}`);
      LEG_JOINTS.forEach((j, k) => {
        if (idx(`${s}_${j}`) !== first + k) {
          throw new TgError('MODEL_INVALID', `${s} leg channels of '${embodiment.name}' are not consecutive`);
        }
      });
      return first;
    }) as [number, number];
    this.channels = { leg, count: embodiment.actionNames.length };
    this.home = Float64Array.from(embodiment.home);
    this.lower = Float64Array.from(embodiment.jointLimits.lower);
    this.upper = Float64Array.from(embodiment.jointLimits.upper);
  }

  /**
   * Reads the model from a compiled MJCF that contains the humanoid (alone or in a scene): link offsets and
   * masses from the model arrays, the upper body's CoM from one forward pass in the `stand` keyframe.
   */
  static fromMujoco(mj: Mujoco, model: MjModel, embodiment: Embodiment): HumanoidModel {
    const O = mj.mjtObj;
    const id = (type: number, n: string, what: string) => {
      const i = mj.mj_name2id(model, type, n);
      if (i < 0) throw new TgError('MODEL_INVALID', `humanoid model has no ${what} '${n}'`);
      return i;
    };
    const body = (n: string) => id(O.mjOBJ_BODY.value, n, 'body');
    // Copies: live views die when the WASM heap grows (the MjData below allocates).
    const bodyPos = Float64Array.from(model.body_pos as Float64Array);
    const bodyQuat = Float64Array.from(model.body_quat as Float64Array);
    const bodyIpos = Float64Array.from(model.body_ipos as Float64Array);
    const bodyMass = Float64Array.from(model.body_mass as Float64Array);
    const vec = (a: Float64Array, i: number) => Float64Array.from(a.subarray(3 * i, 3 * i + 3));
    const links = ['thigh', 'shank', 'foot'];
    for (const s of SIDES) {
      for (const l of links) {
        const b = body(`${s}_${l}`);
        const q = bodyQuat.subarray(4 * b, 4 * b + 4);
        if (Math.abs(q[0]! - 1) > 1e-9) {
          throw new TgError(
            'MODEL_INVALID',
            `humanoid body '${s}_${l}' is rotated; the leg model assumes not`,
          );
        }
      }
    }
    const shank = vec(bodyPos, body('left_shank'));
    const foot = vec(bodyPos, body('left_foot'));
    if (norm2(shank[0]!, shank[1]!) > 1e-9 || norm2(foot[0]!, foot[1]!) > 1e-9) {
      throw new TgError('MODEL_INVALID', 'humanoid knee/ankle are not straight below hip/knee');
    }
    // The sole: the bottom face of the foot's box geom; the force/torque site `left_sole` sits on it.
    const geomId = id(O.mjOBJ_GEOM.value, 'left_foot', 'geom');
    const geomPos = Float64Array.from(model.geom_pos as Float64Array);
    const geomSize = Float64Array.from(model.geom_size as Float64Array);
    const sole = vec(geomPos, geomId);
    sole[2] = sole[2]! - geomSize[3 * geomId + 2]!;
    const siteId = id(O.mjOBJ_SITE.value, 'left_sole', 'site');
    const siteZ = (model.site_pos as Float64Array)[3 * siteId + 2]!;
    const geometry: LegGeometry = {
      hip: [vec(bodyPos, body('left_thigh')), vec(bodyPos, body('right_thigh'))],
      thighM: -shank[2]!,
      shankM: -foot[2]!,
      sole,
      soleHalfLengthM: geomSize[3 * geomId]!,
      soleHalfWidthM: geomSize[3 * geomId + 1]!,
      soleSiteHeightM: siteZ - sole[2]!,
    };

    // Upper body: everything but the legs, CoM in the pelvis frame at the stand keyframe.
    const data = new mj.MjData(model);
    try {
      const key = mj.mj_name2id(model, O.mjOBJ_KEY.value, embodiment.homeKeyframe ?? 'stand');
      if (key >= 0) mj.mj_resetDataKeyframe(model, data, key);
      mj.mj_forward(model, data);
      const pelvis = body('pelvis');
      const subMass = model.body_subtreemass as Float64Array;
      const subCom = data.subtree_com as Float64Array;
      const xpos = data.xpos as Float64Array;
      const xmat = data.xmat as Float64Array;
      const totalKg = subMass[pelvis]!;
      const legKg = subMass[body('left_thigh')]! + subMass[body('right_thigh')]!;
      const upperKg = totalKg - legKg;
      const w = new Float64Array(3);
      for (let k = 0; k < 3; k++) w[k] = subCom[3 * pelvis + k]! * totalKg;
      for (const s of SIDES) {
        const t = body(`${s}_thigh`);
        for (let k = 0; k < 3; k++) w[k] = w[k]! - subCom[3 * t + k]! * subMass[t]!;
      }
      const upperCom = new Float64Array(3);
      // World -> pelvis frame: R^T (p - origin).
      for (let r = 0; r < 3; r++) {
        let sum = 0;
        for (let c = 0; c < 3; c++)
          sum += xmat[9 * pelvis + 3 * c + r]! * (w[c]! / upperKg - xpos[3 * pelvis + c]!);
        upperCom[r] = sum;
      }
      const linkIds = links.map((l) => body(`left_${l}`));
      const mass: MassModel = {
        totalKg,
        upperKg,
        upperCom,
        linkKg: [bodyMass[linkIds[0]!]!, bodyMass[linkIds[1]!]!, bodyMass[linkIds[2]!]!],
        linkCom: [vec(bodyIpos, linkIds[0]!), vec(bodyIpos, linkIds[1]!), vec(bodyIpos, linkIds[2]!)],
      };
      // Servo stiffness: a <position> actuator's gainprm[0] is kp (mjNGAIN = 10 entries per actuator).
      const gain = model.actuator_gainprm as Float64Array;
      const kp = embodiment.actionNames.map((a) => gain[10 * id(O.mjOBJ_ACTUATOR.value, a, 'actuator')]!);
      return new HumanoidModel(embodiment, geometry, mass, kp);
    } finally {
      data.delete();
    }
  }

  /**
   * Sole pose of one leg in the pelvis frame from its six joint angles (`q` canonical, read from the
   * side's first leg channel): centre of the sole surface `pos`, and the foot's rotation `rot` if given.
   */
  sole(side: Side, q: ArrayLike<number>, pos: Float64Array, rot?: Float64Array): void {
    this.legChain(side, q);
    const g = this.geometry;
    mulVec(this.rf, g.sole, this.v1);
    for (let k = 0; k < 3; k++) pos[k] = this.ankle[k]! + this.v1[k]!;
    if (rot) rot.set(this.rf);
  }

  /** Centre of mass in the pelvis frame from the canonical joint positions `q`. */
  com(q: ArrayLike<number>, out: Float64Array): void {
    const { mass } = this;
    for (let k = 0; k < 3; k++) out[k] = mass.upperKg * mass.upperCom[k]!;
    for (let i = 0; i < 2; i++) {
      const side = i as Side;
      this.legChain(side, q);
      const hip = this.geometry.hip[side];
      this.addLink(this.rt, hip, mass.linkCom[0], mass.linkKg[0], out);
      this.addLink(this.rs, this.knee, mass.linkCom[1], mass.linkKg[1], out);
      this.addLink(this.rf, this.ankle, mass.linkCom[2], mass.linkKg[2], out);
    }
    for (let k = 0; k < 3; k++) out[k] = out[k]! / mass.totalKg;
  }

  /**
   * Leg joint angles that put one sole at `solePos` with rotation `soleRot`, both in the pelvis frame
   * (Kajita et al., "Introduction to Humanoid Robotics", analytic IK for a yaw-roll-pitch hip and a
   * pitch-roll ankle). Writes the six angles into `q` at the side's leg channel. A target beyond reach is
   * pulled in to a nearly straight knee. Returns how far the target was out of reach (m, 0 when reachable).
   */
  legIk(side: Side, solePos: ArrayLike<number>, soleRot: Float64Array, q: Float64Array): number {
    const g = this.geometry;
    const hip = g.hip[side];
    // Ankle = sole - R_f * sole offset; r = R_f^T (hip - ankle): the hip seen from the ankle, foot frame.
    mulVec(soleRot, g.sole, this.v1);
    for (let k = 0; k < 3; k++) this.v2[k] = hip[k]! - (solePos[k]! - this.v1[k]!);
    const r = this.v1;
    mulTVec(soleRot, this.v2, r);
    const A = g.thighM;
    const B = g.shankM;
    let C = norm3(r[0]!, r[1]!, r[2]!);
    const maxC = (A + B) * 0.9995;
    const beyond = Math.max(0, C - maxC);
    if (C > maxC) {
      for (let k = 0; k < 3; k++) r[k] = (r[k]! * maxC) / C;
      C = maxC;
    }
    const cKnee = (C * C - A * A - B * B) / (2 * A * B);
    const knee = Math.acos(Math.max(-1, Math.min(1, cKnee)));
    const alpha = Math.asin(Math.max(-1, Math.min(1, (A * Math.sin(Math.PI - knee)) / C)));
    const ankleRoll = Math.atan2(r[1]!, r[2]!);
    const anklePitch =
      -Math.atan2(r[0]!, Math.sign(r[2]!) * Math.sqrt(r[1]! * r[1]! + r[2]! * r[2]!)) - alpha;
    // Hip rotation: R_hip = R_f Rx(roll)^T Ry(knee + pitch)^T.
    rotX(-ankleRoll, this.m1);
    mulMat(soleRot, this.m1, this.m2);
    rotY(-(knee + anklePitch), this.m1);
    const R = this.rt;
    mulMat(this.m2, this.m1, R);
    const hipYaw = Math.atan2(-R[1]!, R[4]!);
    const cy = Math.cos(hipYaw);
    const sy = Math.sin(hipYaw);
    const hipRoll = Math.atan2(R[7]!, -R[1]! * sy + R[4]! * cy);
    const hipPitch = Math.atan2(-R[6]!, R[8]!);
    const o = this.channels.leg[side];
    q[o] = hipYaw;
    q[o + 1] = hipRoll;
    q[o + 2] = hipPitch;
    q[o + 3] = knee;
    q[o + 4] = anklePitch;
    q[o + 5] = ankleRoll;
    return beyond;
  }

  /**
   * Joint torques (N m) a stance leg needs to carry the ground force `force` (N, pelvis frame) acting at
   * its sole centre: tau = -J^T f, with J the sole position's Jacobian in the pelvis frame (central
   * differences of the forward kinematics). Written at the side's leg channels of `tau`.
   */
  stanceTorque(side: Side, q: ArrayLike<number>, force: ArrayLike<number>, tau: Float64Array): void {
    const o = this.channels.leg[side];
    const qs = this.qScratch;
    for (let i = 0; i < qs.length; i++) qs[i] = q[i]!;
    const h = 1e-5;
    for (let j = 0; j < 6; j++) {
      const c = o + j;
      const q0 = qs[c]!;
      qs[c] = q0 + h;
      this.sole(side, qs, this.p0);
      qs[c] = q0 - h;
      this.sole(side, qs, this.p1);
      qs[c] = q0;
      let t = 0;
      for (let k = 0; k < 3; k++) t -= ((this.p0[k]! - this.p1[k]!) / (2 * h)) * force[k]!;
      tau[c] = t;
    }
  }

  /** Thigh, shank and foot rotations and knee/ankle positions (pelvis frame) into scratch. */
  private legChain(side: Side, q: ArrayLike<number>): void {
    const o = this.channels.leg[side];
    const g = this.geometry;
    const hip = g.hip[side];
    rotZ(q[o]!, this.m1);
    rotX(q[o + 1]!, this.m2);
    mulMat(this.m1, this.m2, this.rs);
    rotY(q[o + 2]!, this.m1);
    mulMat(this.rs, this.m1, this.rt);
    rotY(q[o + 3]!, this.m1);
    mulMat(this.rt, this.m1, this.rs);
    for (let k = 0; k < 3; k++) this.knee[k] = hip[k]! - this.rt[3 * k + 2]! * g.thighM;
    for (let k = 0; k < 3; k++) this.ankle[k] = this.knee[k]! - this.rs[3 * k + 2]! * g.shankM;
    rotY(q[o + 4]!, this.m1);
    mulMat(this.rs, this.m1, this.m2);
    rotX(q[o + 5]!, this.m1);
    mulMat(this.m2, this.m1, this.rf);
  }

  private addLink(
    rot: Float64Array,
    origin: ArrayLike<number>,
    com: Float64Array,
    kg: number,
    out: Float64Array,
  ) {
    mulVec(rot, com, this.v2);
    for (let k = 0; k < 3; k++) out[k] = out[k]! + kg * (origin[k]! + this.v2[k]!);
  }
}
