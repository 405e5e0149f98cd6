import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CheckResult,
  checkActionStateLength,
  checkCollisionSpikes,
  checkDeadActions,
  checkDurationOutliers,
  checkEpisode,
  checkFinite,
  checkGripperChatter,
  checkJointLimits,
  checkLanguageInstruction,
  checkLimitSaturation,
  checkSmoothness,
  checkStaticState,
  checkSuccessLabel,
  checkTactileDeadTaxels,
  checkTactileSaturation,
  checkTimestampsGaps,
  checkTimestampsGrid,
  checkTimestampsJitter,
  checkTimestampsMonotonic,
  checkTrackingError,
  episodeVerdict,
  ldlj,
  resolveThresholds,
  DEFAULT_THRESHOLDS as T,
} from '../../src/data/quality/index.ts';
import { isTgError } from '../../src/errors/index.ts';

const FPS = 30;

/** Seeded uniform noise in [-0.5, 0.5) (LCG), so every run sees the same data. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

function grid(n: number, fps = FPS, array: 'f32' | 'f64' = 'f64'): Float32Array | Float64Array {
  const ts = array === 'f32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = i / fps;
  return ts;
}

/** Frame-major column from a per-frame function. */
function col(n: number, dim: number, fn: (f: number, c: number) => number) {
  const values = new Float32Array(n * dim);
  for (let f = 0; f < n; f++) for (let c = 0; c < dim; c++) values[f * dim + c] = fn(f, c);
  return { values, dim };
}

/** Minimum-jerk reach (Flash & Hogan 1985): x(tau) = D (10 tau^3 - 15 tau^4 + 6 tau^5). */
function minJerk(fps: number, durationSec: number, amplitudes: number[], noise = 0, seed = 1) {
  const n = Math.round(durationSec * fps) + 1;
  const rnd = lcg(seed);
  return col(n, amplitudes.length, (f, c) => {
    const t = f / (n - 1);
    return (amplitudes[c] as number) * (10 * t ** 3 - 15 * t ** 4 + 6 * t ** 5) + noise * rnd();
  });
}

const verdictOf = (r: CheckResult) => r.verdict;

describe('timing checks', () => {
  test('monotonic: a clean grid passes, a repeated or reversed timestamp fails', () => {
    assert.equal(checkTimestampsMonotonic(grid(100), T.timestampsMonotonic).verdict, 'pass');
    const ts = grid(100);
    ts[50] = ts[49] as number;
    ts[70] = (ts[69] as number) - 0.01;
    const r = checkTimestampsMonotonic(ts, T.timestampsMonotonic);
    assert.equal(r.verdict, 'fail');
    assert.equal(r.value, 2);
    assert.match(r.detail ?? '', /first at frame 50/);
  });

  test('grid: |dt - 1/fps| at the 1e-4 s tolerance passes, beyond it fails', () => {
    const ok = grid(100);
    for (let i = 50; i < 100; i++) ok[i] = (ok[i] as number) + 0.9e-4;
    const r = checkTimestampsGrid(ok, FPS, T.timestampsGrid);
    assert.equal(r.verdict, 'pass');
    assert.ok(Math.abs((r.value as number) - 0.9e-4) < 1e-9);
    const bad = grid(100);
    for (let i = 50; i < 100; i++) bad[i] = (bad[i] as number) + 1.2e-4;
    assert.equal(checkTimestampsGrid(bad, FPS, T.timestampsGrid).verdict, 'fail');
  });

  test('grid: float32 timestamps of a one-hour episode pass (rounding is not drift)', () => {
    const ts = grid(3600 * FPS, FPS, 'f32');
    assert.equal(checkTimestampsGrid(ts, FPS, T.timestampsGrid).verdict, 'pass');
  });

  test('jitter: cv of dt <= 0.1 passes, > 0.1 fails', () => {
    const make = (amp: number) => {
      const ts = new Float64Array(201);
      // 200 intervals alternating 1/fps * (1 +- amp): mean 1/fps, std amp/fps, so cv = amp exactly.
      for (let i = 1; i < 201; i++) ts[i] = (ts[i - 1] as number) + (1 + (i % 2 ? amp : -amp)) / FPS;
      return ts;
    };
    const ok = checkTimestampsJitter(make(0.09), T.timestampsJitter);
    assert.equal(ok.verdict, 'pass');
    assert.ok(Math.abs((ok.value as number) - 0.09) < 1e-9);
    assert.equal(checkTimestampsJitter(make(0.11), T.timestampsJitter).verdict, 'fail');
  });

  test('gaps: an interval of 1.9 dt passes, 2.1 dt fails', () => {
    const withStep = (factor: number) => {
      const ts = grid(60);
      for (let i = 30; i < 60; i++) ts[i] = (ts[i] as number) + (factor - 1) / FPS;
      return ts;
    };
    assert.equal(checkTimestampsGaps(withStep(1.9), FPS, T.timestampsGaps).value, 0);
    const r = checkTimestampsGaps(withStep(2.1), FPS, T.timestampsGaps);
    assert.deepEqual([r.value, r.verdict], [1, 'fail']);
  });
});

describe('integrity checks', () => {
  test('finite: NaN or Inf in any feature fails and names it', () => {
    const a = new Float32Array([0, 1, 2, 3]);
    assert.equal(checkFinite({ action: a, timestamp: grid(4) }, T.finite).verdict, 'pass');
    const b = new Float32Array([0, Number.NaN, 2, Number.POSITIVE_INFINITY]);
    const r = checkFinite({ action: a, 'observation.state': b }, T.finite);
    assert.deepEqual([r.value, r.verdict], [2, 'fail']);
    assert.match(r.detail ?? '', /observation\.state: 2/);
  });

  test('action/state length: equal dims and frames pass; a different dim or frame count fails', () => {
    const s = col(10, 3, () => 0);
    assert.equal(
      checkActionStateLength(
        col(10, 3, () => 0),
        s,
        T.actionStateLength,
      ).verdict,
      'pass',
    );
    const dim = checkActionStateLength(
      col(10, 2, () => 0),
      s,
      T.actionStateLength,
    );
    assert.deepEqual([dim.value, dim.verdict], [1, 'fail']);
    assert.equal(
      checkActionStateLength(
        col(9, 3, () => 0),
        s,
        T.actionStateLength,
      ).verdict,
      'fail',
    );
    assert.equal(checkActionStateLength(undefined, s, T.actionStateLength).verdict, 'fail');
  });
});

describe('limit checks', () => {
  const limits = { lower: [-1, -1], upper: [1, 1] };

  test('joint limits: within tolerance passes, beyond fails; mismatched limits throw', () => {
    const inside = col(10, 2, (f) => (f === 5 ? 1.0009 : 0));
    assert.equal(checkJointLimits(inside, limits, T.jointLimits).verdict, 'pass');
    const outside = col(10, 2, (f, c) => (f === 5 && c === 1 ? -1.01 : 0));
    const r = checkJointLimits(outside, limits, T.jointLimits);
    assert.deepEqual([r.value, r.verdict], [1, 'fail']);
    assert.match(r.detail ?? '', /channel 1 at frame 5/);
    assert.throws(
      () => checkJointLimits(inside, { lower: [0], upper: [1] }, T.jointLimits),
      (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
    );
  });

  test('saturation: 10% of frames near a limit passes, 20% warns; excluded channels do not count', () => {
    const atLimit = (frac: number) => col(100, 2, (f, c) => (c === 0 && f < frac * 100 ? 0.995 : 0));
    const ok = checkLimitSaturation(atLimit(0.1), limits, [0, 1], T.limitSaturation);
    assert.deepEqual([ok.value, ok.verdict], [0.1, 'pass']);
    const warn = checkLimitSaturation(atLimit(0.2), limits, [0, 1], T.limitSaturation);
    assert.deepEqual([warn.value, warn.verdict], [0.2, 'warn']);
    assert.equal(checkLimitSaturation(atLimit(0.2), limits, [1], T.limitSaturation).value, 0);
  });
});

describe('motion checks', () => {
  /** Action that holds still for `held` of 100 steps (101 frames) and moves otherwise. */
  const holding = (held: number, dim = 2) => col(101, dim, (f) => (f <= held ? 0 : f));

  test('dead actions: 10% unchanged passes, 11% warns', () => {
    assert.deepEqual(
      [checkDeadActions(holding(10), T.deadActions)].map((r) => [r.value, r.verdict]),
      [[0.1, 'pass']],
    );
    assert.equal(checkDeadActions(holding(11), T.deadActions).verdict, 'warn');
  });

  test('static state: 50% unchanged passes, 51% fails; NaN is not "unchanged"', () => {
    assert.equal(checkStaticState(holding(50), T.staticState).verdict, 'pass');
    const r = checkStaticState(holding(51), T.staticState);
    assert.deepEqual([r.value, r.verdict], [0.51, 'fail']);
    const nan = col(101, 1, () => Number.NaN);
    assert.equal(checkStaticState(nan, T.staticState).value, 0);
  });

  test('gripper chatter: 2 transitions per second passes, 3 fails; hysteresis ignores dither', () => {
    // 4 s at 30 fps; the gripper toggles every `period` frames.
    const toggling = (period: number) =>
      col(120, 2, (f, c) => (c === 1 ? (Math.floor(f / period) % 2) * 0.08 : 0));
    const calm = checkGripperChatter(toggling(15), 1, FPS, undefined, T.gripperChatter);
    assert.deepEqual([calm.value, calm.verdict], [2, 'pass']);
    const chatter = checkGripperChatter(toggling(10), 1, FPS, undefined, T.gripperChatter);
    assert.deepEqual([chatter.value, chatter.verdict], [3, 'fail']);
    // Dither between 45% and 55% of the range never crosses the hysteresis band.
    const dither = col(120, 1, (f) => (f === 0 ? 0 : f === 1 ? 0.08 : f % 2 ? 0.036 : 0.044));
    assert.equal(checkGripperChatter(dither, 0, FPS, undefined, T.gripperChatter).value, 1);
    assert.equal(
      checkGripperChatter(
        col(120, 1, () => 0.08),
        0,
        FPS,
        undefined,
        T.gripperChatter,
      ).value,
      0,
    );
  });

  test('LDLJ of a minimum-jerk reach is -ln(204.8) whatever its amplitude and duration', () => {
    const expected = -Math.log(720 / (1.875 * 1.875)); // = -ln(204.8) = -5.32, derived in checks.ts terms
    for (const [dur, amps] of [
      [2, [1, -0.5, 0.3]],
      [4, [0.2]],
    ] as const) {
      const { values, dim } = minJerk(100, dur, [...amps]);
      const v = ldlj(values, dim, [...Array(dim).keys()], 100) as number;
      assert.ok(Math.abs(v - expected) < 0.1, `LDLJ ${v} vs ${expected}`);
    }
  });

  test('smoothness: a minimum-jerk reach passes, the same reach with sensor noise fails', () => {
    const smooth = minJerk(100, 20, [1, -0.5, 0.3]);
    const ok = checkSmoothness(smooth, [0, 1, 2], 100, T.smoothness);
    assert.equal(ok.verdict, 'pass', `LDLJ ${ok.value}`);
    const noisy = minJerk(100, 20, [1, -0.5, 0.3], 0.02);
    const bad = checkSmoothness(noisy, [0, 1, 2], 100, T.smoothness);
    assert.equal(bad.verdict, 'fail');
    assert.ok((bad.value as number) < -25);
    const still = checkSmoothness(
      col(50, 2, () => 0),
      [0, 1],
      100,
      T.smoothness,
    );
    assert.deepEqual([still.value, still.verdict], [null, 'pass']);
  });

  test('collision spikes: a smooth sinusoid passes; a sudden stop over 15x the median fails', () => {
    const sine = col(300, 2, (f, c) => Math.sin((f / FPS) * (1 + c)));
    const ok = checkCollisionSpikes(sine, [0, 1], FPS, T.collisionSpikes);
    assert.equal(ok.verdict, 'pass');
    assert.ok((ok.value as number) < 15);
    // Moving at 1 rad/s (zero acceleration), median floored at 1 rad/s^2; a 0.5 rad jump -> 15 * 30 = 450 rad/s^2.
    const ramp = (jump: number) => col(300, 1, (f) => f / FPS + (f >= 150 ? jump : 0));
    const under = checkCollisionSpikes(ramp(14 / 900), [0], FPS, T.collisionSpikes);
    assert.equal(under.verdict, 'pass');
    assert.ok(Math.abs((under.value as number) - 14) < 1e-3 * 14 + 0.1);
    const over = checkCollisionSpikes(ramp(0.5), [0], FPS, T.collisionSpikes);
    assert.equal(over.verdict, 'fail');
    assert.match(over.detail ?? '', /channel 0 at frame 14[89]/);
  });

  test('finite: one NaN, Inf or -Inf anywhere (every position of short and odd-length columns) is counted', () => {
    for (let n = 1; n <= 9; n++) {
      for (let at = 0; at < n; at++) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          for (const values of [new Float32Array(n).fill(0.5), new Float64Array(n).fill(0.5)]) {
            values[at] = bad;
            const r = checkFinite({ x: values }, T.finite);
            assert.equal(r.value, 1, `${bad} at ${at} of ${n}`);
            assert.equal(r.verdict, 'fail');
          }
        }
      }
    }
  });

  test('collision spikes equal the literal per-frame definition on a channel subset (NaN included)', () => {
    const rnd = lcg(11);
    const dim = 5;
    const n = 200;
    const state = col(
      n,
      dim,
      (f, c) => Math.sin(f * 0.05 * (c + 1)) + rnd() * 0.01 + (f === 120 && c === 3 ? 0.4 : 0),
    );
    state.values[77 * dim + 1] = Number.NaN;
    for (const channels of [[3, 1], [0, 2, 4], [1]]) {
      // |q[t+1] - 2 q[t] + q[t-1]| * fps^2 per channel, its median by sorting (NaN last), the worst ratio.
      let worst = 0;
      let where = '';
      for (const c of channels) {
        const a: number[] = [];
        let peak = 0;
        let peakFrame = -1;
        for (let f = 1; f < n - 1; f++) {
          const v = (i: number) => state.values[i * dim + c] as number;
          const x = Math.abs(v(f + 1) - 2 * v(f) + v(f - 1)) * FPS * FPS;
          if (x > peak) {
            peak = x;
            peakFrame = f;
          }
          a.push(Number.isNaN(x) ? Number.POSITIVE_INFINITY : x);
        }
        a.sort((p, q) => p - q);
        const median = (a[(a.length - 1) >> 1]! + a[a.length >> 1]!) / 2;
        const ratio = peak / Math.max(median, T.collisionSpikes.minMedianAccel, Number.MIN_VALUE);
        if (ratio > worst) {
          worst = ratio;
          where = `channel ${c} at frame ${peakFrame}`;
        }
      }
      const r = checkCollisionSpikes(state, channels, FPS, T.collisionSpikes);
      assert.equal(r.value, worst, `channels ${channels}`);
      if (r.verdict === 'fail') assert.equal(r.detail, where);
    }
  });

  test('tracking error: next state within 0.05 of the target passes, 0.06 warns', () => {
    const state = col(50, 2, (f) => f * 0.01);
    const lagged = (err: number) => col(50, 2, (f) => (f + 1) * 0.01 + err);
    const ok = checkTrackingError(lagged(0.04), state, T.trackingError);
    assert.equal(ok.verdict, 'pass');
    assert.ok(Math.abs((ok.value as number) - 0.04) < 1e-6);
    assert.equal(checkTrackingError(lagged(0.06), state, T.trackingError).verdict, 'warn');
  });
});

describe('dataset, tactile and label checks', () => {
  test('duration outliers: Tukey fences computed as numpy does', () => {
    // Sorted [10, 11, 12, 13, 30]: Q1 = 11, Q3 = 13, IQR = 2, fences [8, 16].
    const r = checkDurationOutliers([12, 10, 30, 11, 13], T.durationOutlier);
    assert.deepEqual(r[0]?.threshold, [8, 16]);
    assert.deepEqual(r.map(verdictOf), ['pass', 'pass', 'warn', 'pass', 'pass']);
    // 16 is on the fence: not an outlier.
    assert.equal(checkDurationOutliers([12, 10, 16, 11, 13], T.durationOutlier)[2]?.verdict, 'pass');
    assert.deepEqual(checkDurationOutliers([1, 100, 2], T.durationOutlier).map(verdictOf), [
      'pass',
      'pass',
      'pass',
    ]);
  });

  test('tactile saturation: a healthy pad passes, a clipped pad warns, an untouched pad passes', () => {
    const healthy = { name: 'observation.tactile.left', ...col(100, 4, (f, c) => Math.sin(f * 0.1 + c) + 1) };
    assert.equal(checkTactileSaturation([healthy], T.tactileSaturation).verdict, 'pass');
    const clipped = {
      name: 'observation.tactile.right',
      ...col(100, 4, (f, c) => Math.min(Math.sin(f * 0.1 + c) + 1, 1.5)),
    };
    const r = checkTactileSaturation([healthy, clipped], T.tactileSaturation);
    assert.equal(r.verdict, 'warn');
    assert.equal(r.detail, 'observation.tactile.right');
    const untouched = { name: 'observation.tactile.left', ...col(100, 4, () => 0) };
    assert.equal(checkTactileSaturation([untouched], T.tactileSaturation).value, 0);
    const fullScale = resolveThresholds({ tactileSaturation: { fullScale: 1.9 } }).tactileSaturation;
    assert.equal(checkTactileSaturation([healthy], fullScale).verdict, 'warn');
  });

  test('dead taxels: half the pad constant passes, three of four warns', () => {
    const pad = (dead: number) => ({
      name: 'observation.tactile.left',
      ...col(50, 4, (f, c) => (c < dead ? 0.3 : Math.abs(Math.sin(f * 0.2 + c)))),
    });
    assert.equal(checkTactileDeadTaxels([pad(2)], T.tactileDeadTaxels).verdict, 'pass');
    const r = checkTactileDeadTaxels([pad(3)], T.tactileDeadTaxels);
    assert.deepEqual([r.value, r.verdict], [0.75, 'warn']);
    assert.equal(checkTactileDeadTaxels([pad(4)], T.tactileDeadTaxels).value, 0);
  });

  test('language instruction and success label', () => {
    assert.equal(checkLanguageInstruction('pick the cube', T.languageInstruction).verdict, 'pass');
    assert.equal(checkLanguageInstruction('  ', T.languageInstruction).verdict, 'fail');
    assert.equal(checkLanguageInstruction(undefined, T.languageInstruction).verdict, 'fail');
    assert.equal(checkSuccessLabel(false, T.successLabel).verdict, 'pass');
    assert.equal(checkSuccessLabel(null, T.successLabel).verdict, 'warn');
  });
});

describe('thresholds', () => {
  test('overrides merge with defaults; unknown keys and bad values are rejected', () => {
    const t = resolveThresholds({ deadActions: { maxFraction: 0.2 }, staticState: { severity: 'warn' } });
    assert.equal(t.deadActions.maxFraction, 0.2);
    assert.equal(t.deadActions.epsilon, T.deadActions.epsilon);
    assert.equal(t.staticState.severity, 'warn');
    assert.equal(t.smoothness.minLdlj, -25);
    assert.throws(() => resolveThresholds({ deadAction: {} }), /Unrecognized key/);
    assert.throws(
      () => resolveThresholds({ timestampsJitter: { maxCv: -1 } }),
      (e: unknown) =>
        isTgError(e) && e.code === 'CONFIG_INVALID' && e.message.includes('timestampsJitter.maxCv'),
    );
  });
});

describe('checkEpisode', () => {
  const n = 90;
  const names = { 'observation.state': ['j1', 'j2', 'gripper'], action: ['j1', 'j2', 'gripper'] };
  const motion = (f: number, c: number) =>
    c === 2 ? (f < 45 ? 0.08 : 0.03) : Math.sin((f / FPS) * (c + 1)) * 0.5;
  const clean = () => ({
    fps: FPS,
    length: n,
    timestampsSec: grid(n),
    columns: {
      'observation.state': col(n, 3, motion).values,
      action: col(n, 3, (f, c) => motion(f + 1, c)).values,
    },
    names,
    jointLimits: { lower: [-2, -2, 0], upper: [2, 2, 0.08] },
    instruction: 'pick the cube',
    success: true,
  });

  test('a clean episode passes every check (gripper resting at its limit is not saturation)', () => {
    const results = checkEpisode(clean(), T);
    assert.deepEqual(
      results.filter((r) => r.verdict !== 'pass'),
      [],
    );
    assert.equal(episodeVerdict(results), 'pass');
    assert.ok(results.some((r) => r.check === 'gripper-chatter'));
    assert.ok(!results.some((r) => r.check.startsWith('tactile')));
  });

  test('a NaN fails the episode; a warning alone does not', () => {
    const bad = clean();
    (bad.columns['observation.state'] as Float32Array)[10] = Number.NaN;
    assert.equal(episodeVerdict(checkEpisode(bad, T)), 'fail');
    const warned = { ...clean(), success: null };
    assert.equal(episodeVerdict(checkEpisode(warned, T)), 'warn');
  });

  test('tactile checks run when tactile features exist', () => {
    const ep = clean();
    const withTactile = {
      ...ep,
      columns: {
        ...ep.columns,
        'observation.tactile.left': col(n, 4, (f, c) => Math.abs(Math.sin(f * 0.1 + c))).values,
      },
    };
    const checks = checkEpisode(withTactile, T).map((r) => r.check);
    assert.ok(checks.includes('tactile-saturation') && checks.includes('tactile-dead-taxels'));
  });
});
