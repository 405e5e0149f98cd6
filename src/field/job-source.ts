/**
 * Where a field gets its drill jobs: polling the hub over HTTP, or the NATS work queue `TG_JOBS`
 * (`<prefix>.jobs.<field>`). A NATS job is acknowledged when the drill finished recording it into the
 * spool, so a field that crashes mid-job gets it again; re-running a job re-records the same seeds, and
 * deterministic episodes have the same content-hash ids, which the hub already has.
 */
import { AckPolicy, type Consumer, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { type DrillJob, DrillJobSchema } from '../hub/ingest/job-board.ts';
import type { NatsEpisodeTransport } from './transport/nats.ts';
import { jobsSubject } from './transport/nats-layout.ts';

export interface TakenJob {
  job: DrillJob;
  /** The job is recorded (every episode spooled): the source may forget it. */
  done(): Promise<void>;
  /** Still working on it (long jobs). */
  working(): void;
}

export interface JobSource {
  /** The next job, or null when there is none right now (or the link is down). */
  next(): Promise<TakenJob | null>;
}

export class HttpJobSource implements JobSource {
  constructor(
    private readonly hubUrl: string,
    private readonly field: string,
  ) {}

  async next(): Promise<TakenJob | null> {
    let res: Response;
    try {
      res = await fetch(`${this.hubUrl.replace(/\/+$/, '')}/api/fields/${this.field}/jobs/next`, {
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      return null; // hub unreachable: try again at the next poll
    }
    if (res.status !== 200) return null;
    const parsed = DrillJobSchema.safeParse(await res.json().catch(() => null));
    if (!parsed.success) return null;
    return { job: parsed.data, done: async () => {}, working: () => {} };
  }
}

export class NatsJobSource implements JobSource {
  private consumer: Consumer | null = null;

  constructor(
    private readonly transport: NatsEpisodeTransport,
    private readonly field: string,
  ) {}

  async next(): Promise<TakenJob | null> {
    const consumer = await this.ensureConsumer().catch(() => null);
    if (!consumer) return null;
    const msg = await consumer.next({ expires: 2000 }).catch(() => null);
    if (!msg) return null;
    const parsed = DrillJobSchema.safeParse(msg.json());
    if (!parsed.success) {
      msg.term('not a drill job');
      return null;
    }
    return {
      job: parsed.data,
      done: async () => {
        await msg.ackAck().catch(() => {});
      },
      working: () => msg.working(),
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
