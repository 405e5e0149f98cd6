/**
 * GaussianSource.fill (the per-tick form, nothing returned) draws exactly the stream normal() draws, in
 * chunks of any size and interleaved with uniform draws, spare sample included.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRng } from '../../src/sim/rng.ts';
import { GaussianSource } from '../../src/sim/sensors/index.ts';

describe('GaussianSource.fill', () => {
  test('chunks of 1 to 4, with uniforms in between, give the normal() stream bit for bit', () => {
    const a = new GaussianSource(seededRng(11));
    const b = new GaussianSource(seededRng(11));
    const out = new Float64Array(4);
    let drawn = 0;
    for (let k = 0; k < 500; k++) {
      const n = 1 + (k % 4);
      b.fill(out, n);
      for (let i = 0; i < n; i++) assert.equal(out[i], a.normal(), `sample ${drawn + i}`);
      drawn += n;
      if (k % 7 === 3) assert.equal(b.uniform(), a.uniform());
    }
    // The spare of a pair survives a reset of neither; reset drops it in both.
    a.reset();
    b.reset();
    b.fill(out, 1);
    assert.equal(out[0], a.normal());
  });

  test('fills only the first n entries', () => {
    const g = new GaussianSource(seededRng(2));
    const out = new Float64Array(4).fill(7);
    g.fill(out, 2);
    assert.ok(Number.isFinite(out[0]!) && out[0] !== 7 && out[1] !== 7);
    assert.deepEqual([out[2], out[3]], [7, 7]);
    g.fill(out, 0);
  });
});
