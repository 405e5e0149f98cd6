import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SPINE_CLAMPED,
  SPINE_RATE_LIMITED,
  SPINE_REJECTED_NONFINITE,
  Spine,
} from '../../src/control/spine.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';

function spine(): Spine {
  // Two channels: [-1, 1] at 10 units/s, [0, 0.08] at 1 unit/s; tick 0.01 s -> steps 0.1 and 0.01.
  const s = new Spine({ lower: [-1, 0], upper: [1, 0.08], maxVelocity: [10, 1], tickSec: 0.01 });
  s.reset([0, 0.04]);
  return s;
}

describe('Spine', () => {
  test('passes a command within limits untouched', () => {
    const s = spine();
    const out = new Float64Array(2);
    assert.equal(s.check(Float64Array.of(0.05, 0.045), out), 0);
    assert.deepEqual(Array.from(out), [0.05, 0.045]);
    assert.equal(s.stats.interventions, 0);
    assert.equal(s.stats.ticks, 1);
  });

  test('clamps out-of-range commands to the limits', () => {
    const s = spine();
    const out = new Float64Array(2);
    for (let i = 0; i < 20; i++) s.check(Float64Array.of(5, -3), out);
    assert.deepEqual(Array.from(out), [1, 0]);
    assert.ok(s.check(Float64Array.of(5, -3), out) & SPINE_CLAMPED);
    assert.equal(s.stats.clamped, 21);
    assert.equal(s.stats.interventions, 21);
  });

  test('rate-limits the per-tick step', () => {
    const s = spine();
    const out = new Float64Array(2);
    const mask = s.check(Float64Array.of(0.5, 0.04), out);
    assert.equal(mask, SPINE_RATE_LIMITED);
    assert.ok(Math.abs(out[0]! - 0.1) < 1e-12);
    s.check(Float64Array.of(0.5, 0.04), out);
    assert.ok(Math.abs(out[0]! - 0.2) < 1e-12);
    assert.equal(s.stats.rateLimited, 2);
  });

  test('rejects NaN/Inf by holding the last safe command', () => {
    const s = spine();
    const out = new Float64Array(2);
    s.check(Float64Array.of(0.05, 0.045), out);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const mask = s.check(Float64Array.of(0.9, bad), out);
      assert.equal(mask, SPINE_REJECTED_NONFINITE);
      assert.deepEqual(Array.from(out), [0.05, 0.045]);
    }
    assert.equal(s.stats.rejectedNonFinite, 3);
    assert.equal(s.stats.interventions, 3);
  });

  test('refuses inconsistent limits and unprimed use', () => {
    assert.throws(
      () => new Spine({ lower: [0], upper: [1, 2], maxVelocity: [1], tickSec: 0.01 }),
      (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
    );
    assert.throws(
      () => new Spine({ lower: [1], upper: [0], maxVelocity: [1], tickSec: 0.01 }),
      (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
    );
    const s = new Spine({ lower: [0], upper: [1], maxVelocity: [1], tickSec: 0.01 });
    assert.throws(() => s.check(Float64Array.of(0.5), new Float64Array(1)));
  });

  test('forEmbodiment uses the embodiment limits', () => {
    const arm = loadEmbodiment('arm7');
    const s = Spine.forEmbodiment(arm, 0.002);
    assert.equal(s.size, 8);
    s.reset(arm.home);
    const out = new Float64Array(8);
    s.check(Float64Array.from(arm.home), out);
    assert.deepEqual(Array.from(out), arm.home);
  });
});
