/** Standard normal samples from a seeded uniform source (Marsaglia polar method); allocation-free. */
import type { Rng } from '../rng.ts';

export class GaussianSource {
  private spare = 0;
  private hasSpare = false;
  private readonly one = new Float64Array(1);
  constructor(private readonly rng: Rng) {}

  /**
   * Drops the spare sample of the last pair: after a reset (and a reseed of the uniform source) the next
   * normal comes from the stream alone, not from an earlier episode's leftover.
   */
  reset(): void {
    this.spare = 0;
    this.hasSpare = false;
  }

  /** Uniform [0, 1) from the same stream. */
  uniform(): number {
    return this.rng.next();
  }

  normal(): number {
    this.fill(this.one, 1);
    return this.one[0]!;
  }

  /**
   * Writes the next `n` samples of the stream `normal` gives into `out`. For per-tick callers: nothing is
   * returned, and a double returned from a call V8 does not inline is a heap allocation.
   */
  fill(out: Float64Array, n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.hasSpare) {
        this.hasSpare = false;
        out[i] = this.spare;
        continue;
      }
      let u = 0;
      let v = 0;
      let s = 0;
      do {
        u = 2 * this.rng.next() - 1;
        v = 2 * this.rng.next() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const k = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * k;
      this.hasSpare = true;
      out[i] = u * k;
    }
  }
}
