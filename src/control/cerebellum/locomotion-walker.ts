/**
 * The biped engine the `stand` (balance.ts) and `walk_to` (gait.ts) skills share: a footstep queue, a
 * divergent-component-of-motion (DCM) controller on the linear inverted pendulum, swing-foot trajectories
 * and analytic leg IK, writing canonical joint position targets.
 *
 * The model (Kajita's LIPM; Englsberger et al., "Three-dimensional bipedal walking control based on
 * divergent component of motion", IEEE T-RO 2015): CoM c at constant height, omega = sqrt(g / z_c), ZMP p,
 * DCM xi = c + c'/omega with xi' = omega (xi - p). Per tick:
 *
 * 1. Measure: CoM and its velocity from the base estimate (IMU + leg odometry) and the leg kinematics;
 *    xi_meas.
 * 2. Reference: the ZMP reference is piecewise linear over the queued footsteps (constant under the stance
 *    foot in single support, moving between the feet in double support, ending between the last two feet
 *    at rest). xi_ref comes from it in closed form, backward from the rest state at the end.
 * 3. DCM feedback: p_d = p_ref + (1 + k / omega)(xi_meas - xi_ref), clamped into the support polygon
 *    (what the feet can physically give: the ankle strategy).
 * 4. The commanded CoM puts the ZMP at p_d: position servos make the legs a stiff spring between pelvis
 *    and feet, and the ground answers a stretch of that spring with a ZMP shift, so the command is the
 *    measured CoM offset by gamma (c - p_d), plus an integral of the error to the ZMP the sole
 *    force/torque sensors measure (CoM admittance control, Caron et al., ICRA 2019).
 * 5. Stepping: a swing foot's landing point is moved by the DCM error it would carry into touchdown
 *    (e^{omega t_remaining} (xi_meas - xi_ref)), within reach and without crossing the other foot: the
 *    stepping strategy. The footsteps still queued move with it. The balance skill queues capture steps.
 * 6. IK: stance legs hold the feet where they are relative to the commanded pelvis (its position from the
 *    commanded CoM, its orientation upright at the feet's heading with an IMU tilt correction, its height
 *    lowered when a long step needs the reach). The swing leg's position is solved in the same commanded
 *    frame (solving it in the measured one feeds pelvis pitch back through the swing hip and shakes the
 *    torso), its orientation against the measured pelvis so the sole stays level. Stance legs get their
 *    share of the body's load fed forward as servo target offsets (tau / kp), or their knees sag.
 *
 * Phases: 'stand' (both feet down), 'transfer' (double support, weight moving to the stance foot; the
 * foot lifts once unloaded), 'swing' (single support; the foot lands on touch-down late in the swing).
 *
 * Everything is preallocated: `update` allocates nothing.
 */
import type { WorldState } from '../contracts.ts';
import type { HumanoidModel, Side } from '../humanoid-model.ts';
import { mulMat, mulTMat, mulTVec, mulVec, norm2, quatToMat, rotX, rotY, rotZ, yawOf } from '../rotation.ts';

export type WalkerPhase = 'stand' | 'transfer' | 'swing';

export interface WalkerOptions {
  /** Pelvis height above the stance soles while walking and standing (m, default 0.88). */
  pelvisHeightM?: number;
  /** Single-support (swing) duration (s, default 0.4). */
  swingSec?: number;
  /** Double-support (weight transfer) duration between steps (s, default 0.1). */
  transferSec?: number;
  /** Weight transfer before the first step from standing (s, default 0.3). */
  firstTransferSec?: number;
  /** Swing foot apex (m, default 0.06). */
  swingHeightM?: number;
  /** How far ahead along its trajectory the swing foot is aimed (s, default 0.08): servo lag. */
  swingLeadSec?: number;
  /** Longest wait for touchdown past the nominal swing time, or for lift-off past the transfer (s, 0.1). */
  maxLateSec?: number;
  /** A foot lifts once its load is below this fraction of the body weight (default 0.3). */
  liftLoadFraction?: number;
  /** DCM feedback gain k (1/s, default 3). */
  dcmGain?: number;
  /** CoM command offset per metre of (CoM - desired ZMP) (default 0.2): see `control`. */
  zmpGain?: number;
  /** Integral gain from the ZMP error to the CoM command offset (1/s, default 10) and its limit (m, 0.06). */
  zmpIntegralGain?: number;
  zmpIntegralLimitM?: number;
  /** Margin kept between the desired ZMP and the sole edges (m, default 0.02). */
  zmpMarginM?: number;
  /** Gain of the step-location adjustment from the DCM error, 0..1 (default 1; 0 = fixed footsteps). */
  stepAdjustGain?: number;
  /** Largest step-location adjustment (m, default 0.25). */
  maxStepAdjustM?: number;
  /** Narrowest stance an adjusted step may land in (m between sole centres, default 0.14). */
  minWidthM?: number;
  /** Farthest a swing foot may land from the stance foot (m between sole centres, default 0.45). */
  maxReachM?: number;
  /** Fraction of the stance legs' load fed forward as servo target offsets, 0..1 (default 1). */
  loadFeedforward?: number;
  /** Torso tilt correction: proportional (default 1) and integral (1/s, default 3) gains on the IMU tilt. */
  tiltGain?: number;
  tiltIntegralGain?: number;
  gravity?: number;
}

/** One queued footstep: which foot moves and where its sole centre lands (world x, y, yaw). */
export interface Footstep {
  side: Side;
  x: number;
  y: number;
  yaw: number;
  /** Weight transfer before this step (s); default: the walker's transfer times. */
  transferSec?: number;
}

const QUEUE = 8;
/** Largest number of ZMP segments: now, then transfer + swing per queued step, then the final transfer. */
const SEGMENTS = 2 * QUEUE + 3;

export class Walker {
  readonly model: HumanoidModel;
  readonly omega: number;
  readonly o: Required<WalkerOptions>;

  phase: WalkerPhase = 'stand';
  /** Time in the current phase (s). */
  phaseSec = 0;
  /** The swinging foot in 'swing', the foot about to swing in 'transfer'. */
  swingSide: Side = 0;
  /** Steps taken since `reset`. */
  steps = 0;

  /** Sole centre (world) and yaw per side: where a stance foot is, where a swing foot is going. */
  readonly footPos: [Float64Array, Float64Array] = [new Float64Array(3), new Float64Array(3)];
  readonly footYaw = new Float64Array(2);
  /** Measured CoM (world) and its velocity, the DCM, the references and the desired ZMP (x, y). */
  readonly com = new Float64Array(3);
  readonly comVel = new Float64Array(3);
  readonly dcm = new Float64Array(2);
  readonly dcmRef = new Float64Array(2);
  readonly zmpRef = new Float64Array(2);
  readonly zmpDes = new Float64Array(2);
  /** ZMP measured by the sole force/torque sensors (x, y). */
  readonly zmpMeas = new Float64Array(2);
  /** Integral correction of the CoM command from the ZMP error (x, y). */
  readonly zmpInt = new Float64Array(2);
  /** Commanded CoM (x, y). */
  readonly comCmd = new Float64Array(2);
  /** Where the last swing foot landed relative to where it was sent (x, y, m). */
  readonly landingError = new Float64Array(2);
  /** Torso tilt from upright (rad): roll and pitch about the heading frame's x and y. */
  readonly tilt = new Float64Array(2);

  // Footstep queue (ring buffer).
  private readonly qSide = new Int8Array(QUEUE);
  private readonly qX = new Float64Array(QUEUE);
  private readonly qY = new Float64Array(QUEUE);
  private readonly qYaw = new Float64Array(QUEUE);
  private readonly qTransfer = new Float64Array(QUEUE);
  private qHead = 0;
  private qLen = 0;

  // ZMP segments for the DCM reference.
  private readonly segT = new Float64Array(SEGMENTS);
  private readonly segP0 = new Float64Array(2 * SEGMENTS);
  private readonly segP1 = new Float64Array(2 * SEGMENTS);

  // Swing trajectory.
  private readonly liftPos = new Float64Array(3);
  private liftYaw = 0;
  private readonly swingNominal = new Float64Array(2);
  /** Step-location adjustment of the swing in progress (x, y), frozen late in the swing. */
  private readonly adjust = new Float64Array(2);
  /** Where the ZMP reference was when the transfer began. */
  private readonly transferFrom = new Float64Array(2);
  private currentTransferSec = 0;
  private segCount = 0;

  // Scratch.
  private readonly rMeas = new Float64Array(9);
  private readonly rCmd = new Float64Array(9);
  private readonly rHead = new Float64Array(9);
  private readonly m1 = new Float64Array(9);
  private readonly m2 = new Float64Array(9);
  private readonly footRot = new Float64Array(9);
  private readonly relRot = new Float64Array(9);
  private readonly comRel: Float64Array = new Float64Array(3);
  private readonly comRelPrev = new Float64Array(3);
  private readonly comRelRate = new Float64Array(3);
  private hasComRel = false;
  private readonly v1 = new Float64Array(3);
  private readonly v2 = new Float64Array(3);
  private readonly pelvisCmd = new Float64Array(3);
  private readonly soleTarget = new Float64Array(3);
  private readonly tauFf: Float64Array;
  private readonly hullX = new Float64Array(8);
  private readonly hullY = new Float64Array(8);
  private readonly ptsX = new Float64Array(8);
  private readonly ptsY = new Float64Array(8);
  private readonly tiltInt = new Float64Array(2);
  private pelvisZ = 0;
  private lastSec = Number.NaN;
  private dt = 0;

  constructor(model: HumanoidModel, opts: WalkerOptions = {}) {
    this.model = model;
    this.tauFf = new Float64Array(model.channels.count);
    this.o = {
      pelvisHeightM: opts.pelvisHeightM ?? 0.88,
      swingSec: opts.swingSec ?? 0.4,
      transferSec: opts.transferSec ?? 0.1,
      firstTransferSec: opts.firstTransferSec ?? 0.3,
      swingHeightM: opts.swingHeightM ?? 0.06,
      swingLeadSec: opts.swingLeadSec ?? 0.08,
      maxLateSec: opts.maxLateSec ?? 0.1,
      liftLoadFraction: opts.liftLoadFraction ?? 0.3,
      dcmGain: opts.dcmGain ?? 3,
      zmpGain: opts.zmpGain ?? 0.2,
      zmpIntegralGain: opts.zmpIntegralGain ?? 10,
      zmpIntegralLimitM: opts.zmpIntegralLimitM ?? 0.06,
      zmpMarginM: opts.zmpMarginM ?? 0.02,
      stepAdjustGain: opts.stepAdjustGain ?? 1,
      maxStepAdjustM: opts.maxStepAdjustM ?? 0.25,
      minWidthM: opts.minWidthM ?? 0.14,
      maxReachM: opts.maxReachM ?? 0.45,
      loadFeedforward: opts.loadFeedforward ?? 1,
      tiltGain: opts.tiltGain ?? 1,
      tiltIntegralGain: opts.tiltIntegralGain ?? 3,
      gravity: opts.gravity ?? 9.81,
    };
    // CoM height above the soles: the pelvis height plus the CoM's height in the pelvis frame (stand pose).
    model.com(model.home, this.comRel);
    const zc = this.o.pelvisHeightM + this.comRel[2]!;
    this.omega = Math.sqrt(this.o.gravity / zc);
  }

  /** Queued footsteps not yet started. */
  get queued(): number {
    return this.qLen;
  }

  /** Starts from the measured state: both feet where they are, standing, no steps queued. */
  reset(state: WorldState): void {
    const base = state.base;
    if (!base) throw new Error('Walker.reset: the world state has no base estimate');
    this.phase = 'stand';
    this.phaseSec = 0;
    this.steps = 0;
    this.qLen = 0;
    this.qHead = 0;
    this.lastSec = Number.NaN;
    this.tiltInt.fill(0);
    this.zmpInt.fill(0);
    this.hasComRel = false;
    quatToMat(base.quat, this.rMeas);
    for (let side = 0; side < 2; side++) this.measuredSole(state, side as Side, this.footPos[side as Side]);
    for (let side = 0; side < 2; side++) this.footYaw[side] = this.measuredFootYaw(state, side as Side);
    this.measure(state);
    this.comCmd[0] = this.com[0]!;
    this.comCmd[1] = this.com[1]!;
    this.pelvisZ = base.pos[2]!;
  }

  /** Queues a footstep (after those already queued). Returns false when the queue is full. */
  push(step: Footstep): boolean {
    if (this.qLen >= QUEUE) return false;
    const k = (this.qHead + this.qLen) % QUEUE;
    this.qSide[k] = step.side;
    this.qX[k] = step.x;
    this.qY[k] = step.y;
    this.qYaw[k] = step.yaw;
    this.qTransfer[k] = step.transferSec ?? Number.NaN;
    this.qLen++;
    return true;
  }

  /** Drops the queued steps that have not started (a transfer in progress keeps the step it prepares). */
  clearQueue(): void {
    this.qLen = this.phase === 'transfer' ? Math.min(1, this.qLen) : 0;
  }

  /** The i-th queued step (0 = next), into `out`. */
  peek(i: number, out: Footstep): boolean {
    if (i >= this.qLen) return false;
    const k = (this.qHead + i) % QUEUE;
    out.side = this.qSide[k] as Side;
    out.x = this.qX[k]!;
    out.y = this.qY[k]!;
    out.yaw = this.qYaw[k]!;
    return true;
  }

  /** Side of the foot that will move next: the swing foot, or the first queued one. */
  get nextSwing(): Side | -1 {
    if (this.phase !== 'stand') return this.swingSide;
    return this.qLen > 0 ? (this.qSide[this.qHead] as Side) : -1;
  }

  /** Heading of the feet (average yaw, rad). */
  get heading(): number {
    return meanAngle(this.footYaw[0]!, this.footYaw[1]!);
  }

  /**
   * Redirects the swing in progress (or the transfer before it) to a new landing point. The balance skill
   * uses it for capture steps; the walking planner does not need it.
   */
  retarget(x: number, y: number): void {
    if (this.phase === 'stand') return;
    this.swingNominal[0] = x;
    this.swingNominal[1] = y;
  }

  /** Seconds until the swing foot lands (0 when standing). */
  get timeToLandSec(): number {
    if (this.phase === 'swing') return Math.max(0, this.o.swingSec - this.phaseSec);
    if (this.phase === 'transfer') return this.currentTransferSec - this.phaseSec + this.o.swingSec;
    return 0;
  }

  /** True when the point (x, y) is inside the current support polygon shrunk by `marginM`. */
  supportContains(x: number, y: number, marginM: number): boolean {
    const n = this.supportHull(marginM);
    return insideHull(this.hullX, this.hullY, n, x, y);
  }

  /**
   * One control tick: measures, advances the phase, and writes leg joint targets (and the embodiment's
   * home for every other channel) into `command`.
   */
  update(state: WorldState, command: Float64Array): void {
    const base = state.base!;
    this.dt = Number.isNaN(this.lastSec) ? 0 : state.tSec - this.lastSec;
    this.lastSec = state.tSec;
    quatToMat(base.quat, this.rMeas);
    this.measure(state);
    this.advance(state);
    this.reference();
    this.control(state);
    this.writeCommand(command);
  }

  // ---- measurement ----

  private measure(state: WorldState): void {
    const base = state.base!;
    const m = this.model;
    m.com(state.q, this.comRel);
    mulVec(this.rMeas, this.comRel, this.v1);
    for (let k = 0; k < 3; k++) this.com[k] = base.pos[k]! + this.v1[k]!;
    // c' = v_base + w x (R c_rel) + R c_rel': the last term is the legs moving the CoM under the pelvis
    // (a swinging leg is a fifth of the mass), differentiated in the pelvis frame and low-passed.
    const w = base.angVel;
    const r = this.v1;
    const dt = this.dt;
    if (dt > 0 && this.hasComRel) {
      for (let k = 0; k < 3; k++) {
        const d = (this.comRel[k]! - this.comRelPrev[k]!) / dt;
        this.comRelRate[k] = this.comRelRate[k]! + 0.3 * (d - this.comRelRate[k]!);
      }
    } else {
      this.comRelRate.fill(0);
    }
    this.comRelPrev.set(this.comRel);
    this.hasComRel = true;
    mulVec(this.rMeas, this.comRelRate, this.v2);
    this.comVel[0] = base.linVel[0]! + w[1]! * r[2]! - w[2]! * r[1]! + this.v2[0]!;
    this.comVel[1] = base.linVel[1]! + w[2]! * r[0]! - w[0]! * r[2]! + this.v2[1]!;
    this.comVel[2] = base.linVel[2]! + w[0]! * r[1]! - w[1]! * r[0]! + this.v2[2]!;
    this.dcm[0] = this.com[0]! + this.comVel[0]! / this.omega;
    this.dcm[1] = this.com[1]! + this.comVel[1]! / this.omega;
    // Tilt in the heading frame: R_head^T R_meas, small-angle roll/pitch from its z column.
    rotZ(yawOf(this.rMeas), this.rHead);
    mulTMat(this.rHead, this.rMeas, this.m1);
    this.tilt[0] = Math.atan2(-this.m1[5]!, this.m1[8]!);
    this.tilt[1] = Math.atan2(this.m1[2]!, this.m1[8]!);
  }

  /** Sole centre of a leg in the world from the measured joints and base estimate. */
  private measuredSole(state: WorldState, side: Side, out: Float64Array): void {
    this.model.sole(side, state.q, this.v2);
    mulVec(this.rMeas, this.v2, out);
    const p = state.base!.pos;
    for (let k = 0; k < 3; k++) out[k] = out[k]! + p[k]!;
  }

  private measuredFootYaw(state: WorldState, side: Side): number {
    this.model.sole(side, state.q, this.v2, this.footRot);
    mulMat(this.rMeas, this.footRot, this.m1);
    return yawOf(this.m1);
  }

  // ---- phases ----

  private advance(state: WorldState): void {
    const o = this.o;
    this.phaseSec += this.dt;
    if (this.phase === 'stand') {
      if (this.qLen > 0) {
        this.beginTransfer(o.firstTransferSec);
      } else if (norm2(this.dcm[0]! - this.dcmRef[0]!, this.dcm[1]! - this.dcmRef[1]!) < 0.02) {
        // Quiet standing, both feet down and flat: track where the estimate says they are, slowly, so that
        // an estimate that settles (a noisy first IMU sample) or drifts does not leave the support polygon
        // somewhere the feet are not. (Not while pushed: a tipping foot's sole centre moves.)
        for (let i = 0; i < 2; i++) {
          const side = i as Side;
          this.measuredSole(state, side, this.v1);
          const f = this.footPos[side];
          for (let k = 0; k < 3; k++) f[k] = f[k]! + 0.02 * (this.v1[k]! - f[k]!);
          this.footYaw[side] =
            this.footYaw[side]! + 0.02 * wrapAngle(this.measuredFootYaw(state, side) - this.footYaw[side]!);
        }
      }
      return;
    }
    if (this.phase === 'transfer') {
      // Lift off once the transfer time is over and the foot is unloaded enough to lift (a foot that still
      // carries the body cannot swing: the IK would lift the body off the other foot instead), or at the
      // latest `maxLateSec` later.
      if (this.phaseSec >= this.currentTransferSec) {
        const sw = this.swingSide;
        const load = state.tactile.get(sw === 0 ? 'left_sole' : 'right_sole')?.forceN ?? 0;
        const light = load < o.liftLoadFraction * this.model.mass.totalKg * o.gravity;
        if (light || this.phaseSec >= this.currentTransferSec + o.maxLateSec) this.beginSwing(state);
      }
      return;
    }
    // Swing: land once the foot carries load late in the swing. A foot still in the air at the nominal
    // end keeps reaching down for up to `maxLateSec` more, then counts as landed where it was sent.
    const sw = this.swingSide;
    const load = state.tactile.get(sw === 0 ? 'left_sole' : 'right_sole')?.forceN ?? 0;
    const touched = load > 0.2 * this.model.mass.totalKg * o.gravity;
    if (this.phaseSec >= 0.8 * o.swingSec && touched) this.land(state, true);
    else if (this.phaseSec >= o.swingSec + o.maxLateSec) this.land(state, false);
  }

  private beginTransfer(defaultSec: number): void {
    const k = this.qHead;
    const sec = Number.isNaN(this.qTransfer[k]!) ? defaultSec : this.qTransfer[k]!;
    this.swingSide = this.qSide[k] as Side;
    this.swingNominal[0] = this.qX[k]!;
    this.swingNominal[1] = this.qY[k]!;
    this.phase = 'transfer';
    this.phaseSec = 0;
    this.currentTransferSec = sec;
    this.transferFrom[0] = this.zmpRef[0]!;
    this.transferFrom[1] = this.zmpRef[1]!;
  }

  private beginSwing(state: WorldState): void {
    const sw = this.swingSide;
    this.measuredSole(state, sw, this.liftPos);
    this.liftYaw = this.measuredFootYaw(state, sw);
    // The landing target (possibly retargeted during the transfer) and yaw come from the queue head.
    const k = this.qHead;
    this.footYaw[sw] = this.qYaw[k]!;
    this.adjust.fill(0);
    const st = 1 - sw;
    this.footPos[sw][0] = this.swingNominal[0]!;
    this.footPos[sw][1] = this.swingNominal[1]!;
    this.footPos[sw][2] = this.footPos[st]![2]!;
    this.qHead = (this.qHead + 1) % QUEUE;
    this.qLen--;
    this.phase = 'swing';
    this.phaseSec = 0;
  }

  private land(state: WorldState, touched: boolean): void {
    const sw = this.swingSide;
    const tx = this.footPos[sw][0]!;
    const ty = this.footPos[sw][1]!;
    // A foot that touched down is where the kinematics say; one that did not is still on its way.
    if (touched) this.measuredSole(state, sw, this.footPos[sw]);
    this.landingError[0] = this.footPos[sw][0]! - tx;
    this.landingError[1] = this.footPos[sw][1]! - ty;
    // The plan ahead moves with where the foot really landed (step adjustment, a short or long step):
    // footsteps are meant relative to each other, and a reference that drags the body back to the old
    // plan would fight the adjustment that just saved it.
    const dx = this.footPos[sw][0]! - this.swingNominal[0]!;
    const dy = this.footPos[sw][1]! - this.swingNominal[1]!;
    for (let i = 0; i < this.qLen; i++) {
      const k = (this.qHead + i) % QUEUE;
      this.qX[k] = this.qX[k]! + dx;
      this.qY[k] = this.qY[k]! + dy;
    }
    this.steps++;
    if (this.qLen > 0) {
      this.beginTransfer(this.o.transferSec);
    } else {
      this.phase = 'stand';
      this.phaseSec = 0;
    }
  }

  // ---- references ----

  /** Appends one ZMP segment (duration, linear from p0 to p1). */
  private seg(t: number, x0: number, y0: number, x1: number, y1: number): void {
    const n = this.segCount++;
    this.segT[n] = t;
    this.segP0[2 * n] = x0;
    this.segP0[2 * n + 1] = y0;
    this.segP1[2 * n] = x1;
    this.segP1[2 * n + 1] = y1;
  }

  /** Fills the ZMP segments from now to rest and computes zmpRef and dcmRef at the current time. */
  private reference(): void {
    const o = this.o;
    this.segCount = 0;
    // Feet as planned: stance feet where they are, the swing foot where it will land (nominally).
    let lx = this.footPos[0][0]!;
    let ly = this.footPos[0][1]!;
    let rx = this.footPos[1][0]!;
    let ry = this.footPos[1][1]!;
    let elapsed = 0;
    let px = 0.5 * (lx + rx);
    let py = 0.5 * (ly + ry);
    let firstQueued = 0;
    if (this.phase !== 'stand') {
      const sw = this.swingSide;
      const st = (1 - sw) as Side;
      const sx = this.footPos[st][0]!;
      const sy = this.footPos[st][1]!;
      if (this.phase === 'transfer') {
        this.seg(this.currentTransferSec, this.transferFrom[0]!, this.transferFrom[1]!, sx, sy);
        firstQueued = 1; // the queue head is the step this transfer prepares
      }
      this.seg(o.swingSec, sx, sy, sx, sy);
      elapsed = this.phaseSec;
      px = sx;
      py = sy;
      if (sw === 0) {
        lx = this.swingNominal[0]!;
        ly = this.swingNominal[1]!;
      } else {
        rx = this.swingNominal[0]!;
        ry = this.swingNominal[1]!;
      }
    }
    // Queued steps: for each, transfer to its stance foot, then swing.
    for (let i = firstQueued; i < this.qLen; i++) {
      const k = (this.qHead + i) % QUEUE;
      const side = this.qSide[k]!;
      const sx = side === 0 ? rx : lx;
      const sy = side === 0 ? ry : ly;
      this.seg(o.transferSec, px, py, sx, sy);
      this.seg(o.swingSec, sx, sy, sx, sy);
      px = sx;
      py = sy;
      if (side === 0) {
        lx = this.qX[k]!;
        ly = this.qY[k]!;
      } else {
        rx = this.qX[k]!;
        ry = this.qY[k]!;
      }
    }
    const mx = 0.5 * (lx + rx);
    const my = 0.5 * (ly + ry);
    const n0 = this.segCount;
    if (n0 === 0) {
      this.zmpRef[0] = mx;
      this.zmpRef[1] = my;
      this.dcmRef[0] = mx;
      this.dcmRef[1] = my;
      return;
    }
    // Come to rest between the feet.
    this.seg(o.transferSec * 2, px, py, mx, my);
    const n = this.segCount;
    // Backward from rest: xi(end) = final ZMP; on a linear segment xi(t) = p(t) + p'/w + C e^{w t}.
    const w = this.omega;
    let xiX = mx;
    let xiY = my;
    for (let i = n - 1; i >= 1; i--) {
      const T = this.segT[i]!;
      const vx = (this.segP1[2 * i]! - this.segP0[2 * i]!) / T;
      const vy = (this.segP1[2 * i + 1]! - this.segP0[2 * i + 1]!) / T;
      const e = Math.exp(-w * T);
      xiX = this.segP0[2 * i]! + vx / w + (xiX - this.segP1[2 * i]! - vx / w) * e;
      xiY = this.segP0[2 * i + 1]! + vy / w + (xiY - this.segP1[2 * i + 1]! - vy / w) * e;
    }
    const T = this.segT[0]!;
    const tau = Math.min(elapsed, T);
    const vx = (this.segP1[0]! - this.segP0[0]!) / T;
    const vy = (this.segP1[1]! - this.segP0[1]!) / T;
    const e = Math.exp(w * (tau - T));
    this.zmpRef[0] = this.segP0[0]! + vx * tau;
    this.zmpRef[1] = this.segP0[1]! + vy * tau;
    this.dcmRef[0] = this.zmpRef[0]! + vx / w + (xiX - this.segP1[0]! - vx / w) * e;
    this.dcmRef[1] = this.zmpRef[1]! + vy / w + (xiY - this.segP1[1]! - vy / w) * e;
  }

  // ---- control ----

  private control(state: WorldState): void {
    const o = this.o;
    const w = this.omega;
    const K = 1 + o.dcmGain / w;
    const ex = this.dcm[0]! - this.dcmRef[0]!;
    const ey = this.dcm[1]! - this.dcmRef[1]!;
    let px = this.zmpRef[0]! + K * ex;
    let py = this.zmpRef[1]! + K * ey;
    const n = this.supportHull(o.zmpMarginM);
    if (!insideHull(this.hullX, this.hullY, n, px, py)) {
      projectOnHull(this.hullX, this.hullY, n, px, py, this.v1);
      px = this.v1[0]!;
      py = this.v1[1]!;
    }
    this.zmpDes[0] = px;
    this.zmpDes[1] = py;
    // Commanded CoM: the legs are stiff position servos, so the pelvis is pulled toward its command by a
    // spring and the ground answers with a ZMP shift proportional to the stretch. Offsetting the command
    // from the measured CoM by gamma (c - p_d) asks for the ZMP p_d (gamma ~ m omega^2 / leg stiffness);
    // the offset `zmpInt` integrates the error to the ZMP the sole sensors measure, which removes what
    // the spring model gets wrong (CoM admittance control, Caron et al., ICRA 2019).
    const dt = this.dt;
    const gamma = o.zmpGain;
    const measured = this.measureZmp(state);
    for (let k = 0; k < 2; k++) {
      const p = k === 0 ? px : py;
      if (measured && dt > 0) {
        const err = p - this.zmpMeas[k]!;
        const lim = o.zmpIntegralLimitM;
        this.zmpInt[k] = Math.max(-lim, Math.min(lim, this.zmpInt[k]! - o.zmpIntegralGain * err * dt));
      }
      const target = this.com[k]! + gamma * (this.com[k]! - p) + this.zmpInt[k]!;
      this.comCmd[k] = target;
    }
    // Step adjustment: carry the DCM error into the landing point (frozen for the last 20% of the swing).
    if (this.phase === 'swing') {
      if (o.stepAdjustGain > 0 && this.phaseSec < 0.8 * o.swingSec) {
        const grow = Math.exp(w * Math.max(0, o.swingSec - this.phaseSec));
        let dx = o.stepAdjustGain * grow * ex;
        let dy = o.stepAdjustGain * grow * ey;
        const len = norm2(dx, dy);
        if (len > o.maxStepAdjustM) {
          dx *= o.maxStepAdjustM / len;
          dy *= o.maxStepAdjustM / len;
        }
        this.adjust[0] = dx;
        this.adjust[1] = dy;
      }
      const sw = this.swingSide;
      this.footPos[sw][0] = this.swingNominal[0]! + this.adjust[0]!;
      this.footPos[sw][1] = this.swingNominal[1]! + this.adjust[1]!;
      this.keepFeetApart(sw);
    }
    // Tilt integral (anti-windup by clamping).
    if (o.tiltIntegralGain > 0) {
      for (let k = 0; k < 2; k++) {
        this.tiltInt[k] = Math.max(-0.15, Math.min(0.15, this.tiltInt[k]! + this.tilt[k]! * dt));
      }
    }
  }

  /**
   * Keeps the swing foot's landing point at least `minWidthM` to its own side of the stance foot (in the
   * stance foot's frame): an adjusted step must not cross or clip the other leg.
   */
  private keepFeetApart(sw: Side): void {
    const st = (1 - sw) as Side;
    const c = Math.cos(this.footYaw[st]!);
    const sn = Math.sin(this.footYaw[st]!);
    const dx = this.footPos[sw][0]! - this.footPos[st][0]!;
    const dy = this.footPos[sw][1]! - this.footPos[st][1]!;
    let u = c * dx + sn * dy;
    let v = -sn * dx + c * dy;
    const sgn = sw === 0 ? 1 : -1;
    // Within reach: at most `maxReachM` ahead/behind, and at most that far out to the side.
    const r = this.o.maxReachM;
    u = Math.max(-r, Math.min(r, u));
    v = sgn * Math.max(this.o.minWidthM, Math.min(r, sgn * v));
    const len = norm2(u, v);
    if (len > r) {
      u *= r / len;
      v *= r / len;
      if (sgn * v < this.o.minWidthM) v = sgn * this.o.minWidthM;
    }
    this.footPos[sw][0] = this.footPos[st][0]! + c * u - sn * v;
    this.footPos[sw][1] = this.footPos[st][1]! + sn * u + c * v;
  }

  /** Overall ZMP from the sole sensors (load-weighted centres of pressure) into zmpMeas; false if unloaded. */
  private measureZmp(state: WorldState): boolean {
    const g = this.model.geometry;
    let fSum = 0;
    let x = 0;
    let y = 0;
    for (let i = 0; i < 2; i++) {
      const f = state.tactile.get(i === 0 ? 'left_sole' : 'right_sole');
      if (!f?.contact) continue;
      const u = (f.centroid[0]! - 0.5) * 2 * g.soleHalfLengthM;
      const v = (f.centroid[1]! - 0.5) * 2 * g.soleHalfWidthM;
      const c = Math.cos(this.footYaw[i]!);
      const sn = Math.sin(this.footYaw[i]!);
      const fp = this.footPos[i as Side];
      x += f.forceN * (fp[0]! + c * u - sn * v);
      y += f.forceN * (fp[1]! + sn * u + c * v);
      fSum += f.forceN;
    }
    if (fSum <= 0) return false;
    this.zmpMeas[0] = x / fSum;
    this.zmpMeas[1] = y / fSum;
    return true;
  }

  /** Support polygon (convex hull of the stance soles, shrunk by `margin`) into hullX/hullY; its size. */
  private supportHull(margin: number): number {
    const g = this.model.geometry;
    const hl = g.soleHalfLengthM - margin;
    const hw = g.soleHalfWidthM - margin;
    let n = 0;
    for (let side = 0; side < 2; side++) {
      if (this.phase === 'swing' && side === this.swingSide) continue;
      const c = Math.cos(this.footYaw[side]!);
      const s = Math.sin(this.footYaw[side]!);
      const fx = this.footPos[side as Side][0]!;
      const fy = this.footPos[side as Side][1]!;
      for (let k = 0; k < 4; k++) {
        const u = CORNER_U[k]! * hl;
        const v = CORNER_V[k]! * hw;
        this.ptsX[n] = fx + c * u - s * v;
        this.ptsY[n] = fy + s * u + c * v;
        n++;
      }
    }
    return convexHull(this.ptsX, this.ptsY, n, this.hullX, this.hullY);
  }

  // ---- joint targets ----

  private writeCommand(command: Float64Array): void {
    const o = this.o;
    const m = this.model;
    command.set(m.home);
    // Pelvis orientation: upright at the feet's heading, tilt corrected.
    const yaw =
      this.phase === 'swing' ? meanAngle(this.footYaw[1 - this.swingSide]!, this.swingYaw()) : this.heading;
    rotZ(yaw, this.rHead);
    rotX(-(o.tiltGain * this.tilt[0]! + o.tiltIntegralGain * this.tiltInt[0]!), this.m1);
    rotY(-(o.tiltGain * this.tilt[1]! + o.tiltIntegralGain * this.tiltInt[1]!), this.m2);
    mulMat(this.m1, this.m2, this.relRot);
    mulMat(this.rHead, this.relRot, this.rCmd);
    // Pelvis position: the commanded CoM minus the CoM offset; height above the stance soles.
    mulVec(this.rCmd, this.comRel, this.v1);
    let zSole = 0;
    let nSt = 0;
    for (let side = 0; side < 2; side++) {
      if (this.phase === 'swing' && side === this.swingSide) continue;
      zSole += this.footPos[side as Side][2]!;
      nSt++;
    }
    this.pelvisCmd[0] = this.comCmd[0]! - this.v1[0]!;
    this.pelvisCmd[1] = this.comCmd[1]! - this.v1[1]!;
    // Height: `pelvisHeightM` above the stance soles, lowered as far as a long step needs for both legs
    // to reach their soles (a stretched leg's IK target beyond reach would lift the sole instead).
    let zTarget = zSole / nSt + o.pelvisHeightM;
    for (let side = 0; side < 2; side++) {
      zTarget = Math.min(
        zTarget,
        this.reachLimitZ(side as Side, this.footPos[side as Side], this.footYaw[side]!),
      );
    }
    // Height changes are ramped: up at 0.2 m/s, down at 0.6 m/s.
    const dz = zTarget - this.pelvisZ;
    this.pelvisZ += Math.max(-0.6 * this.dt, Math.min(0.2 * this.dt, dz));
    this.pelvisCmd[2] = this.pelvisZ;

    for (let i = 0; i < 2; i++) {
      const side = i as Side;
      const swinging = this.phase === 'swing' && side === this.swingSide;
      if (!swinging) {
        // Stance: the sole stays put, flat, relative to the commanded pelvis.
        this.solveLeg(side, this.rCmd, this.pelvisCmd, this.footPos[side], this.footYaw[side]!, command);
      } else {
        this.swingTarget(side);
        // Position in the commanded pelvis frame (no feedback through the pelvis), orientation against
        // the measured one: the sole stays level whatever the torso does, so no toe or heel scuffs.
        this.solveLeg(side, this.rCmd, this.pelvisCmd, this.soleTarget, this.swingYaw(), command, this.rMeas);
      }
    }
    if (o.loadFeedforward > 0 && m.servoKp) this.feedForwardLoad(command);
  }

  /**
   * Adds to each stance leg's targets the servo offset that carries its share of the body: the ground
   * force m (omega^2 (c - p_d), g), split between the feet by where p_d lies between them, mapped to
   * joint torques (tau = -J^T f) and to target offsets (tau / kp). Without it the stance knee of a
   * position-servoed leg sags by a tenth of a radian under the body's weight.
   */
  private feedForwardLoad(command: Float64Array): void {
    const m = this.model;
    const kp = m.servoKp!;
    const w2 = this.omega * this.omega;
    const mass = m.mass.totalKg;
    let shareL = 0;
    if (this.phase === 'swing') {
      shareL = this.swingSide === 0 ? 0 : 1;
    } else {
      const lx = this.footPos[0][0]!;
      const ly = this.footPos[0][1]!;
      const dx = lx - this.footPos[1][0]!;
      const dy = ly - this.footPos[1][1]!;
      const l2 = dx * dx + dy * dy;
      const u =
        l2 > 0
          ? ((this.zmpDes[0]! - this.footPos[1][0]!) * dx + (this.zmpDes[1]! - this.footPos[1][1]!) * dy) / l2
          : 0.5;
      shareL = Math.max(0, Math.min(1, u));
    }
    for (let i = 0; i < 2; i++) {
      const share = i === 0 ? shareL : 1 - shareL;
      if (share <= 0) continue;
      this.v2[0] = share * mass * w2 * (this.com[0]! - this.zmpDes[0]!);
      this.v2[1] = share * mass * w2 * (this.com[1]! - this.zmpDes[1]!);
      this.v2[2] = share * mass * this.o.gravity;
      mulTVec(this.rCmd, this.v2, this.v1);
      m.stanceTorque(i as Side, command, this.v1, this.tauFf);
      const first = m.channels.leg[i as Side];
      for (let j = first; j < first + 6; j++)
        command[j] = command[j]! + (this.o.loadFeedforward * this.tauFf[j]!) / kp[j]!;
    }
  }

  private swingYaw(): number {
    const phi = Math.min(1, this.phaseSec / this.o.swingSec);
    const s = smooth(phi);
    const target = this.footYaw[this.swingSide]!;
    return this.liftYaw + wrapAngle(target - this.liftYaw) * s;
  }

  /**
   * Swing sole position now. Vertically a trapezoid: up to `swingHeightM` in the first 30% of the swing,
   * down in the last 30%. Horizontally a smoothstep from 15% to 75%, aimed `swingLeadSec` ahead because
   * the servos lag a moving target; so the foot is over its landing point before it comes down.
   */
  private swingTarget(side: Side): void {
    const o = this.o;
    const T = o.swingSec;
    const phi = this.phaseSec / T;
    const lead = Math.min(1, (this.phaseSec + o.swingLeadSec) / T);
    const s = smooth(clamp01((lead - 0.15) / 0.6));
    const goal = this.footPos[side];
    for (let k = 0; k < 2; k++) this.soleTarget[k] = this.liftPos[k]! + (goal[k]! - this.liftPos[k]!) * s;
    const ground = this.liftPos[2]! + (goal[2]! - this.liftPos[2]!) * s;
    // Past the nominal end the foot keeps reaching 1 cm below the ground until it lands.
    const up = phi < 0.5 ? smooth(clamp01(phi / 0.3)) : smooth(clamp01((1 - phi) / 0.3));
    this.soleTarget[2] = phi < 1 ? ground + o.swingHeightM * up : ground - 0.01;
  }

  /**
   * Highest pelvis the leg of `side` allows with its sole at `sole` (world) and yaw `yaw`: the hip (from
   * the commanded pelvis x/y) at most 97% of the leg's length from the ankle.
   */
  private reachLimitZ(side: Side, sole: Float64Array, yaw: number): number {
    const g = this.model.geometry;
    const hip = g.hip[side];
    mulVec(this.rCmd, hip, this.v2);
    const hx = this.pelvisCmd[0]! + this.v2[0]!;
    const hy = this.pelvisCmd[1]! + this.v2[1]!;
    const c = Math.cos(yaw);
    const s = Math.sin(yaw);
    const ax = sole[0]! - (c * g.sole[0]! - s * g.sole[1]!);
    const ay = sole[1]! - (s * g.sole[0]! + c * g.sole[1]!);
    const az = sole[2]! - g.sole[2]!;
    const L = 0.97 * (g.thighM + g.shankM);
    const d2 = (hx - ax) * (hx - ax) + (hy - ay) * (hy - ay);
    const v = Math.sqrt(Math.max(0.25 * L * L, L * L - d2));
    return az + v - this.v2[2]!;
  }

  /** IK for one sole at a world pose given a pelvis pose. */
  private solveLeg(
    side: Side,
    pelvisRot: Float64Array,
    pelvisPos: ArrayLike<number>,
    sole: ArrayLike<number>,
    soleYaw: number,
    command: Float64Array,
    footFrameRot: Float64Array = pelvisRot,
  ): void {
    for (let k = 0; k < 3; k++) this.v2[k] = sole[k]! - pelvisPos[k]!;
    mulTVec(pelvisRot, this.v2, this.v1);
    rotZ(soleYaw, this.m1);
    mulTMat(footFrameRot, this.m1, this.footRot);
    this.model.legIk(side, this.v1, this.footRot, command);
  }
}

const CORNER_U = Float64Array.of(1, -1, -1, 1);
const CORNER_V = Float64Array.of(1, 1, -1, -1);

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function smooth(x: number): number {
  return x * x * (3 - 2 * x);
}

export function wrapAngle(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}

function meanAngle(a: number, b: number): number {
  return a + 0.5 * wrapAngle(b - a);
}

/** Convex hull (counter-clockwise, monotone chain over at most 8 points) into hx/hy; returns its size. */
function convexHull(
  xs: Float64Array,
  ys: Float64Array,
  n: number,
  hx: Float64Array,
  hy: Float64Array,
): number {
  // Insertion sort by x then y (n <= 8).
  for (let i = 1; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    let j = i - 1;
    while (j >= 0 && (xs[j]! > x || (xs[j] === x && ys[j]! > y))) {
      xs[j + 1] = xs[j]!;
      ys[j + 1] = ys[j]!;
      j--;
    }
    xs[j + 1] = x;
    ys[j + 1] = y;
  }
  let k = 0;
  for (let i = 0; i < n; i++) {
    while (k >= 2 && cross(hx[k - 2]!, hy[k - 2]!, hx[k - 1]!, hy[k - 1]!, xs[i]!, ys[i]!) <= 0) k--;
    hx[k] = xs[i]!;
    hy[k] = ys[i]!;
    k++;
  }
  const lower = k + 1;
  for (let i = n - 2; i >= 0; i--) {
    while (k >= lower && cross(hx[k - 2]!, hy[k - 2]!, hx[k - 1]!, hy[k - 1]!, xs[i]!, ys[i]!) <= 0) k--;
    hx[k] = xs[i]!;
    hy[k] = ys[i]!;
    k++;
  }
  return k - 1;
}

function cross(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

function insideHull(hx: Float64Array, hy: Float64Array, n: number, x: number, y: number): boolean {
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    if ((hx[j]! - hx[i]!) * (y - hy[i]!) - (hy[j]! - hy[i]!) * (x - hx[i]!) < 0) return false;
  }
  return true;
}

function projectOnHull(
  hx: Float64Array,
  hy: Float64Array,
  n: number,
  x: number,
  y: number,
  out: Float64Array,
): void {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const dx = hx[j]! - hx[i]!;
    const dy = hy[j]! - hy[i]!;
    const l2 = dx * dx + dy * dy;
    const u = l2 > 0 ? Math.max(0, Math.min(1, ((x - hx[i]!) * dx + (y - hy[i]!) * dy) / l2)) : 0;
    const qx = hx[i]! + u * dx;
    const qy = hy[i]! + u * dy;
    const d = (qx - x) * (qx - x) + (qy - y) * (qy - y);
    if (d < best) {
      best = d;
      out[0] = qx;
      out[1] = qy;
    }
  }
}
