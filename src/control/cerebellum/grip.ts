/**
 * Grasping with tactile feedback: the gripper channel of an arm, driven from its two tactile pads.
 *
 *   opening  the command ramps to fully open;
 *   position the command goes to an opening a caller sets (`moveTo`: a learned policy's gripper action);
 *   closing  the command ramps shut at `closeSpeedMps` until both pads report contact; closing below
 *            `minWidthM` with no contact means nothing is between the fingers: empty;
 *   holding  grip-force regulation: the gripper is a position servo, so its squeeze is about
 *            kp x (opening - command). On contact the command goes to opening - target / kp
 *            (feed-forward), then an integral loop on the tactile force error trims it. The force is the
 *            weaker pad's (what friction can hold is set by the smaller normal force);
 *            slip -- a pad's contact patch moving faster than `slipRate` grid units per second, or the
 *            force falling below `forceDropFraction` of the target -- tightens the grip: the target rises
 *            by `tightenFactor` up to the gripper's maximum. Losing contact on both pads regrips: the
 *            fingers close again onto whatever is still between them (empty if nothing is).
 *
 * The command follows what the mode asks for within the gripper's speed and acceleration (ArmMotion's
 * RampFollower), arriving at rest: no steps for the spine to cut. Idle and empty brake the command to rest.
 * `step` allocates nothing; it moves the gripper command of the shared ArmMotion.
 */
import type { TactileFeatures, WorldState } from '../contracts.ts';
import type { ArmMotion } from './arm-motion.ts';

export type GripMode = 'idle' | 'opening' | 'position' | 'closing' | 'holding' | 'empty';

export interface GripOptions {
  /** Pad names in `WorldState.tactile` (default: the first two pads found). */
  pads?: readonly [string, string];
  /** Grip force to regulate to (N, default 4). */
  forceN?: number;
  closeSpeedMps?: number;
  /** Closed below this with no contact: nothing held (m, default 0.003). */
  minWidthM?: number;
  /** Contact on a pad above this force (N, default 0.3). */
  contactN?: number;
  /** Slip thresholds: centroid speed (grid units/s, default 1.5) and force drop (fraction, default 0.5). */
  slipRate?: number;
  forceDropFraction?: number;
  tightenFactor?: number;
  /** Integral gain of the force loop (m of command per N s, default 0.004). */
  forceGain?: number;
  /** After contact or a tighten, slip is not judged for this long (s, default 0.15): the grip settles. */
  settleSec?: number;
}

export class GripRegulator {
  mode: GripMode = 'idle';
  /** Force the regulator holds to now (N); raised by slips. */
  targetForceN: number;
  /** Measured grip force (N): the weaker pad's. */
  forceN = 0;
  /** Slip events and regrips since the last `close`. */
  slips = 0;
  regrips = 0;
  /** Seconds in the current mode. */
  modeSec = 0;
  private readonly motion: ArmMotion;
  private readonly o: Required<Omit<GripOptions, 'pads'>>;
  private padNames: readonly [string, string] | null;
  private left: TactileFeatures | null = null;
  private right: TactileFeatures | null = null;
  private settleLeft = 0;
  /** What the mode asks the gripper for (NaN: stop where it is); the command follows it. */
  private desired = Number.NaN;
  /** Speed the command follows `desired` at (m/s). */
  private speed = 0;

  constructor(motion: ArmMotion, opts: GripOptions = {}) {
    this.motion = motion;
    this.o = {
      forceN: opts.forceN ?? 4,
      closeSpeedMps: opts.closeSpeedMps ?? 0.05,
      minWidthM: opts.minWidthM ?? 0.003,
      contactN: opts.contactN ?? 0.3,
      slipRate: opts.slipRate ?? 1.5,
      forceDropFraction: opts.forceDropFraction ?? 0.5,
      tightenFactor: opts.tightenFactor ?? 1.5,
      forceGain: opts.forceGain ?? 0.004,
      settleSec: opts.settleSec ?? 0.15,
    };
    this.padNames = opts.pads ?? null;
    this.targetForceN = this.o.forceN;
  }

  /** Both pads in contact and regulating. */
  get holding(): boolean {
    return this.mode === 'holding';
  }

  /** Whether the state has the two pads this regulator needs (resolved on first use). */
  hasPads(state: WorldState): boolean {
    if (this.left !== null) return true;
    let names = this.padNames;
    if (names === null) {
      const keys = [...state.tactile.keys()];
      if (keys.length < 2) return false;
      names = [keys[0]!, keys[1]!];
    }
    const l = state.tactile.get(names[0]);
    const r = state.tactile.get(names[1]);
    if (!l || !r) return false;
    this.padNames = names;
    this.left = l;
    this.right = r;
    return true;
  }

  open(): void {
    this.setMode('opening');
  }

  /** Starts closing toward a grasp regulated at `forceN` (default: the configured force). */
  close(forceN = this.o.forceN): void {
    this.targetForceN = Math.min(forceN, this.motion.profile.gripper.maxForceN);
    this.slips = 0;
    this.regrips = 0;
    this.setMode('closing');
  }

  /** Moves the command to `openingM` (m) without regulating force; call every tick with the new target. */
  moveTo(openingM: number): void {
    if (this.mode !== 'position') this.setMode('position');
    this.desired = openingM;
  }

  /** Keeps the command where it is (no regulation). */
  idle(): void {
    this.setMode('idle');
  }

  /** True once the measured opening is within 3 mm of fully open. */
  isOpen(state: WorldState): boolean {
    const g = this.motion.profile.gripper;
    return state.q[g.channel]! >= g.openM - 0.003;
  }

  /** One tick: updates the mode from the pads and moves the motion's gripper command. */
  step(state: WorldState): void {
    this.speed = this.motion.profile.gripper.speedMps;
    this.update(state);
    // (moveGripper / haltGripper, through the follower's fields: no double is passed or returned.)
    const f = this.motion.gripper;
    if (Number.isNaN(this.desired)) f.brake();
    else {
      f.target = this.desired;
      f.speed = this.speed;
      f.step();
    }
  }

  private update(state: WorldState): void {
    const m = this.motion;
    const g = m.profile.gripper;
    const dt = m.dtSec;
    this.modeSec += dt;
    const opening = state.q[g.channel]!;
    const l = this.left;
    const r = this.right;
    const lc = l?.contact === true && l.forceN > this.o.contactN;
    const rc = r?.contact === true && r.forceN > this.o.contactN;
    this.forceN = l !== null && r !== null ? Math.min(l.forceN, r.forceN) : 0;
    switch (this.mode) {
      case 'idle':
      case 'empty':
        this.desired = Number.NaN;
        return;
      case 'opening':
        this.desired = g.openM;
        return;
      case 'position':
        return;
      case 'closing': {
        if (lc && rc) {
          // Feed-forward to the target squeeze, then regulate.
          this.desired = Math.max(g.closedM, opening - this.targetForceN / g.servoKpNPerM);
          this.settleLeft = this.o.settleSec;
          this.setMode('holding');
          return;
        }
        if (opening < this.o.minWidthM && m.gripCmd <= g.closedM) {
          this.setMode('empty');
          return;
        }
        // Shut, at the closing speed: contact (or nothing there) ends it first.
        this.desired = g.closedM;
        this.speed = this.o.closeSpeedMps;
        return;
      }
      case 'holding': {
        if (!lc && !rc) {
          // Contact lost on both pads: close again onto whatever is left between the fingers.
          this.regrips++;
          this.setMode('closing');
          return;
        }
        this.settleLeft -= dt;
        if (this.settleLeft <= 0) {
          const slipRate = Math.max(l!.slipRate, r!.slipRate);
          const dropped = this.forceN < this.o.forceDropFraction * this.targetForceN;
          if (slipRate > this.o.slipRate || dropped) {
            this.slips++;
            this.targetForceN = Math.min(g.maxForceN, this.targetForceN * this.o.tightenFactor);
            // Straight to the new squeeze: slip is lost grip, the integral loop is too slow for it.
            this.desired = Math.max(g.closedM, opening - this.targetForceN / g.servoKpNPerM);
            this.settleLeft = this.o.settleSec;
            return;
          }
        }
        // Integral force loop; the command stays within the squeeze range the servo can produce.
        const err = this.targetForceN - this.forceN;
        let c = this.desired - this.o.forceGain * err * dt;
        c = Math.min(opening, Math.max(opening - g.maxForceN / g.servoKpNPerM, c));
        this.desired = Math.max(g.closedM, c);
        return;
      }
    }
  }

  private setMode(mode: GripMode): void {
    this.mode = mode;
    this.modeSec = 0;
  }
}
