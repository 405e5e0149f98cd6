/**
 * Per-layer timing: a compute-time histogram, the ticks run, the deadline misses (compute over budget)
 * and the faults. One per layer per robot; `merge` folds robots into a fleet figure.
 */
import type { LayerName } from '../contracts.ts';
import { LatencyHistogram } from './latency-histogram.ts';

/** One layer's row of `tg run` / `tg bench control` (milliseconds). */
export interface LayerReport {
  ticks: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  budgetMs: number;
  misses: number;
  faults: number;
}

export class LayerTelemetry {
  readonly histogram = new LatencyHistogram();
  ticks = 0;
  misses = 0;
  faults = 0;

  constructor(
    readonly name: LayerName,
    readonly budgetMs: number,
  ) {}

  /** Records one run's compute time; over budget is a deadline miss. */
  record(ms: number): void {
    this.histogram.recordMs(ms);
    this.ticks++;
    if (ms > this.budgetMs) this.misses++;
  }

  merge(other: LayerTelemetry): void {
    this.histogram.merge(other.histogram);
    this.ticks += other.ticks;
    this.misses += other.misses;
    this.faults += other.faults;
  }

  report(): LayerReport {
    const h = this.histogram;
    return {
      ticks: this.ticks,
      p50Ms: h.percentileMs(50),
      p95Ms: h.percentileMs(95),
      p99Ms: h.percentileMs(99),
      maxMs: h.maxMs,
      budgetMs: this.budgetMs,
      misses: this.misses,
      faults: this.faults,
    };
  }
}
