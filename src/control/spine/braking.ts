/**
 * Discrete braking: how fast a channel may move toward a point and still stop there, when its speed can
 * drop by at most `a dt` per tick of `dt`. The spine brakes into position limits and references with it;
 * the cerebellum's command profiles arrive at their targets with it, so the two agree on what "can still
 * stop" means.
 */

/**
 * Largest speed from which a channel, decelerating by `adt` (= a dt) per tick of `dtSec`, comes to rest
 * within `distance`. From v = (m + f) a dt (m whole, 0 <= f <= 1) the ticks cover a dt^2 (m + 1) (m / 2 + f):
 * m is the most whole steps that fit, f what the remainder allows. 0 for a distance <= 0.
 */
export function brakingSpeed(distance: number, adt: number, dtSec: number): number {
  if (distance <= 0) return 0;
  const adt2 = adt * dtSec;
  const m = Math.floor(0.5 * (Math.sqrt(1 + (8 / adt2) * distance) - 1));
  const f = Math.min(1, distance / (adt2 * (m + 1)) - 0.5 * m);
  return adt * (m + Math.max(0, f));
}
