/**
 * Drill jobs the hub hands to fields. Over HTTP the board keeps them in the catalog (`drill_jobs`, migration
 * 3): a field leases its oldest open job, renews the lease while it drills and acknowledges the job once
 * every episode is spooled, so a hub restart loses no job and a job is worked by one taker at a time. A
 * field that dies mid-job resumes it with its saved lease token, or takes it again once the lease ran out;
 * episodes are content-addressed, so re-recording one stores nothing twice. With NATS the jobs go to the
 * durable work-queue stream instead (src/hub/ingest/nats-hub.ts).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  type AckOutcome,
  type DrillJobRow,
  type DrillJobState,
  DrillJobTable,
} from '../catalog/drill-jobs.ts';
import type { Catalog } from '../catalog/index.ts';

export const DrillJobSpecSchema = z
  .object({
    field: z.string().trim().min(1).max(200),
    episodes: z.number().int().min(1).max(100_000),
    seed: z.number().int().min(0).default(0),
    /** Robots to drill with; default: every robot the field runs. */
    robots: z.number().int().min(1).max(1000).optional(),
    fps: z.number().int().min(1).max(1000).default(30),
    /** Simulated-time cap per episode. */
    maxSimSec: z.number().positive().max(600).optional(),
  })
  .strict();
export type DrillJobSpec = z.input<typeof DrillJobSpecSchema>;

export const DrillJobSchema = DrillJobSpecSchema.extend({
  id: z.string().min(1).max(200),
  createdAt: z.string(),
});
export type DrillJob = z.infer<typeof DrillJobSchema>;

export function newDrillJob(spec: DrillJobSpec): DrillJob {
  return { ...DrillJobSpecSchema.parse(spec), id: randomUUID(), createdAt: new Date().toISOString() };
}

/** Where the hub puts jobs: the board in the catalog (HTTP) or the NATS work queue. */
export interface JobQueue {
  submit(spec: DrillJobSpec): Promise<DrillJob>;
}

/** How long a lease lasts unless renewed; the field agent renews every 10 s while it drills. */
export const DEFAULT_JOB_LEASE_MS = 60_000;

export interface JobLease {
  job: DrillJob;
  /** Names the lease: renewing and acknowledging the job need it. */
  token: string;
  expiresAt: string;
}

/** A job as the board tracks it. */
export interface JobStatus extends DrillJob {
  state: DrillJobState;
  leases: number;
  leaseExpiresAt: string | null;
  updatedAt: string;
}

/** Longest a lease request may wait for a job to be queued. */
export const MAX_LEASE_WAIT_MS = 30_000;

export class JobBoard implements JobQueue {
  private readonly table: DrillJobTable;
  readonly leaseMs: number;
  /** Lease requests waiting for a job, by field: woken when one is queued here. */
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(catalog: Catalog, opts: { leaseMs?: number } = {}) {
    this.table = new DrillJobTable(catalog.database);
    this.leaseMs = opts.leaseMs ?? DEFAULT_JOB_LEASE_MS;
  }

  async submit(spec: DrillJobSpec): Promise<DrillJob> {
    const job = newDrillJob(spec);
    await this.table.add({ id: job.id, field: job.field, spec: job, createdAt: job.createdAt });
    for (const wake of this.waiting.get(job.field) ?? []) wake();
    return job;
  }

  /**
   * Leases the oldest open job of `field`. With `waitMs`, a long poll: when there is none, waits up to
   * that long for one to be queued (through this board; jobs queued by another hub process on the same
   * PostgreSQL are seen when the wait ends). Null when there is none, or `signal` aborted the wait.
   */
  async lease(field: string, opts: { waitMs?: number; signal?: AbortSignal } = {}): Promise<JobLease | null> {
    const end = Date.now() + Math.min(opts.waitMs ?? 0, MAX_LEASE_WAIT_MS);
    for (;;) {
      const lease = await this.table.lease<unknown>(field, this.leaseMs);
      if (lease) {
        return { job: DrillJobSchema.parse(lease.job.spec), token: lease.token, expiresAt: lease.expiresAt };
      }
      const left = end - Date.now();
      if (left <= 0 || opts.signal?.aborted) return null;
      await this.queued(field, left, opts.signal);
    }
  }

  /** Resolves when a job for `field` is queued, after `ms`, or when `signal` aborts. */
  private queued(field: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiting.get(field) ?? new Set();
      this.waiting.set(field, set);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiting.delete(field);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Extends a lease; null when it is lost (the job was taken again, finished or cancelled). */
  renew(id: string, token: string): Promise<string | null> {
    return this.table.renew(id, token, this.leaseMs);
  }

  /** Every episode of the job is recorded: it is done and never handed out again. */
  ack(id: string, token: string): Promise<AckOutcome> {
    return this.table.complete(id, token);
  }

  /** A field restarted: its leases other than `keep` (the job it resumes) go back to the queue. */
  async release(field: string, keep: string | null): Promise<string[]> {
    const released = await this.table.release(field, keep);
    if (released.length) for (const wake of this.waiting.get(field) ?? []) wake();
    return released;
  }

  /** Withdraws a job that is not done yet (false when there is no such open job). */
  cancel(id: string): Promise<boolean> {
    return this.table.cancel(id);
  }

  async list(filter: { field?: string; states?: readonly DrillJobState[] } = {}): Promise<JobStatus[]> {
    return (await this.table.list<unknown>(filter)).map(toStatus);
  }

  async get(id: string): Promise<JobStatus | null> {
    const row = await this.table.get<unknown>(id);
    return row ? toStatus(row) : null;
  }
}

function toStatus(row: DrillJobRow<unknown>): JobStatus {
  return {
    ...DrillJobSchema.parse(row.spec),
    state: row.state,
    leases: row.leases,
    leaseExpiresAt: row.leaseExpiresAt,
    updatedAt: row.updatedAt,
  };
}
