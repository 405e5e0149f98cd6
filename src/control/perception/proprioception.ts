/**
 * Joint state from the proprioceptive channels (`joint_pos`, `joint_vel`, `joint_torque`): a lost sample
 * is bridged by holding the last good one for at most `maxHoldSec`, after which the state reads NaN, so
 * that a skill fails safely on a dead sensor instead of servoing on stale data. Allocation-free.
 */
import type { SensorChannel } from '../../sim/sensors/index.ts';

export class HeldChannel {
  private lastGoodSec = Number.NaN;

  constructor(
    private readonly channel: SensorChannel,
    private readonly maxHoldSec: number,
  ) {}

  /** Copies the channel into `out` (first `out.length` values), or holds, or writes NaN once too stale. */
  read(tSec: number, out: Float64Array): void {
    const ch = this.channel;
    const n = Math.min(out.length, ch.dim);
    if (ch.valid) {
      const v = ch.values;
      for (let i = 0; i < n; i++) out[i] = v[i]!;
      this.lastGoodSec = tSec;
      return;
    }
    if (tSec - this.lastGoodSec <= this.maxHoldSec) return;
    for (let i = 0; i < n; i++) out[i] = Number.NaN;
  }

  reset(): void {
    this.lastGoodSec = Number.NaN;
  }
}
