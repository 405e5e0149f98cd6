/**
 * `stand` (src/control/vocabulary.ts): standing balance with push recovery for the humanoid.
 *
 * Three strategies, in the order a push calls on them (the classic ankle / hip / stepping hierarchy):
 * - ankle: the walker's DCM feedback moves the desired ZMP inside the feet, and the commanded CoM follows
 *   the pendulum about it: small pushes are absorbed in place;
 * - torso: the IMU tilt correction keeps the pelvis upright over the legs (the hip strategy's job in a
 *   robot whose hips are stiff position servos);
 * - stepping: when the measured DCM (capture point) comes within `stepTriggerM` of the support polygon's
 *   edge, no ZMP inside the feet will stop the body in time. The skill then takes a capture step with the
 *   foot that is unloaded (the push already tipped the robot onto the other), else the foot on the side
 *   the body falls to, else (forward/backward) the foot farther from the capture point. It lands where the
 *   capture point will be, xi_T = p + (xi - p) e^{omega T}, p the stance sole's point nearest the DCM
 *   (Pratt et al., "Capture point: a step toward humanoid push recovery", 2006), within reach and without
 *   crossing the legs. `followSteps` in-place steps follow; the walker moves every landing point with the
 *   DCM error as it goes, so the push is walked out and the DCM comes to rest between the feet.
 *
 * Success: `seconds` of standing have passed and the robot stands still (no step in progress).
 * Failure: the torso tilts past `maxTiltRad` or the CoM sinks below `minComHeightM` above the feet (a
 * fall), with the measured values in `failure`.
 */
import type { SkillStatus, WorldState } from '../contracts.ts';
import type { HumanoidModel, Side } from '../humanoid-model.ts';
import { norm2 } from '../rotation.ts';
import { type Footstep, Walker, type WalkerOptions } from './locomotion-walker.ts';
import { type FallLimits, WalkerSkill } from './walker-skill.ts';

export interface StandGoal {
  /** How long to stand (s). */
  seconds: number;
}

export interface BalanceOptions extends WalkerOptions, FallLimits {
  /**
   * How far outside the support polygon the DCM may go before a capture step (m, default -0.03: a step
   * starts while the DCM is still 3 cm inside, because lifting a foot takes time the DCM does not give).
   */
  stepTriggerM?: number;
  /** Weight transfer before a capture step (s, default 0.06) and its swing time (s, default 0.4). */
  captureTransferSec?: number;
  captureSwingSec?: number;
  /** Longest capture step from the stance foot (m, default 0.4) and the narrowest stance (m, 0.16). */
  maxStepM?: number;
  minWidthM?: number;
  /** In-place steps queued after a capture step, to walk the rest of a push out (default 2). */
  followSteps?: number;
}

export class BalanceSkill extends WalkerSkill<StandGoal> {
  readonly name = 'stand';
  /** Capture steps taken since `start`. */
  captureSteps = 0;
  private readonly trigger: number;
  private readonly captureTransferSec: number;
  private readonly maxStep: number;
  private readonly minWidth: number;
  private endSec = 0;
  private readonly step1: Footstep = { side: 0, x: 0, y: 0, yaw: 0, transferSec: 0 };
  private readonly step2: Footstep = { side: 0, x: 0, y: 0, yaw: 0 };
  private readonly followSteps: number;
  private readonly loads = new Float64Array(2);

  constructor(model: HumanoidModel, opts: BalanceOptions = {}) {
    super(new Walker(model, { swingSec: opts.captureSwingSec ?? 0.4, swingHeightM: 0.08, ...opts }), opts);
    this.trigger = opts.stepTriggerM ?? -0.03;
    this.captureTransferSec = opts.captureTransferSec ?? 0.06;
    this.maxStep = opts.maxStepM ?? 0.4;
    this.minWidth = opts.minWidthM ?? 0.16;
    this.followSteps = opts.followSteps ?? 2;
  }

  start(goal: StandGoal, state: WorldState): void {
    this.walker.reset(state);
    this.endSec = state.tSec + goal.seconds;
    this.failure = null;
    this.captureSteps = 0;
  }

  protected next(state: WorldState): SkillStatus {
    const w = this.walker;
    this.loads[0] = state.tactile.get('left_sole')?.forceN ?? 0;
    this.loads[1] = state.tactile.get('right_sole')?.forceN ?? 0;
    if (w.phase === 'stand' && w.queued === 0 && !w.supportContains(w.dcm[0]!, w.dcm[1]!, -this.trigger)) {
      this.planCaptureStep();
      // Then walk it out: in-place steps whose landing points the walker moves with the DCM error.
      for (let k = 0; k < this.followSteps; k++) this.queueInPlace();
    }
    if (state.tSec >= this.endSec && w.phase === 'stand' && w.queued === 0) return 'succeeded';
    return 'running';
  }

  /** Queues a step that puts the next foot back where it stands now (relative to the other foot). */
  private queueInPlace(): void {
    const w = this.walker;
    const last = this.step1;
    const side = (1 - last.side) as Side;
    // Where the previous queued step left the other foot: keep this foot at its stance offset from it.
    const st = this.step2;
    st.side = side;
    const ox = last.x;
    const oy = last.y;
    const yaw = w.footYaw[side]!;
    const sgn = side === 0 ? 1 : -1;
    const width = Math.max(this.minWidth, w.model.geometry.hip[0][1]! - w.model.geometry.hip[1][1]!);
    st.x = ox - Math.sin(yaw) * sgn * width;
    st.y = oy + Math.cos(yaw) * sgn * width;
    st.yaw = yaw;
    st.transferSec = undefined;
    w.push(st);
    last.side = side;
    last.x = st.x;
    last.y = st.y;
  }

  /** Queues one capture step toward where the capture point will be at touchdown. */
  private planCaptureStep(): void {
    const w = this.walker;
    const xi0 = w.dcm[0]!;
    const xi1 = w.dcm[1]!;
    const mx = 0.5 * (w.footPos[0][0]! + w.footPos[1][0]!);
    const my = 0.5 * (w.footPos[0][1]! + w.footPos[1][1]!);
    const h = w.heading;
    const c = Math.cos(h);
    const s = Math.sin(h);
    const fwd = c * (xi0 - mx) + s * (xi1 - my);
    const lat = -s * (xi0 - mx) + c * (xi1 - my);
    let swing: Side;
    const weight = w.model.mass.totalKg * w.o.gravity;
    const loadL = this.loads[0]!;
    const loadR = this.loads[1]!;
    if (loadL < 0.15 * weight || loadR < 0.15 * weight) {
      // The push already tipped the robot onto one foot: the free foot steps first (toward the other,
      // as far as the stance allows), the loaded one follows outward.
      swing = loadL < loadR ? 0 : 1;
    } else if (Math.abs(lat) > 0.5 * Math.abs(fwd)) {
      swing = lat > 0 ? 0 : 1;
    } else {
      const d0 = norm2(w.footPos[0][0]! - xi0, w.footPos[0][1]! - xi1);
      const d1 = norm2(w.footPos[1][0]! - xi0, w.footPos[1][1]! - xi1);
      swing = d0 > d1 ? 0 : 1;
    }
    const stance = w.footPos[1 - swing]!;
    const sy = w.footYaw[1 - swing]!;
    const T = this.captureTransferSec + w.o.swingSec;
    const grow = Math.exp(w.omega * T);
    // The stance foot holds the ZMP as close to the DCM as its sole allows (ankle strategy), so the DCM
    // runs away from that point, not from the foot's centre: xi_T = p + (xi - p) e^{omega T}.
    const g = w.model.geometry;
    const cs = Math.cos(sy);
    const ss = Math.sin(sy);
    const fu = cs * (xi0 - stance[0]!) + ss * (xi1 - stance[1]!);
    const fv = -ss * (xi0 - stance[0]!) + cs * (xi1 - stance[1]!);
    const hl = g.soleHalfLengthM - w.o.zmpMarginM;
    const hw = g.soleHalfWidthM - w.o.zmpMarginM;
    const pu = Math.max(-hl, Math.min(hl, fu));
    const pv = Math.max(-hw, Math.min(hw, fv));
    const px = stance[0]! + cs * pu - ss * pv;
    const py = stance[1]! + ss * pu + cs * pv;
    // Capture point at touchdown, relative to the stance foot, in the feet's heading frame.
    const dx = px - stance[0]! + (xi0 - px) * grow;
    const dy = py - stance[1]! + (xi1 - py) * grow;
    let u = c * dx + s * dy;
    let v = -s * dx + c * dy;
    // Keep the feet apart on the correct sides, and the step within reach.
    const side = swing === 0 ? 1 : -1;
    v = side * Math.max(this.minWidth, side * v);
    const len = norm2(u, v);
    if (len > this.maxStep) {
      u *= this.maxStep / len;
      v *= this.maxStep / len;
    }
    const st = this.step1;
    st.side = swing;
    st.x = stance[0]! + c * u - s * v;
    st.y = stance[1]! + s * u + c * v;
    st.yaw = w.footYaw[swing]!;
    st.transferSec = this.captureTransferSec;
    w.push(st);
    this.captureSteps++;
  }
}
