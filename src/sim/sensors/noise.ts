/** Standard normal samples from a seeded uniform source (Marsaglia polar method); allocation-free. */
import type { Rng } from '../rng.ts';

export class GaussianSource {
  private spare = 0;
  private hasSpare = false;
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
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
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
    return u * k;
  }
}
