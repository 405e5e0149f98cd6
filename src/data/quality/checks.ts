/**
 * Quality checks: each a small pure function over an episode's columnar frames (frame-major typed arrays,
 * `length * dim` values, as the recorder and the LeRobot reader hold them). No check allocates per frame;
 * a few allocate one scratch array per call.
 *
 * Every check returns a CheckResult: the measured value, the threshold it was held to, and a verdict.
 * A check that cannot measure (too few frames, nothing moving) reports `value: null` and passes.
 */
import { TgError } from '../../errors/index.ts';
import type { QualityThresholds } from './thresholds.ts';

export type Verdict = 'pass' | 'warn' | 'fail';
export type Severity = 'fail' | 'warn';

export interface CheckResult {
  check: string;
  /** What was measured (units in the check's description); null when it could not be measured. */
  value: number | null;
  /** The limit the value was held to; [low, high] for range checks. */
  threshold: number | [number, number] | null;
  verdict: Verdict;
  detail?: string;
}

export type Timestamps = Float32Array | Float64Array;
type T = QualityThresholds;

function judge(
  check: string,
  value: number | null,
  threshold: CheckResult['threshold'],
  bad: boolean,
  severity: Severity,
  detail?: string,
): CheckResult {
  const r: CheckResult = { check, value, threshold, verdict: bad ? severity : 'pass' };
  if (detail !== undefined) r.detail = detail;
  return r;
}

function skipped(check: string, threshold: CheckResult['threshold'], why: string): CheckResult {
  return { check, value: null, threshold, verdict: 'pass', detail: `not measured: ${why}` };
}

/** Number of frame-major frames, checking that the column holds whole frames. */
function frameCount(values: ArrayLike<number>, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim <= 0 || values.length % dim !== 0) {
    throw new TgError(
      'INPUT_INVALID',
      `quality: ${what}: ${values.length} values is not a whole number of ${dim}-vectors`,
    );
  }
  return values.length / dim;
}

// ---------------------------------------------------------------------------------------------- timing

/** Count of intervals where time does not strictly increase (NaN counts). Threshold 0. */
export function checkTimestampsMonotonic(ts: Timestamps, p: T['timestampsMonotonic']): CheckResult {
  let bad = 0;
  let first = -1;
  for (let i = 1; i < ts.length; i++) {
    if (!(ts[i]! > ts[i - 1]!)) {
      bad++;
      if (first < 0) first = i;
    }
  }
  return judge(
    'timestamps-monotonic',
    bad,
    0,
    bad > 0,
    p.severity,
    bad > 0 ? `${bad} non-increasing intervals, first at frame ${first}` : undefined,
  );
}

/**
 * Largest |dt - 1/fps| over consecutive frames (s). LeRobot's check_timestamps_sync (lerobot/datasets/
 * utils.py) rejects a dataset whose intervals leave 1/fps by more than tolerance_s = 1e-4.
 * Float32 timestamps (as LeRobot stores them) get one float32 ulp of |t| on top of the tolerance, since
 * rounding alone moves late frames of long episodes by that much.
 */
export function checkTimestampsGrid(ts: Timestamps, fps: number, p: T['timestampsGrid']): CheckResult {
  if (ts.length < 2) return skipped('timestamps-grid', p.toleranceSec, 'fewer than 2 frames');
  const period = 1 / fps;
  const ulpScale = ts instanceof Float32Array ? 2 ** -23 : 0;
  let worst = 0;
  let bad = 0;
  let first = -1;
  for (let i = 1; i < ts.length; i++) {
    const dev = Math.abs(ts[i]! - ts[i - 1]! - period);
    if (!(dev <= p.toleranceSec + Math.abs(ts[i]!) * ulpScale)) {
      bad++;
      if (first < 0) first = i;
    }
    if (dev > worst || Number.isNaN(dev)) worst = dev;
  }
  return judge(
    'timestamps-grid',
    Number.isNaN(worst) ? null : worst,
    p.toleranceSec,
    bad > 0,
    p.severity,
    bad > 0 ? `${bad} intervals off the 1/${fps} s grid, first at frame ${first}` : undefined,
  );
}

/** Coefficient of variation (std / mean) of the frame intervals. */
export function checkTimestampsJitter(ts: Timestamps, p: T['timestampsJitter']): CheckResult {
  const n = ts.length - 1;
  if (n < 2) return skipped('timestamps-jitter', p.maxCv, 'fewer than 3 frames');
  let sum = 0;
  for (let i = 1; i < ts.length; i++) sum += ts[i]! - ts[i - 1]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = 1; i < ts.length; i++) {
    const d = ts[i]! - ts[i - 1]! - mean;
    sq += d * d;
  }
  if (!(mean > 0) || !Number.isFinite(sq)) {
    return judge(
      'timestamps-jitter',
      null,
      p.maxCv,
      true,
      p.severity,
      'mean interval not positive and finite',
    );
  }
  const cv = Math.sqrt(sq / n) / mean;
  return judge('timestamps-jitter', cv, p.maxCv, cv > p.maxCv, p.severity);
}

/** Count of intervals longer than gapFactor / fps (dropped frames). */
export function checkTimestampsGaps(ts: Timestamps, fps: number, p: T['timestampsGaps']): CheckResult {
  const limit = p.gapFactor / fps;
  let gaps = 0;
  let longest = 0;
  for (let i = 1; i < ts.length; i++) {
    const dt = ts[i]! - ts[i - 1]!;
    if (dt > limit) gaps++;
    if (dt > longest) longest = dt;
  }
  return judge(
    'timestamps-gaps',
    gaps,
    p.maxGaps,
    gaps > p.maxGaps,
    p.severity,
    gaps > 0 ? `${gaps} intervals over ${limit.toFixed(4)} s, longest ${longest.toFixed(4)} s` : undefined,
  );
}

// ------------------------------------------------------------------------------------------- integrity

// One loop per array type keeps each loop's element access monomorphic (this runs over every value). The
// first loop only asks whether any value is non-finite (x * 0 is 0 for finite x, NaN for NaN and
// +-Infinity) without a branch, in four independent sums (one sum is a chain of dependent additions);
// the count runs only then.
function nonFinite32(values: Float32Array): number {
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  const n = values.length;
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    p0 += values[i]! * 0;
    p1 += values[i + 1]! * 0;
    p2 += values[i + 2]! * 0;
    p3 += values[i + 3]! * 0;
  }
  for (let i = whole; i < n; i++) p0 += values[i]! * 0;
  return p0 + p1 + p2 + p3 === 0 ? 0 : nonFinite(values);
}
function nonFinite64(values: Float64Array): number {
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  const n = values.length;
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    p0 += values[i]! * 0;
    p1 += values[i + 1]! * 0;
    p2 += values[i + 2]! * 0;
    p3 += values[i + 3]! * 0;
  }
  for (let i = whole; i < n; i++) p0 += values[i]! * 0;
  return p0 + p1 + p2 + p3 === 0 ? 0 : nonFinite(values);
}
function nonFinite(values: ArrayLike<number>): number {
  let bad = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) bad++;
  return bad;
}

/** Count of NaN/Inf values over every given feature (timestamps included by the caller). */
export function checkFinite(features: Record<string, ArrayLike<number>>, p: T['finite']): CheckResult {
  let total = 0;
  const where: string[] = [];
  for (const [name, values] of Object.entries(features)) {
    const bad =
      values instanceof Float32Array
        ? nonFinite32(values)
        : values instanceof Float64Array
          ? nonFinite64(values)
          : nonFinite(values);
    if (bad > 0) where.push(`${name}: ${bad}`);
    total += bad;
  }
  return judge(
    'finite',
    total,
    0,
    total > 0,
    p.severity,
    total > 0 ? `non-finite values (${where.join(', ')})` : undefined,
  );
}

export interface Column {
  values: Float32Array;
  dim: number;
}

/**
 * Action and state must describe the same channels over the same frames.
 * value = |action dim - state dim| + |action frames - state frames|.
 */
export function checkActionStateLength(
  action: Column | undefined,
  state: Column | undefined,
  p: T['actionStateLength'],
): CheckResult {
  if (!action || !state) {
    const missing = [!action && 'action', !state && 'observation.state'].filter(Boolean).join(' and ');
    return judge('action-state-length', null, 0, true, p.severity, `missing ${missing}`);
  }
  const af = action.values.length / action.dim;
  const sf = state.values.length / state.dim;
  const value = Math.abs(action.dim - state.dim) + Math.abs(af - sf);
  return judge(
    'action-state-length',
    value,
    0,
    value > 0,
    p.severity,
    value > 0 ? `action ${af} x ${action.dim}, state ${sf} x ${state.dim}` : undefined,
  );
}

// -------------------------------------------------------------------------------------------- limits

export interface JointLimits {
  lower: readonly number[];
  upper: readonly number[];
}

function assertLimits(limits: JointLimits, dim: number): void {
  if (limits.lower.length !== dim || limits.upper.length !== dim) {
    throw new TgError(
      'INPUT_INVALID',
      `quality: joint limits have ${limits.lower.length}/${limits.upper.length} entries, state has ${dim} channels`,
    );
  }
}

/** Count of (frame, channel) samples beyond a limit by more than `tolerance`. */
export function checkJointLimits(state: Column, limits: JointLimits, p: T['jointLimits']): CheckResult {
  const { values, dim } = state;
  assertLimits(limits, dim);
  const n = frameCount(values, dim, 'observation.state');
  let bad = 0;
  let firstFrame = -1;
  let firstChannel = -1;
  for (let f = 0; f < n; f++) {
    const base = f * dim;
    for (let c = 0; c < dim; c++) {
      const v = values[base + c]!;
      if (v < limits.lower[c]! - p.tolerance || v > limits.upper[c]! + p.tolerance) {
        bad++;
        if (firstFrame < 0) {
          firstFrame = f;
          firstChannel = c;
        }
      }
    }
  }
  return judge(
    'joint-limits',
    bad,
    p.maxViolations,
    bad > p.maxViolations,
    p.severity,
    bad > 0
      ? `${bad} samples beyond limits, first channel ${firstChannel} at frame ${firstFrame}`
      : undefined,
  );
}

/** Fraction of frames with any of `channels` within `epsilon` of its lower or upper limit. */
export function checkLimitSaturation(
  state: Column,
  limits: JointLimits,
  channels: readonly number[],
  p: T['limitSaturation'],
): CheckResult {
  const { values, dim } = state;
  assertLimits(limits, dim);
  const n = frameCount(values, dim, 'observation.state');
  if (n === 0 || channels.length === 0)
    return skipped('limit-saturation', p.maxFraction, 'no frames or channels');
  let saturated = 0;
  for (let f = 0; f < n; f++) {
    const base = f * dim;
    for (let k = 0; k < channels.length; k++) {
      const c = channels[k]!;
      const v = values[base + c]!;
      if (v <= limits.lower[c]! + p.epsilon || v >= limits.upper[c]! - p.epsilon) {
        saturated++;
        break;
      }
    }
  }
  const fraction = saturated / n;
  return judge('limit-saturation', fraction, p.maxFraction, fraction > p.maxFraction, p.severity);
}

// ---------------------------------------------------------------------------------------------- motion

/** Fraction of frame-to-frame steps where no channel changed by more than epsilon. */
function unchangedFraction(values: Float32Array, dim: number, epsilon: number, what: string): number | null {
  const n = frameCount(values, dim, what);
  if (n < 2) return null;
  let same = 0;
  for (let f = 1; f < n; f++) {
    const a = (f - 1) * dim;
    const b = f * dim;
    let moved = false;
    for (let c = 0; c < dim; c++) {
      // `!(<=)` so that NaN counts as a change, not as a frozen stream.
      if (!(Math.abs(values[b + c]! - values[a + c]!) <= epsilon)) {
        moved = true;
        break;
      }
    }
    if (!moved) same++;
  }
  return same / (n - 1);
}

/** Dead actions: the command stream did not change from one frame to the next (stale teleop, frozen policy). */
export function checkDeadActions(action: Column, p: T['deadActions']): CheckResult {
  const v = unchangedFraction(action.values, action.dim, p.epsilon, 'action');
  if (v === null) return skipped('dead-actions', p.maxFraction, 'fewer than 2 frames');
  return judge('dead-actions', v, p.maxFraction, v > p.maxFraction, p.severity);
}

/** Static segments: the robot did not move from one frame to the next. */
export function checkStaticState(state: Column, p: T['staticState']): CheckResult {
  const v = unchangedFraction(state.values, state.dim, p.epsilon, 'observation.state');
  if (v === null) return skipped('static-state', p.maxFraction, 'fewer than 2 frames');
  return judge('static-state', v, p.maxFraction, v > p.maxFraction, p.severity);
}

/**
 * Gripper chatter: the channel is read as open/closed with hysteresis (closed below 40 %, open above 60 %
 * of its range: the given limits, else the observed min..max), and the value is the most transitions in
 * any one-second window (fps frames).
 */
export function checkGripperChatter(
  column: Column,
  channel: number,
  fps: number,
  range: { lower: number; upper: number } | undefined,
  p: T['gripperChatter'],
): CheckResult {
  const { values, dim } = column;
  const n = frameCount(values, dim, 'gripper');
  let lo = range?.lower ?? Number.POSITIVE_INFINITY;
  let hi = range?.upper ?? Number.NEGATIVE_INFINITY;
  if (!range) {
    for (let f = 0; f < n; f++) {
      const v = values[f * dim + channel]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(hi - lo > 1e-9)) return judge('gripper-chatter', 0, p.maxTransitionsPerSec, false, p.severity);
  const closedBelow = lo + 0.4 * (hi - lo);
  const openAbove = lo + 0.6 * (hi - lo);
  const transitions = new Int32Array(n);
  let count = 0;
  let state = 0; // -1 closed, +1 open, 0 not yet known
  for (let f = 0; f < n; f++) {
    const v = values[f * dim + channel]!;
    const next = v < closedBelow ? -1 : v > openAbove ? 1 : state;
    if (next !== state) {
      if (state !== 0) transitions[count++] = f;
      state = next;
    }
  }
  // Sliding one-second window over the transition frames (two pointers).
  let most = 0;
  for (let i = 0, j = 0; j < count; j++) {
    while (transitions[j]! - transitions[i]! >= fps) i++;
    if (j - i + 1 > most) most = j - i + 1;
  }
  return judge(
    'gripper-chatter',
    most,
    p.maxTransitionsPerSec,
    most > p.maxTransitionsPerSec,
    p.severity,
    count > 0 ? `${count} open/close transitions in ${(n / fps).toFixed(2)} s` : undefined,
  );
}

/** Reused by ldlj (single-threaded module). */
let speedScratch = new Float64Array(0);

/**
 * Log dimensionless jerk (LDLJ) of the joint-space speed profile v(t) = |dq/dt| over `channels`:
 *
 *   LDLJ = -ln( (t2 - t1)^3 / v_peak^2 * integral_{t1}^{t2} |d^2 v / dt^2|^2 dt )
 *
 * Balasubramanian, Melendez-Calderon, Roby-Brami, Burdet, "On the analysis of movement smoothness",
 * J. NeuroEng. Rehabil. 12:112 (2015), eq. for the speed-based LDLJ. A minimum-jerk reach scores
 * -ln(204.8) = -5.32 whatever its amplitude and duration; noise and stop-start motion drive it down.
 * Derivatives are finite differences at the frame rate.
 */
export function ldlj(
  values: Float32Array,
  dim: number,
  channels: readonly number[],
  fps: number,
): number | null {
  const n = frameCount(values, dim, 'observation.state');
  if (n < 5 || channels.length === 0) return null;
  if (speedScratch.length < n - 1) speedScratch = new Float64Array(n - 1);
  const speed = speedScratch.subarray(0, n - 1);
  let peak = 0;
  for (let f = 1; f < n; f++) {
    let sq = 0;
    for (let k = 0; k < channels.length; k++) {
      const c = channels[k]!;
      const d = values[f * dim + c]! - values[(f - 1) * dim + c]!;
      sq += d * d;
    }
    const v = Math.sqrt(sq) * fps;
    speed[f - 1] = v;
    if (v > peak) peak = v;
  }
  if (!(peak > 0) || !Number.isFinite(peak)) return null;
  const fps2 = fps * fps;
  let integral = 0;
  for (let i = 1; i < speed.length - 1; i++) {
    const jerk = (speed[i + 1]! - 2 * speed[i]! + speed[i - 1]!) * fps2;
    integral += (jerk * jerk) / fps;
  }
  const duration = (n - 1) / fps;
  return -Math.log(((duration * duration * duration) / (peak * peak)) * integral);
}

export function checkSmoothness(
  state: Column,
  channels: readonly number[],
  fps: number,
  p: T['smoothness'],
): CheckResult {
  const v = ldlj(state.values, state.dim, channels, fps);
  if (v === null) return skipped('smoothness-ldlj', p.minLdlj, 'no motion or fewer than 5 frames');
  if (!Number.isFinite(v)) {
    // A perfectly constant-speed profile has zero jerk: as smooth as it gets.
    return judge('smoothness-ldlj', null, p.minLdlj, false, p.severity, 'zero jerk');
  }
  return judge('smoothness-ldlj', v, p.minLdlj, v < p.minLdlj, p.severity);
}

/**
 * Collision spikes: per channel, |a| = |q[t+1] - 2 q[t] + q[t-1]| * fps^2 against the channel's median
 * |a| (floored at minMedianAccel). value = the largest ratio over channels and frames.
 */
/** Reused by checkCollisionSpikes (single-threaded module): one episode's |a| per joint, joint-major. */
let accelScratch = new Float64Array(0);

export function checkCollisionSpikes(
  state: Column,
  channels: readonly number[],
  fps: number,
  p: T['collisionSpikes'],
): CheckResult {
  const { values, dim } = state;
  const n = frameCount(values, dim, 'observation.state');
  if (n < 3 || channels.length === 0)
    return skipped('collision-spikes', p.accelFactor, 'fewer than 3 frames');
  const m = n - 2;
  const nc = channels.length;
  // One pass per channel down its frames fills a channel-major table (contiguous writes; the last two
  // values and the peak stay in registers), then one selection per channel.
  // Kept between calls up to 1M values (8 MB); a longer episode gets its own array.
  if (accelScratch.length < nc * m && nc * m <= 1 << 20) accelScratch = new Float64Array(nc * m);
  const accel = accelScratch.length >= nc * m ? accelScratch : new Float64Array(nc * m);
  const peaks = new Float64Array(nc);
  const peakFrames = new Int32Array(nc).fill(-1);
  const fps2 = fps * fps;
  for (let k = 0; k < nc; k++) {
    const c = channels[k]!;
    let peak = 0;
    let peakFrame = -1;
    let prev = values[c]!;
    let cur = values[dim + c]!;
    for (let f = 1, at = k * m, i = 2 * dim + c; f < n - 1; f++, at++, i += dim) {
      const next = values[i]!;
      const a = Math.abs(next - 2 * cur + prev) * fps2;
      if (a > peak) {
        peak = a;
        peakFrame = f;
      }
      // NaN orders last, as a sort would place it.
      accel[at] = Number.isNaN(a) ? Number.POSITIVE_INFINITY : a;
      prev = cur;
      cur = next;
    }
    peaks[k] = peak;
    peakFrames[k] = peakFrame;
  }
  let worst = 0;
  let worstChannel = -1;
  let worstFrame = -1;
  for (let k = 0; k < nc; k++) {
    const peak = peaks[k]!;
    const peakFrame = peakFrames[k]!;
    const median = medianInPlace(accel.subarray(k * m, (k + 1) * m));
    const ratio = peak / Math.max(median, p.minMedianAccel, Number.MIN_VALUE);
    if (ratio > worst) {
      worst = ratio;
      worstChannel = channels[k]!;
      worstFrame = peakFrame;
    }
  }
  const bad = worst > p.accelFactor;
  return judge(
    'collision-spikes',
    worst,
    p.accelFactor,
    bad,
    p.severity,
    bad ? `channel ${worstChannel} at frame ${worstFrame}` : undefined,
  );
}

/**
 * Median (mean of the two middle values for an even count) by quickselect, O(n) rather than a sort's
 * O(n log n): the collision check takes one per joint per episode. Reorders `a`; NaN-free input.
 */
export function medianInPlace(a: Float64Array): number {
  const m = a.length;
  if (m === 0) return Number.NaN;
  const k = (m - 1) >> 1;
  selectInPlace(a, k);
  if (m % 2 === 1) return a[k]!;
  // Everything after k is >= a[k]: the upper middle value is the smallest of them.
  let next = a[k + 1]!;
  for (let i = k + 2; i < m; i++) if (a[i]! < next) next = a[i]!;
  return (a[k]! + next) / 2;
}

/** Hoare quickselect: afterwards a[k] holds the k-th smallest, smaller values before it, larger after. */
function selectInPlace(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and reversed runs (smooth trajectories) linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Mean |action[t] - state[t+1]| over channels and frames: how well a position target is reached a frame later. */
export function checkTrackingError(action: Column, state: Column, p: T['trackingError']): CheckResult {
  if (action.dim !== state.dim)
    return skipped('tracking-error', p.maxMeanAbs, 'action and state dims differ');
  const dim = action.dim;
  const n = Math.min(
    frameCount(action.values, dim, 'action'),
    frameCount(state.values, dim, 'observation.state'),
  );
  if (n < 2) return skipped('tracking-error', p.maxMeanAbs, 'fewer than 2 frames');
  let sum = 0;
  for (let f = 0; f < n - 1; f++) {
    const a = f * dim;
    const s = (f + 1) * dim;
    for (let c = 0; c < dim; c++) sum += Math.abs(action.values[a + c]! - state.values[s + c]!);
  }
  const mean = sum / ((n - 1) * dim);
  return judge('tracking-error', mean, p.maxMeanAbs, !(mean <= p.maxMeanAbs), p.severity);
}

// ------------------------------------------------------------------------------------------- dataset

/** Quantile with linear interpolation between order statistics (numpy's default method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Duration outliers across a dataset by Tukey's fences: outside [Q1 - k IQR, Q3 + k IQR].
 * Returns one result per episode, in input order (all not-measured below minEpisodes).
 */
export function checkDurationOutliers(
  durationsSec: ArrayLike<number>,
  p: T['durationOutlier'],
): CheckResult[] {
  const n = durationsSec.length;
  if (n < p.minEpisodes) {
    return Array.from({ length: n }, () =>
      skipped('duration-outlier', null, `fewer than ${p.minEpisodes} episodes`),
    );
  }
  const sorted = Float64Array.from(durationsSec).sort();
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  const fence: [number, number] = [q1 - p.iqrFactor * iqr, q3 + p.iqrFactor * iqr];
  return Array.from({ length: n }, (_, i) => {
    const d = durationsSec[i]!;
    return judge('duration-outlier', d, fence, d < fence[0] || d > fence[1], p.severity);
  });
}

// ------------------------------------------------------------------------------------------- tactile

export interface NamedColumn extends Column {
  name: string;
}

/**
 * Fraction of taxel samples at the ceiling: `fullScale` when known, else the feature's own observed maximum
 * (a clipped sensor sits there; a healthy one touches it a handful of times). Worst tactile feature wins.
 */
export function checkTactileSaturation(
  features: readonly NamedColumn[],
  p: T['tactileSaturation'],
): CheckResult {
  let worst = 0;
  let worstName = '';
  for (const { name, values } of features) {
    if (values.length === 0) continue;
    let ceiling = p.fullScale ?? Number.NEGATIVE_INFINITY;
    if (p.fullScale === null)
      for (let i = 0; i < values.length; i++) if (values[i]! > ceiling) ceiling = values[i]!;
    // A pad that never saw pressure is not saturated.
    if (!(ceiling > 0)) continue;
    let at = 0;
    for (let i = 0; i < values.length; i++) if (values[i]! >= ceiling) at++;
    const fraction = at / values.length;
    if (fraction > worst) {
      worst = fraction;
      worstName = name;
    }
  }
  const bad = worst > p.maxFraction;
  return judge('tactile-saturation', worst, p.maxFraction, bad, p.severity, bad ? worstName : undefined);
}

/**
 * Fraction of a pad's taxels that never change over the episode, counted only on pads where some taxel
 * does change (an untouched pad tells nothing). Worst tactile feature wins.
 */
export function checkTactileDeadTaxels(
  features: readonly NamedColumn[],
  p: T['tactileDeadTaxels'],
): CheckResult {
  let worst = 0;
  let worstName = '';
  for (const { name, values, dim } of features) {
    const n = frameCount(values, dim, name);
    if (n < 2) continue;
    const lo = values.slice(0, dim);
    const hi = values.slice(0, dim);
    for (let f = 1; f < n; f++) {
      const base = f * dim;
      for (let c = 0; c < dim; c++) {
        const v = values[base + c]!;
        if (v < lo[c]!) lo[c] = v;
        if (v > hi[c]!) hi[c] = v;
      }
    }
    let dead = 0;
    for (let c = 0; c < dim; c++) if (!(hi[c]! - lo[c]! > p.epsilon)) dead++;
    if (dead === dim) continue;
    const fraction = dead / dim;
    if (fraction > worst) {
      worst = fraction;
      worstName = name;
    }
  }
  const bad = worst > p.maxFraction;
  return judge('tactile-dead-taxels', worst, p.maxFraction, bad, p.severity, bad ? worstName : undefined);
}

// ------------------------------------------------------------------------------------------ metadata

/** value = length of the trimmed instruction; at least 1 character is required. */
export function checkLanguageInstruction(
  instruction: string | null | undefined,
  p: T['languageInstruction'],
): CheckResult {
  const len = (instruction ?? '').trim().length;
  return judge(
    'language-instruction',
    len,
    1,
    len < 1,
    p.severity,
    len < 1 ? 'no language instruction' : undefined,
  );
}

/** value = 1 when the episode carries a success label (true or false), 0 when it is unlabelled. */
export function checkSuccessLabel(success: boolean | null | undefined, p: T['successLabel']): CheckResult {
  const labelled = typeof success === 'boolean' ? 1 : 0;
  return judge(
    'success-label',
    labelled,
    1,
    labelled < 1,
    p.severity,
    labelled ? undefined : 'no success label',
  );
}
