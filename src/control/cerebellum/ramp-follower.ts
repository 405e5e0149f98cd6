/**
 * One command channel that follows a target with bounded speed and acceleration and arrives at it at rest
 * (a trapezoidal velocity profile, discrete): what a skill hands the spine for a channel whose target
 * jumps (the gripper opening: open, close, a new squeeze), so the spine never has to cut a velocity or
 * acceleration step out of it. Braking uses the spine's own discrete rule (src/control/spine/braking.ts).
 * Nothing allocates after construction.
 */
import { brakingSpeed } from '../spine/braking.ts';

export class RampFollower {
  /** Command (position) and its velocity per tick. */
  x = 0;
  v = 0;
  /** What `step` follows, and at what speed (capped at the channel's): set them, then call `step`. */
  target = 0;
  speed = 0;
  private readonly dtSec: number;
  private readonly maxSpeed: number;
  /** Largest velocity change per tick. */
  private readonly adt: number;

  constructor(dtSec: number, maxSpeed: number, maxAccel: number) {
    this.dtSec = dtSec;
    this.maxSpeed = maxSpeed;
    this.adt = maxAccel * dtSec;
  }

  /** Starts at `x`, at rest. */
  reset(x: number): void {
    this.x = x;
    this.v = 0;
  }

  /** One tick toward `target` at no more than `speed` (capped at the channel's); returns the command. */
  follow(target: number, speed = this.maxSpeed): number {
    return this.move(approachVelocity(target - this.x, Math.min(speed, this.maxSpeed), this.adt, this.dtSec));
  }

  /**
   * `follow(target, speed)` for a caller on the control tick: the target and speed are set as fields and
   * nothing is returned (read `x`), so no double crosses a call V8 might not inline (each would be boxed).
   */
  step(): void {
    const error = this.target - this.x;
    const d = error < 0 ? -error : error;
    const v = Math.min(
      Math.min(this.speed, this.maxSpeed),
      brakingSpeed(d, this.adt, this.dtSec),
      d / this.dtSec,
    );
    const want = error < 0 ? -v : v;
    const v0 = this.v;
    const adt = this.adt;
    this.v = want > v0 + adt ? v0 + adt : want < v0 - adt ? v0 - adt : want;
    this.x += this.v * this.dtSec;
  }

  /** `halt` without the return value (see `step`). */
  brake(): void {
    const v0 = this.v;
    const adt = this.adt;
    this.v = 0 > v0 + adt ? v0 + adt : 0 < v0 - adt ? v0 - adt : 0;
    this.x += this.v * this.dtSec;
  }

  /** One tick of braking to rest wherever that ends; returns the command. */
  halt(): number {
    return this.move(0);
  }

  private move(want: number): number {
    const v = this.v;
    const adt = this.adt;
    this.v = want > v + adt ? v + adt : want < v - adt ? v - adt : want;
    this.x += this.v * this.dtSec;
    return this.x;
  }
}

/**
 * The velocity to command toward a point `error` away: as fast as `speed`, slow enough to stop there
 * decelerating by `adt` per tick of `dtSec`, and no further than it in this tick. The caller ramps its
 * velocity toward it by at most `adt`.
 */
export function approachVelocity(error: number, speed: number, adt: number, dtSec: number): number {
  const d = error < 0 ? -error : error;
  const v = Math.min(speed, brakingSpeed(d, adt, dtSec), d / dtSec);
  return error < 0 ? -v : v;
}
