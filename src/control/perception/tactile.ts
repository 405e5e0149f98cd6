/**
 * Tactile contact features (contact, normal force, centroid, slip rate) from one pad's taxel grid.
 *
 * The grid is what the sensor pipeline publishes for `tactile.<pad>`: per taxel the penetration depth (m)
 * of MuJoCo's built-in tactile sensor. Depth maps to force through the pad's calibration curve: measured on
 * arm7's pads, the depth of the taxels in contact depends on the squeeze force and not on how many taxels
 * touch (MuJoCo's soft contact sets the penetration per contact, not per area), so the pad force is the
 * curve applied to the mean depth of the taxels in contact. A real pad is calibrated the same way, against
 * a load cell.
 *
 * Slip shows as the contact patch moving over the pad: the force-weighted centroid's speed (grid units per
 * second), low-pass filtered. The centroid is re-anchored when contact starts, so touching down is not
 * read as slip. `update` allocates nothing.
 */
import { TgError } from '../../errors/index.ts';
import type { TactileFeatures } from '../contracts.ts';
import { norm2 } from '../rotation.ts';

/** Piecewise-linear depth (m) -> pad force (N) table, increasing, starting at (0, 0). */
export interface TactileCalibration {
  readonly depthM: readonly number[];
  readonly forceN: readonly number[];
}

/**
 * arm7's pads (src/embodiment/robots/arm7.xml, solref 0.004 / solimp 0.95 0.99 0.001) squeezing a rigid
 * block, against the gripper actuator's force: test/control/perception-tactile.test.ts re-measures it.
 */
export const ARM7_PAD_CALIBRATION: TactileCalibration = {
  depthM: [0, 3.536e-5, 7.037e-5, 1.215e-4, 2.011e-4, 2.716e-4, 3.851e-4, 4.684e-4, 5.315e-4],
  forceN: [0, 0.77, 1.54, 2.7, 4.64, 6.58, 10.49, 14.43, 18.38],
};

export interface TactileFeatureOptions {
  rows: number;
  cols: number;
  calibration?: TactileCalibration;
  /** A taxel deeper than this is in contact (m, default 10 um: ~0.2 N on arm7's pads). */
  contactDepthM?: number;
  /** Time constant of the slip-rate filter (s, default 0.02). */
  slipFilterSec?: number;
}

export class TactileFeatureExtractor {
  readonly rows: number;
  readonly cols: number;
  private readonly depthTable: Float64Array;
  private readonly forceTable: Float64Array;
  private readonly contactDepthM: number;
  private readonly slipFilterSec: number;
  private lastSec = Number.NaN;
  private anchored = false;
  private prevR = 0.5;
  private prevC = 0.5;
  /** Stamp of the grid being read: a field, not an argument, so that no double is boxed per call. */
  private sampleSec = 0;

  constructor(opts: TactileFeatureOptions) {
    this.rows = opts.rows;
    this.cols = opts.cols;
    const cal = opts.calibration ?? ARM7_PAD_CALIBRATION;
    const n = cal.depthM.length;
    if (n < 2 || cal.forceN.length !== n || cal.depthM[0] !== 0 || cal.forceN[0] !== 0) {
      throw new TgError('CONFIG_INVALID', 'tactile calibration: depthM and forceN must match and start at 0');
    }
    for (let i = 1; i < n; i++) {
      if (!(cal.depthM[i]! > cal.depthM[i - 1]!) || !(cal.forceN[i]! > cal.forceN[i - 1]!)) {
        throw new TgError('CONFIG_INVALID', `tactile calibration: point ${i} is not increasing`);
      }
    }
    this.depthTable = Float64Array.from(cal.depthM);
    this.forceTable = Float64Array.from(cal.forceN);
    this.contactDepthM = opts.contactDepthM ?? 1e-5;
    this.slipFilterSec = opts.slipFilterSec ?? 0.02;
  }

  /** Pad force (N) for a penetration depth (m); linear beyond the table's last point. */
  forceAt(depthM: number): number {
    const d = this.depthTable;
    const f = this.forceTable;
    const n = d.length;
    if (depthM <= 0) return 0;
    let i = 1;
    while (i < n - 1 && depthM > d[i]!) i++;
    return f[i - 1]! + ((depthM - d[i - 1]!) * (f[i]! - f[i - 1]!)) / (d[i]! - d[i - 1]!);
  }

  /** `update` from a sensor channel (its values, validity and stamp), at the control rate. */
  updateFrom(
    channel: { values: ArrayLike<number>; valid: boolean; stampSec: number },
    out: TactileFeatures,
  ): void {
    this.sampleSec = channel.stampSec;
    this.extract(channel.values, channel.valid, out);
  }

  /** Forgets the slip history (after a reset). */
  reset(): void {
    this.lastSec = Number.NaN;
    this.anchored = false;
  }

  /**
   * Updates `out` from a rows x cols depth grid sampled at `tSec`. An invalid grid (dropout, NaN) leaves
   * the features as they were: they describe the last good sample.
   */
  update(grid: ArrayLike<number>, valid: boolean, tSec: number, out: TactileFeatures): void {
    this.sampleSec = tSec;
    this.extract(grid, valid, out);
  }

  private extract(grid: ArrayLike<number>, valid: boolean, out: TactileFeatures): void {
    const { rows, cols } = this;
    const tSec = this.sampleSec;
    if (!valid) return;
    let sum = 0;
    let count = 0;
    let sr = 0;
    let sc = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const d = grid[r * cols + c]!;
        if (!(d > this.contactDepthM)) {
          if (Number.isNaN(d)) return;
          continue;
        }
        sum += d;
        count++;
        sr += d * (r + 0.5);
        sc += d * (c + 0.5);
      }
    }
    const dt = tSec - this.lastSec;
    if (count === 0) {
      out.contact = false;
      out.forceN = 0;
      out.slipRate = 0;
      this.anchored = false;
      this.lastSec = tSec;
      return;
    }
    out.contact = true;
    // forceAt, inline: a call V8 does not inline boxes its argument and its result.
    const depthM = sum / count;
    const d = this.depthTable;
    const f = this.forceTable;
    let i = 1;
    while (i < d.length - 1 && depthM > d[i]!) i++;
    out.forceN =
      depthM <= 0 ? 0 : f[i - 1]! + ((depthM - d[i - 1]!) * (f[i]! - f[i - 1]!)) / (d[i]! - d[i - 1]!);
    const cr = sr / sum / rows;
    const cc = sc / sum / cols;
    out.centroid[0] = cr;
    out.centroid[1] = cc;
    if (!this.anchored || !(dt > 0)) {
      // First contact (or a repeated stamp): no motion to measure yet.
      if (!this.anchored) out.slipRate = 0;
      this.anchored = true;
    } else {
      const speed = norm2(cr - this.prevR, cc - this.prevC) / dt;
      const a = dt / (this.slipFilterSec + dt);
      out.slipRate += a * (speed - out.slipRate);
    }
    this.prevR = cr;
    this.prevC = cc;
    this.lastSec = tSec;
  }
}
