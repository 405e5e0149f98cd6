/**
 * The `drill_jobs` table (migration 3): durable drill jobs with leases, so a hub restart loses no job and a
 * job is worked by one taker at a time. The spec is stored as JSON and not interpreted here (the ingest's
 * job board validates it). Every time comes from the database's clock, so leases outlive hub restarts and
 * N hub processes on one PostgreSQL agree on them.
 *
 * Taking a job is one UPDATE over a `FOR UPDATE SKIP LOCKED` pick, so two takers asking at once on
 * PostgreSQL get two different jobs (or one gets none), never the same one.
 */
import { randomUUID } from 'node:crypto';
import { TgError } from '../../errors/index.ts';
import type { SqlDatabase } from './database.ts';

export const DRILL_JOB_STATES = ['queued', 'leased', 'done', 'cancelled'] as const;
export type DrillJobState = (typeof DRILL_JOB_STATES)[number];

export interface DrillJobRow<S = unknown> {
  id: string;
  field: string;
  spec: S;
  state: DrillJobState;
  /** Leases handed out so far (more than one: a taker died or gave up and the job was taken again). */
  leases: number;
  /** End of the current lease (state leased); a lease past its end is free to be taken again. */
  leaseExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DrillJobLease<S = unknown> {
  job: DrillJobRow<S>;
  /** Names this lease: renewing and acknowledging need it. */
  token: string;
  expiresAt: string;
}

/** Outcome of acknowledging a job: done (now or already, by this lease), or the lease is no longer ours. */
export type AckOutcome = 'done' | 'lease lost';

const COLUMNS = 'id, field_id, spec, state, leases, lease_expires_at, created_at, updated_at';

export class DrillJobTable {
  constructor(private readonly db: SqlDatabase) {}

  /** Queues a job for `field`; adding an id that exists leaves the stored job as it is. */
  async add<S>(job: { id: string; field: string; spec: S; createdAt: string }): Promise<DrillJobRow<S>> {
    await this.run('queueing a drill job', () =>
      this.db.query(
        `INSERT INTO drill_jobs (id, field_id, spec, state, created_at)
         VALUES ($1, $2, $3::jsonb, 'queued', $4::timestamptz)
         ON CONFLICT (id) DO NOTHING`,
        [job.id, job.field, JSON.stringify(job.spec), job.createdAt],
      ),
    );
    const row = await this.get<S>(job.id);
    if (!row) throw new TgError('STORAGE_FAILED', `drill job ${job.id} vanished right after it was queued`);
    return row;
  }

  /**
   * Leases the oldest open job of `field` for `leaseMs`: a queued one, or a leased one whose lease ran out.
   * Null when there is none.
   */
  async lease<S>(field: string, leaseMs: number): Promise<DrillJobLease<S> | null> {
    const token = randomUUID();
    const rows = await this.run(`leasing a drill job for field ${field}`, () =>
      this.db.query<Record<string, unknown>>(
        `UPDATE drill_jobs
         SET state = 'leased', lease_token = $2,
             lease_expires_at = now() + $3 * interval '1 millisecond',
             leases = leases + 1, updated_at = now()
         WHERE id = (
           SELECT id FROM drill_jobs
           WHERE field_id = $1
             AND (state = 'queued' OR (state = 'leased' AND lease_expires_at <= now()))
           ORDER BY created_at, id
           LIMIT 1
           FOR UPDATE SKIP LOCKED
         )
         RETURNING ${COLUMNS}`,
        [field, token, leaseMs],
      ),
    );
    const row = rows[0];
    if (!row) return null;
    const job = toRow<S>(row);
    return { job, token, expiresAt: job.leaseExpiresAt as string };
  }

  /**
   * Extends lease `token` of job `id` by `leaseMs` from now. A lease that ran out but was not taken by
   * anyone else is still ours (the taker was only slow). Null when the lease is lost: the job was taken
   * again, finished or cancelled.
   */
  async renew(id: string, token: string, leaseMs: number): Promise<string | null> {
    const rows = await this.run(`renewing the lease of drill job ${id}`, () =>
      this.db.query<{ lease_expires_at: unknown }>(
        `UPDATE drill_jobs
         SET lease_expires_at = now() + $3 * interval '1 millisecond', updated_at = now()
         WHERE id = $1 AND state = 'leased' AND lease_token = $2
         RETURNING lease_expires_at`,
        [id, token, leaseMs],
      ),
    );
    return rows[0] ? iso(rows[0].lease_expires_at) : null;
  }

  /** The taker of lease `token` recorded the whole job. Acknowledging twice is harmless. */
  async complete(id: string, token: string): Promise<AckOutcome> {
    const rows = await this.run(`acknowledging drill job ${id}`, () =>
      this.db.query<{ state: string }>(
        `UPDATE drill_jobs
         SET state = 'done', lease_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND lease_token = $2 AND state IN ('leased', 'done')
         RETURNING state`,
        [id, token],
      ),
    );
    return rows.length === 1 ? 'done' : 'lease lost';
  }

  /**
   * Puts the jobs leased by `field` back in the queue, except `keep`: a field that restarts without a
   * record of a lease it took (it died before saving it) frees the job at once instead of after the
   * lease runs out. Returns the ids released.
   */
  async release(field: string, keep: string | null): Promise<string[]> {
    const rows = await this.run(`releasing the leases of field ${field}`, () =>
      this.db.query<{ id: string }>(
        `UPDATE drill_jobs
         SET state = 'queued', lease_token = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE field_id = $1 AND state = 'leased' AND ($2::text IS NULL OR id <> $2::text)
         RETURNING id`,
        [field, keep],
      ),
    );
    return rows.map((r) => String(r.id));
  }

  /** Withdraws a job that is not done; false when it is done, cancelled already, or unknown. */
  async cancel(id: string): Promise<boolean> {
    const rows = await this.run(`cancelling drill job ${id}`, () =>
      this.db.query(
        `UPDATE drill_jobs SET state = 'cancelled', lease_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND state IN ('queued', 'leased')
         RETURNING id`,
        [id],
      ),
    );
    return rows.length === 1;
  }

  async get<S>(id: string): Promise<DrillJobRow<S> | null> {
    const rows = await this.run(`reading drill job ${id}`, () =>
      this.db.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM drill_jobs WHERE id = $1`, [id]),
    );
    return rows[0] ? toRow<S>(rows[0]) : null;
  }

  /** Jobs, oldest first, optionally of one field and in some states. */
  async list<S>(
    filter: { field?: string; states?: readonly DrillJobState[]; limit?: number } = {},
  ): Promise<DrillJobRow<S>[]> {
    const rows = await this.run('listing drill jobs', () =>
      this.db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM drill_jobs
         WHERE ($1::text IS NULL OR field_id = $1::text)
           AND ($2::text[] IS NULL OR state = ANY($2::text[]))
         ORDER BY created_at, id
         LIMIT $3`,
        [filter.field ?? null, filter.states ? [...filter.states] : null, filter.limit ?? 1000],
      ),
    );
    return rows.map((r) => toRow<S>(r));
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TgError) throw err;
      throw new TgError('STORAGE_FAILED', `${what} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

function toRow<S>(row: Record<string, unknown>): DrillJobRow<S> {
  return {
    id: String(row.id),
    field: String(row.field_id),
    spec: (typeof row.spec === 'string' ? JSON.parse(row.spec) : row.spec) as S,
    state: String(row.state) as DrillJobState,
    leases: Number(row.leases),
    leaseExpiresAt: row.lease_expires_at == null ? null : iso(row.lease_expires_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function iso(v: unknown): string {
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}
