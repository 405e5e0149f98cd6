/**
 * Where a field gets its drill jobs: a lease from the hub's job board over HTTP, or the NATS work queue
 * `TG_JOBS` (`<prefix>.jobs.<field>`). Either way the job stays the field's while it works on it (lease
 * renewals, NATS "working" acks) and is acknowledged once every episode is spooled, so a field that dies
 * mid-job gets it again. A job's handle (lease token, NATS ack subject) is plain data the field journals
 * (job-journal.ts), so a restarted field resumes the job instead of waiting for the lease to run out. A job
 * recorded twice costs time, not data: episodes are deterministic and content-addressed, so the hub
 * already has the second copy.
 */
import { AckPolicy, type Consumer, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { type DrillJob, DrillJobSchema } from '../hub/ingest/job-board.ts';
import type { JobHandle } from './job-journal.ts';
import type { NatsEpisodeTransport } from './transport/nats.ts';
import { jobsSubject } from './transport/nats-layout.ts';

export interface TakenJob {
  job: DrillJob;
  handle: JobHandle;
  /**
   * Still working on it: extends the lease. False when the job is no longer this field's (cancelled, or
   * taken again after the lease ran out); true also when the source cannot be reached (keep going).
   */
  working(): Promise<boolean>;
  /**
   * Every episode is spooled: the source may forget the job. 'lost' when the lease was lost meanwhile.
   * Throws when the source cannot be reached (try again).
   */
  done(): Promise<'done' | 'lost'>;
}

export interface JobSource {
  /**
   * The next job, waiting a few seconds for one (a long poll), or null when none came (or the link is
   * down). `signal` ends the wait.
   */
  next(signal?: AbortSignal): Promise<TakenJob | null>;
  /** A job this field took in an earlier run, from its journal. */
  resume(job: DrillJob, handle: JobHandle): TakenJob;
  /**
   * A restarted field's word that it holds no job but `keep`: leases it took and has no record of (it
   * died between taking a job and journaling it) are freed at once. False when the source is unreachable.
   */
  release?(keep: string | null): Promise<boolean>;
}

/** How long a lease request waits at the hub for a job to be queued. */
const LONG_POLL_MS = 10_000;

export class HttpJobSource implements JobSource {
  private readonly base: string;

  constructor(hubUrl: string, field: string) {
    this.base = `${hubUrl.replace(/\/+$/, '')}/api/fields/${field}/jobs`;
  }

  async next(signal?: AbortSignal): Promise<TakenJob | null> {
    // hub unreachable (or the wait aborted): try again at the next poll
    const res = await this.post(
      `/lease?waitMs=${LONG_POLL_MS}`,
      undefined,
      LONG_POLL_MS + 10_000,
      signal,
    ).catch(() => null);
    if (res?.status !== 200) return null;
    const body = (await res.json().catch(() => null)) as { job?: unknown; token?: unknown } | null;
    const job = DrillJobSchema.safeParse(body?.job);
    if (!job.success || typeof body?.token !== 'string') return null;
    return this.resume(job.data, { kind: 'http', token: body.token });
  }

  resume(job: DrillJob, handle: JobHandle): TakenJob {
    if (handle.kind !== 'http')
      throw new Error(`job ${job.id}: a ${handle.kind} job cannot resume over HTTP`);
    const body = { token: handle.token };
    return {
      job,
      handle,
      working: async () => {
        const res = await this.post(`/${encodeURIComponent(job.id)}/renew`, body).catch(() => null);
        await res?.body?.cancel().catch(() => {});
        return res?.status !== 409;
      },
      done: async () => {
        const res = await this.post(`/${encodeURIComponent(job.id)}/ack`, body);
        await res.body?.cancel().catch(() => {});
        if (res.status === 200) return 'done';
        if (res.status === 409) return 'lost';
        throw new Error(`acknowledging job ${job.id}: hub answered ${res.status}`);
      },
    };
  }

  async release(keep: string | null): Promise<boolean> {
    const res = await this.post('/release', { keep }).catch(() => null);
    await res?.body?.cancel().catch(() => {});
    return res?.status === 200;
  }

  private post(
    pathname: string,
    body?: unknown,
    timeoutMs = 10_000,
    signal?: AbortSignal,
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    return fetch(`${this.base}${pathname}`, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  }
}

export class NatsJobSource implements JobSource {
  private consumer: Consumer | null = null;

  constructor(
    private readonly transport: NatsEpisodeTransport,
    private readonly field: string,
  ) {}

  async next(signal?: AbortSignal): Promise<TakenJob | null> {
    const consumer = await this.ensureConsumer().catch(() => null);
    if (!consumer || signal?.aborted) return null;
    const msg = await consumer.next({ expires: 2000 }).catch(() => null);
    if (!msg) return null;
    const parsed = DrillJobSchema.safeParse(msg.json());
    if (!parsed.success) {
      msg.term('not a drill job');
      return null;
    }
    // The delivery's ack subject: the JsMsg implementation exposes it, its type does not.
    const ackSubject = (msg as unknown as { reply?: unknown }).reply;
    if (typeof ackSubject !== 'string' || !ackSubject) {
      msg.nak();
      return null;
    }
    return this.resume(parsed.data, { kind: 'nats', ackSubject });
  }

  /**
   * JetStream acknowledgements are messages to the delivery's reply subject, so a journaled ack subject
   * works from a new process. The ack is best effort: when it is lost the job comes back after the
   * consumer's ack wait, and the field's journal says it was finished.
   */
  resume(job: DrillJob, handle: JobHandle): TakenJob {
    if (handle.kind !== 'nats')
      throw new Error(`job ${job.id}: a ${handle.kind} job cannot resume over NATS`);
    const { nc } = this.transport;
    return {
      job,
      handle,
      working: async () => {
        try {
          nc.publish(handle.ackSubject, '+WPI');
        } catch {
          // link down: the ack wait may run out and the job come back; keep drilling
        }
        return true;
      },
      done: async () => {
        await nc.request(handle.ackSubject, '+ACK', { timeout: 5000 }).catch(() => {});
        return 'done';
      },
    };
  }

  private async ensureConsumer(): Promise<Consumer> {
    if (this.consumer) return this.consumer;
    const { nc, layout } = this.transport;
    const name = `field-${this.field}`;
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.consumers.info(layout.jobsStream, name);
    } catch {
      await jsm.consumers.add(layout.jobsStream, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        filter_subject: jobsSubject(layout, this.field),
        ack_wait: nanos(60_000),
      });
    }
    this.consumer = await jetstream(nc).consumers.get(layout.jobsStream, name);
    return this.consumer;
  }
}
