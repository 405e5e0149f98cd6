/**
 * Per-layer timing: a compute-time histogram, the ticks run, the deadline misses (compute over budget)
 * and the faults. One per layer per robot; `merge` folds robots into a fleet figure.
 *
 * Compute time is the tick's wall time, except for a tick over budget during which the operating system
 * gave the thread's core to another thread: that tick is charged only the time it ran (the scheduler
 * subtracts the kernel's count of the thread's run-queue wait) and counted as `preempted`, with its wall
 * time kept in `maxWallMs`. A miss is then code too slow for its budget, not a busy machine.
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
  /** Ticks over budget in wall time only because the thread was preempted (not misses). */
  preempted: number;
  /** The longest wall time of a tick, preemption included. */
  maxWallMs: number;
}

export class LayerTelemetry {
  readonly histogram = new LatencyHistogram();
  ticks = 0;
  misses = 0;
  faults = 0;
  preempted = 0;
  maxWallMs = 0;

  constructor(
    readonly name: LayerName,
    readonly budgetMs: number,
  ) {}

  /** Records one run's compute time; over budget is a deadline miss. */
  record(ms: number): void {
    this.histogram.recordMs(ms);
    this.ticks++;
    if (ms > this.maxWallMs) this.maxWallMs = ms;
    if (ms > this.budgetMs) this.misses++;
  }

  /** Records a run whose wall time `wallMs` included `preemptedMs` with the thread off its core. */
  recordPreempted(wallMs: number, preemptedMs: number): void {
    const ms = Math.max(0, wallMs - preemptedMs);
    this.record(ms);
    if (wallMs > this.maxWallMs) this.maxWallMs = wallMs;
    if (wallMs > this.budgetMs && ms <= this.budgetMs) this.preempted++;
  }

  merge(other: LayerTelemetry): void {
    this.histogram.merge(other.histogram);
    this.ticks += other.ticks;
    this.misses += other.misses;
    this.faults += other.faults;
    this.preempted += other.preempted;
    this.maxWallMs = Math.max(this.maxWallMs, other.maxWallMs);
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
      preempted: this.preempted,
      maxWallMs: this.maxWallMs,
    };
  }
}
