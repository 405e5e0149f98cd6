/**
 * What the ingest benchmark's processes tell each other over their IPC channels. The coordinator
 * (bench/ingest.bench.ts) starts a hub, N fields and a load generator as child processes, says `go` to
 * all of them at once, and collects their reports.
 */
import type { NatsLayout } from '../../src/field/transport/nats-layout.ts';

export type Transport = 'http' | 'nats';

export interface HubChildConfig {
  home: string;
  natsUrl: string | null;
  layout: Partial<NatsLayout>;
  durable: boolean;
  threads: number;
}

export interface FieldChildConfig {
  /** 'ingest': record into the spool and upload with the real uploader; 'baseline': POST batches to a sink. */
  mode: 'ingest' | 'baseline';
  url: string;
  field: string;
  episodes: number;
  frames: number;
  seed: number;
  /** The field's spool directory (ingest mode). */
  dir: string;
  transport: Transport;
  natsUrl: string | null;
  layout: Partial<NatsLayout>;
  batchEpisodes: number;
  /** 'backlog': the spool is full before `go`; 'live': episodes are recorded while uploading. */
  record: 'backlog' | 'live';
}

export interface LoadChildConfig {
  url: string;
  ratePerSec: number;
}

export interface FieldReport {
  type: 'field-done';
  field: string;
  /** Episode ids in the order the field recorded them. */
  ids: string[];
  frames: number;
  delivered: number;
  duplicates: number;
  batches: number;
  retries: number;
  rejected: number;
  elapsedMs: number;
  /** CPU time of the field process between `go` and its report. */
  cpuMs: number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Response header in which the benchmark's hub says when (process.hrtime, ns) it took a request up. */
export const RECEIVED_HEADER = 'x-bench-received-ns';

export interface LoadReport {
  type: 'load-done';
  sent: number;
  errors: number;
  /** Requests per second actually sent. */
  ratePerSec: number;
  all: LatencySummary;
  /** Per route, with the count of each HTTP status answered. */
  byRoute: Record<string, LatencySummary & { statuses: Record<string, number> }>;
  /** How late the generator itself sent requests (its own scheduling on a busy machine). */
  lagP99Ms: number;
  /**
   * Each latency in two: from sending to the hub's HTTP server taking the request up (`beforeHub`: the
   * hub's event loop busy or off the CPU), and from then to the answer's first bytes here.
   */
  split: { beforeHub: LatencySummary; fromHub: LatencySummary };
  cpuMs: number;
}

export interface HubReport {
  type: 'hub-done';
  /** CPU time of the hub process between `go` and `stop`. */
  cpuMs: number;
  eventLoopUtilization: number;
  /** How late the hub's event loop ran its timers (5 ms resolution): a stall here delays every request. */
  eventLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
  /** API requests (not uploads) from the hub's first sight of the request to the end of its answer. */
  apiServerMs: LatencySummary;
  /** TCP connections accepted (uploads and API requests keep theirs alive). */
  connections: number;
  /** Per thread between go and stop (Linux): "<thread> cpu" ms on a CPU, "<thread> wait" ms runnable but waiting for one. */
  threadCpuMs: Record<string, number>;
  /** Garbage collections of the hub's main thread (each pauses it). */
  gc: { count: number; major: number; totalMs: number; maxMs: number };
}

export type ChildMessage =
  | { type: 'ready'; url?: string }
  | { type: 'hub-holds'; episodes: number }
  | HubReport
  | FieldReport
  | LoadReport
  | { type: 'error'; message: string };

export type ParentMessage =
  | { type: 'go' }
  | { type: 'stop' }
  /** To the hub: answer `hub-holds` once its catalog holds this many episodes (NATS: fields are done
   * when JetStream stored their bundles, the hub is done when it committed them). */
  | { type: 'await-episodes'; count: number };

/** p-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

export function summarize(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    count: sorted.length,
    p50Ms: round(quantile(sorted, 0.5)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
  };
}
