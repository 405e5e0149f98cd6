import { readdirSync } from 'node:fs';
import { TgError } from '../src/errors/index.ts';
import type { Benchmark } from './harness.ts';

const BENCH_DIR = new URL('./', import.meta.url);
const SUFFIX = '.bench.ts';

/** Benchmarks are the `bench/<name>.bench.ts` files; each default-exports a `Benchmark`. */
export function benchmarkNames(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

export async function loadBenchmark(name: string): Promise<Benchmark> {
  const names = benchmarkNames();
  if (!names.includes(name)) {
    throw new TgError('NOT_FOUND', `no benchmark "${name}" (available: ${names.join(', ') || 'none'})`);
  }
  const mod = (await import(new URL(`${name}${SUFFIX}`, BENCH_DIR).href)) as { default: Benchmark };
  return mod.default;
}
