/**
 * A latency histogram in the HdrHistogram layout: values (integer nanoseconds) below 2^s are counted
 * exactly, each power-of-two range above is split into 2^(s-1) equal buckets, so every recorded value is
 * kept to a relative precision of 2^-(s-1) (1.6% with the default s = 7) over 1 ns .. 2^42 ns (73 min)
 * in 2,432 counters. Recording is O(1) and does not allocate; percentiles walk the counters.
 */
/** A histogram's state as plain, structured-clone-able data. */
export interface HistogramSnapshot {
  subBits: number;
  counts: Float64Array;
  count: number;
  sumNs: number;
  maxNs: number;
  minNs: number;
}

export class LatencyHistogram {
  /** Samples recorded. */
  count = 0;
  private readonly counts: Float64Array;
  private readonly subBits: number;
  private readonly sub: number;
  private readonly half: number;
  private maxNs = 0;
  private minNs = Number.POSITIVE_INFINITY;
  private sumNs = 0;

  constructor(subBucketBits = 7, maxExponent = 42) {
    if (!Number.isInteger(subBucketBits) || subBucketBits < 2 || subBucketBits > 16) {
      throw new RangeError(`subBucketBits ${subBucketBits} must be an integer in [2, 16]`);
    }
    this.subBits = subBucketBits;
    this.sub = 2 ** subBucketBits;
    this.half = this.sub / 2;
    this.counts = new Float64Array(this.sub + (maxExponent - subBucketBits + 1) * this.half);
  }

  /** Records a duration in milliseconds (negative and NaN count as 0). */
  recordMs(ms: number): void {
    // Converted here, not through recordNs: a fractional double passed to a call V8 does not inline is
    // boxed (a heap allocation per record, several per control tick); the integer `add` takes is a Smi.
    const ns = ms * 1e6;
    this.add(ns > 0 ? Math.floor(ns) : 0);
  }

  recordNs(ns: number): void {
    this.add(ns > 0 ? Math.floor(ns) : 0);
  }

  /** Counts `v` (integer ns >= 0). */
  private add(v: number): void {
    let i = this.index(v);
    if (i >= this.counts.length) i = this.counts.length - 1;
    this.counts[i]!++;
    this.count++;
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
  }

  /** Value at percentile p (0-100) in ms: the upper edge of its bucket, never above the maximum. */
  percentileMs(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.upperEdge(i), this.maxNs) / 1e6;
    }
    return this.maxNs / 1e6;
  }

  get maxMs(): number {
    return this.maxNs / 1e6;
  }

  get minMs(): number {
    return this.count === 0 ? 0 : this.minNs / 1e6;
  }

  get meanMs(): number {
    return this.count === 0 ? 0 : this.sumNs / this.count / 1e6;
  }

  /** Adds another histogram of the same layout (e.g. one robot's layer into the fleet's). */
  merge(other: LatencyHistogram): void {
    if (other.counts.length !== this.counts.length || other.subBits !== this.subBits) {
      throw new RangeError('cannot merge histograms of different layouts');
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sumNs += other.sumNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
  }

  /** Everything the histogram holds, as plain data (e.g. to send from a worker thread and `merge` there). */
  snapshot(): HistogramSnapshot {
    return {
      subBits: this.subBits,
      counts: Float64Array.from(this.counts),
      count: this.count,
      sumNs: this.sumNs,
      maxNs: this.maxNs,
      minNs: this.minNs,
    };
  }

  /** A histogram from a `snapshot` (its layout included). */
  static fromSnapshot(s: HistogramSnapshot): LatencyHistogram {
    const maxExponent = (s.counts.length - 2 ** s.subBits) / 2 ** (s.subBits - 1) + s.subBits - 1;
    const h = new LatencyHistogram(s.subBits, maxExponent);
    if (h.counts.length !== s.counts.length) throw new RangeError('histogram snapshot of an unknown layout');
    h.counts.set(s.counts);
    h.count = s.count;
    h.sumNs = s.sumNs;
    h.maxNs = s.maxNs;
    h.minNs = s.minNs;
    return h;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumNs = 0;
    this.maxNs = 0;
    this.minNs = Number.POSITIVE_INFINITY;
  }

  private index(v: number): number {
    if (v < this.sub) return v;
    if (v < 4294967296) {
      // Integer ops below 2^32 ns (4.3 s): the exponent of the highest set bit, and a shift for the
      // mantissa (v >>> shift is floor(v / 2^shift) there). This runs for every layer tick.
      const shift = 31 - Math.clz32(v) - this.subBits + 1;
      return this.sub + (shift - 1) * this.half + ((v >>> shift) - this.half);
    }
    const e = Math.floor(Math.log2(v));
    const shift = e - this.subBits + 1;
    const mantissa = Math.floor(v / 2 ** shift);
    return this.sub + (shift - 1) * this.half + (mantissa - this.half);
  }

  private upperEdge(i: number): number {
    if (i < this.sub) return i;
    const shift = Math.floor((i - this.sub) / this.half) + 1;
    const mantissa = ((i - this.sub) % this.half) + this.half;
    return (mantissa + 1) * 2 ** shift - 1;
  }
}
