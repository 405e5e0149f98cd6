import os from 'node:os';
import type { z } from 'zod';

/**
 * The benchmark harness. A benchmark measures its subject and a baseline in the same run (these machines
 * are noisy, so only the ratio is comparable across runs) and returns one or more results.
 */
export interface MachineFacts {
  cores: number;
  node: string;
  platform: string;
  arch: string;
  cpu: string;
  memoryGiB: number;
}

/**
 * One printed result. The benchmark's `details` (the figures an issue asks for, e.g. `framesPerSec`,
 * `layers`) appear at the top level of the JSON next to the harness's own fields.
 */
export interface BenchResult {
  [figure: string]: unknown;
  name: string;
  metric: string;
  value: number;
  unit: string;
  /** The same metric for the baseline, measured in the same run. */
  baseline: number;
  /** value / baseline (higher is better when `higherIsBetter`). */
  ratio: number;
  higherIsBetter: boolean;
  machine: MachineFacts;
}

export interface Measurement {
  metric: string;
  value: number;
  unit: string;
  baseline: number;
  higherIsBetter: boolean;
  /** Benchmark-specific figures (e.g. per-layer latencies), printed at the result's top level. */
  details?: Record<string, unknown>;
}

export interface BenchContext {
  /** Reports progress as a fraction in [0, 1]. */
  progress(fraction: number, detail?: string): void;
}

export interface Benchmark<O extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** Validates the benchmark's own flags (`tg bench NAME --key value`). */
  options: O;
  run(options: z.infer<O>, ctx: BenchContext): Promise<Measurement[]>;
}

export function defineBenchmark<O extends z.ZodType>(b: Benchmark<O>): Benchmark<O> {
  return b;
}

export function machineFacts(): MachineFacts {
  return {
    cores: os.availableParallelism(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

export function toResult(name: string, m: Measurement): BenchResult {
  const ratio = m.baseline === 0 ? Number.NaN : m.value / m.baseline;
  const { details, ...measured } = m;
  return {
    ...details,
    name,
    ...measured,
    ratio: Math.round(ratio * 1000) / 1000,
    machine: machineFacts(),
  };
}
