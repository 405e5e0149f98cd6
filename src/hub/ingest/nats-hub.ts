/**
 * The hub's end of the NATS transport: creates the streams, consumes bundles through a durable pull
 * consumer and acknowledges each message only after the episode is committed to the catalog (so a hub
 * crash mid-ingest redelivers it; the catalog's content-hash ids make the redelivery harmless), puts drill
 * jobs on the work queue, and listens to field events. Layout: src/field/transport/nats-layout.ts.
 *
 * Messages are read on a thread of their own (./nats-consumer.ts) and handed to the ingest as they arrive,
 * without waiting for each commit: the ingest queues them in arrival order and commits them in groups, and
 * each message is acked when its group committed. Bundles that arrive together go to the ingest as one
 * batch (one verification round trip instead of one each); a batch the ingest refuses (it is all or
 * nothing) is delivered again one bundle at a time, so only the bad ones are refused. At most
 * `MAX_IN_FLIGHT` messages wait for their commit.
 */
import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos, type Subscription } from '@nats-io/transport-node';
import { isTgError, TgError } from '../../errors/index.ts';
import {
  episodesSubject,
  jobsSubject,
  type NatsLayout,
  natsLayout,
} from '../../field/transport/nats-layout.ts';
import type { EpisodeIngest, IngestResult } from './episode-ingest.ts';
import { type DrillJob, type DrillJobSpec, type JobQueue, newDrillJob } from './job-board.ts';
import { type DeliveredBundle, NatsConsumerThread } from './nats-consumer.ts';

export interface NatsHubOptions {
  url: string;
  ingest: EpisodeIngest;
  layout?: Partial<NatsLayout> | undefined;
  /** Called for every field event (heartbeats) seen on `<prefix>.*.events`. */
  onEvent?: (field: string, event: unknown) => void;
  /** Called after each ingested bundle (tests, logs). */
  onIngest?: (result: IngestResult) => void;
  /** Called when a bundle is refused for good (terminated, not redelivered). */
  onReject?: (id: string, reason: string) => void;
}

/** Messages taken from NATS and not yet settled, at most (the consumer thread pauses there). */
const MAX_IN_FLIGHT = 512;
/** Times a field's subject is written to the stream before giving up (see `addField`). */
const ADD_SUBJECT_ATTEMPTS = 5;
/** Most bundles handed to the ingest as one batch. */
const BATCH_MESSAGES = 64;

/**
 * How long a delivered bundle may go unacknowledged before JetStream hands it out again. It bounds how
 * long the bundles a crashed hub had taken stay stuck after its restart (the chaos benchmark measured
 * ~50 s stalls at 60 s); a bundle still waiting for its commit gets a "working" ack every third of it.
 */
export const INGEST_ACK_WAIT_MS = 5000;

export class NatsHubLink implements JobQueue {
  private consumer: NatsConsumerThread | null = null;
  private events: Subscription | null = null;
  /** Ends when the last subject addition to the episodes stream ended (see `addField`). */
  private subjectsChanging: Promise<void> = Promise.resolve();
  /** Ingests handed bundles and not yet settled. */
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly layout: NatsLayout,
    private readonly opts: NatsHubOptions,
  ) {}

  static async start(opts: NatsHubOptions): Promise<NatsHubLink> {
    const nc = await connect({ servers: opts.url, maxReconnectAttempts: -1 });
    try {
      const jsm = await jetstreamManager(nc);
      const link = new NatsHubLink(nc, jetstream(nc), jsm, natsLayout(opts.layout), opts);
      await link.ensureStreams();
      await link.consume();
      link.listenForEvents();
      return link;
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  private async ensureStreams(): Promise<void> {
    const l = this.layout;
    const exists = async (name: string) => {
      try {
        await this.jsm.streams.info(name);
        return true;
      } catch {
        return false;
      }
    };
    if (!(await exists(l.episodesStream))) {
      // No subjects yet: each field's is added when it registers (see nats-layout.ts on overlaps).
      await this.jsm.streams.add({
        name: l.episodesStream,
        subjects: [`${l.prefix}._none_.episodes`],
        storage: StorageType.File,
        duplicate_window: nanos(10 * 60_000),
      });
    }
    if (!(await exists(l.jobsStream))) {
      await this.jsm.streams.add({
        name: l.jobsStream,
        subjects: [`${l.prefix}.jobs.*`],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      });
    }
    const existing = await this.jsm.consumers.info(l.episodesStream, l.ingestConsumer).catch(() => null);
    if (!existing) {
      await this.jsm.consumers.add(l.episodesStream, {
        durable_name: l.ingestConsumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(INGEST_ACK_WAIT_MS),
        max_ack_pending: 4096,
      });
    } else if (existing.config.ack_wait !== nanos(INGEST_ACK_WAIT_MS)) {
      await this.jsm.consumers.update(l.episodesStream, l.ingestConsumer, {
        ack_wait: nanos(INGEST_ACK_WAIT_MS),
      });
    }
  }

  /**
   * Lets field `field` publish bundles: adds its subject to the episodes stream (idempotent). A stream's
   * subjects change by read-modify-write of its whole config, so two fields registering at once could
   * each write a list without the other's subject, and that field's bundles would have no stream (seen:
   * one of 4 fields starting together never delivered). Here additions take turns, and each reads the
   * config back until its subject is there (another hub on the same stream may race it too).
   */
  addField(field: string): Promise<void> {
    const added = this.subjectsChanging.then(() => this.addSubject(episodesSubject(this.layout, field)));
    this.subjectsChanging = added.catch(() => {});
    return added;
  }

  private async addSubject(subject: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const info = await this.jsm.streams.info(this.layout.episodesStream);
      if (info.config.subjects?.includes(subject)) return;
      if (attempt > ADD_SUBJECT_ATTEMPTS) {
        throw new TgError(
          'STORAGE_FAILED',
          `could not add ${subject} to stream ${this.layout.episodesStream} (changed by others ${ADD_SUBJECT_ATTEMPTS} times)`,
        );
      }
      const subjects = [...(info.config.subjects ?? []).filter((s) => !s.includes('._none_.')), subject];
      await this.jsm.streams.update(this.layout.episodesStream, { ...info.config, subjects });
    }
  }

  async submit(spec: DrillJobSpec): Promise<DrillJob> {
    const job = newDrillJob(spec);
    await this.js.publish(jobsSubject(this.layout, job.field), JSON.stringify(job), { msgID: job.id });
    return job;
  }

  private async consume(): Promise<void> {
    this.consumer = await NatsConsumerThread.start(
      {
        url: this.opts.url,
        stream: this.layout.episodesStream,
        consumer: this.layout.ingestConsumer,
        maxInFlight: MAX_IN_FLIGHT,
        batchMessages: BATCH_MESSAGES,
        ackWaitMs: INGEST_ACK_WAIT_MS,
      },
      (buffer, bundles) => this.delivered(buffer, bundles),
      (message) => this.opts.onReject?.('?', `NATS consumer thread failed: ${message}`),
    );
  }

  /**
   * A delivery from the consumer thread: one bundle goes to the ingest alone, several as one batch (one
   * verification round trip). The buffer is the delivery's own, so the ingest may move it, not copy it.
   */
  private delivered(buffer: ArrayBuffer, bundles: DeliveredBundle[]): void {
    const consumer = this.consumer;
    if (!consumer) return;
    const upload = (b: DeliveredBundle) => ({
      bundle: new Uint8Array(buffer, b.offset, b.length),
      ...(b.sha256 ? { sha256: b.sha256 } : {}),
      ...(b.id ? { id: b.id } : {}),
    });
    const [only] = bundles;
    if (bundles.length === 1 && only) {
      const { bundle, ...expected } = upload(only);
      this.track(
        this.opts.ingest.ingest(bundle, expected, { handOver: true }).then(
          (result) => {
            consumer.settle([only.key], { action: 'ack' }); // after the catalog commit, never before
            this.opts.onIngest?.(result);
          },
          (err: unknown) => {
            if (isTgError(err) && err.code === 'NOT_FOUND') {
              // Robot not registered yet: it may be soon; try again later.
              consumer.settle([only.key], { action: 'nak', delayMs: 5000 });
            } else if (isTgError(err) && err.code === 'INPUT_INVALID') {
              consumer.settle([only.key], { action: 'term' });
              this.opts.onReject?.(only.id, err.message);
            } else {
              // Unexpected (storage) failure: leave it for redelivery.
              consumer.settle([only.key], { action: 'nak', delayMs: 2000 });
              this.opts.onReject?.(only.id || '?', (err as Error).message);
            }
          },
        ),
      );
      return;
    }
    const keys = bundles.map((b) => b.key);
    this.track(
      this.opts.ingest.ingestBatch(bundles.map(upload), { handOver: true }).then(
        (results) => {
          consumer.settle(keys, { action: 'ack' }); // after the catalog commit, never before
          for (const r of results) this.opts.onIngest?.(r);
        },
        // Refused as a whole (nothing was stored): again one at a time, so only the bad ones are refused.
        () => consumer.resend(keys),
      ),
    );
  }

  private track(done: Promise<void>): void {
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private listenForEvents(): void {
    const sub = this.nc.subscribe(`${this.layout.prefix}.*.events`);
    this.events = sub;
    void (async () => {
      for await (const m of sub) {
        const field = m.subject.split('.').at(-2) ?? '';
        try {
          this.opts.onEvent?.(field, m.json());
        } catch {
          // a malformed event is ignored
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.events?.unsubscribe();
    // What the ingest is committing gets its acks first; the rest is redelivered to the next consumer.
    await Promise.all(this.inFlight);
    await this.consumer?.close();
    await this.nc.drain().catch(() => this.nc.close());
  }
}
