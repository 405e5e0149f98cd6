/**
 * The spinal cord: the last check between every command and the actuators, run on every physics tick.
 * It clamps each channel to its position limits, limits how far a channel may move per tick (a velocity
 * limit), and rejects a command containing NaN/Inf by holding the last safe command. It never allocates
 * and never throws on the hot path; each intervention is counted, never hidden.
 */
import type { Embodiment } from '../embodiment/index.ts';
import { TgError } from '../errors/index.ts';

/** Bits of `Spine.check`'s return value. */
export const SPINE_CLAMPED = 1;
export const SPINE_RATE_LIMITED = 2;
export const SPINE_REJECTED_NONFINITE = 4;

export interface SpineLimits {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  /** Per channel, units per second (rad/s for joints, m/s for the gripper opening). */
  maxVelocity: ArrayLike<number>;
  /** Period of the tick the spine runs at (s); the per-tick step is maxVelocity * tickSec. */
  tickSec: number;
}

export interface SpineStats {
  /** Calls to `check`. */
  ticks: number;
  /** Ticks on which the spine changed the command in any way. */
  interventions: number;
  /** Ticks on which at least one channel was clamped to its position limit. */
  clamped: number;
  /** Ticks on which at least one channel was slowed to the rate limit. */
  rateLimited: number;
  /** Ticks on which a non-finite command was replaced by the last safe one. */
  rejectedNonFinite: number;
}

/** Joint speeds of the class of arm (rad/s), then gripper opening speed (m/s). */
export const ARM7_MAX_VELOCITY = [2.5, 2.5, 2.5, 2.5, 3.0, 3.0, 3.0, 0.25];

export class Spine {
  readonly stats: SpineStats = {
    ticks: 0,
    interventions: 0,
    clamped: 0,
    rateLimited: 0,
    rejectedNonFinite: 0,
  };
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private readonly maxStep: Float64Array;
  private readonly last: Float64Array;
  private primed = false;

  constructor(limits: SpineLimits) {
    const n = limits.lower.length;
    if (limits.upper.length !== n || limits.maxVelocity.length !== n) {
      throw new TgError('CONFIG_INVALID', 'spine limits: lower, upper and maxVelocity differ in length');
    }
    if (!(limits.tickSec > 0)) throw new TgError('CONFIG_INVALID', 'spine tickSec must be > 0');
    this.lower = Float64Array.from(limits.lower);
    this.upper = Float64Array.from(limits.upper);
    this.maxStep = Float64Array.from(limits.maxVelocity, (v) => v * limits.tickSec);
    for (let i = 0; i < n; i++) {
      if (!(this.lower[i]! <= this.upper[i]!) || !(this.maxStep[i]! > 0)) {
        throw new TgError('CONFIG_INVALID', `spine limits for channel ${i} are not a valid range`);
      }
    }
    this.last = new Float64Array(n);
  }

  /** A spine with the embodiment's position limits. */
  static forEmbodiment(
    e: Embodiment,
    tickSec: number,
    maxVelocity: ArrayLike<number> = ARM7_MAX_VELOCITY,
  ): Spine {
    return new Spine({ lower: e.jointLimits.lower, upper: e.jointLimits.upper, maxVelocity, tickSec });
  }

  get size(): number {
    return this.last.length;
  }

  /** Sets the last safe command (normally the measured position) before the first `check`. */
  reset(current: ArrayLike<number>): void {
    for (let i = 0; i < this.last.length; i++) {
      const v = current[i]!;
      this.last[i] = Number.isFinite(v)
        ? Math.min(this.upper[i]!, Math.max(this.lower[i]!, v))
        : this.lower[i]!;
    }
    this.primed = true;
  }

  /** Writes the safe version of `command` into `out`; returns a bitmask of SPINE_* interventions (0 = none). */
  check(command: Float64Array, out: Float64Array): number {
    if (!this.primed) throw new Error('Spine.check before Spine.reset: the spine has no last safe command');
    const n = this.last.length;
    this.stats.ticks++;
    let mask = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(command[i]!)) {
        mask = SPINE_REJECTED_NONFINITE;
        break;
      }
    }
    if (mask !== 0) {
      out.set(this.last);
    } else {
      for (let i = 0; i < n; i++) {
        let v = command[i]!;
        if (v < this.lower[i]!) {
          v = this.lower[i]!;
          mask |= SPINE_CLAMPED;
        } else if (v > this.upper[i]!) {
          v = this.upper[i]!;
          mask |= SPINE_CLAMPED;
        }
        const prev = this.last[i]!;
        const step = this.maxStep[i]!;
        if (v > prev + step) {
          v = prev + step;
          mask |= SPINE_RATE_LIMITED;
        } else if (v < prev - step) {
          v = prev - step;
          mask |= SPINE_RATE_LIMITED;
        }
        out[i] = v;
        this.last[i] = v;
      }
    }
    if (mask !== 0) {
      this.stats.interventions++;
      if (mask & SPINE_CLAMPED) this.stats.clamped++;
      if (mask & SPINE_RATE_LIMITED) this.stats.rateLimited++;
      if (mask & SPINE_REJECTED_NONFINITE) this.stats.rejectedNonFinite++;
    }
    return mask;
  }
}
