/**
 * The hub's end of the NATS transport: creates the streams, consumes bundles through a durable pull
 * consumer and acknowledges each message only after the episode is committed to the catalog (so a hub
 * crash mid-ingest redelivers it; the catalog's content-hash ids make the redelivery harmless), puts drill
 * jobs on the work queue, and listens to field events. Layout: src/field/transport/nats-layout.ts.
 *
 * Messages are handed to the ingest as they arrive, without waiting for each commit: the ingest queues
 * them in arrival order and commits them in groups, and each message is acked when its group committed.
 * Bundles that arrive together go to the ingest as one batch (one verification round trip instead of
 * one each); a batch the ingest refuses (it is all or nothing) is handed over again one bundle at a
 * time, so only the bad ones are refused. At most `MAX_IN_FLIGHT` bundles wait for their commit.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos, type Subscription } from '@nats-io/transport-node';
import { isTgError } from '../../errors/index.ts';
import {
  episodesSubject,
  HDR_CHUNK,
  HDR_CHUNKS,
  HDR_EPISODE_ID,
  HDR_SHA256,
  jobsSubject,
  type NatsLayout,
  natsLayout,
} from '../../field/transport/nats-layout.ts';
import type { EpisodeIngest, IngestResult } from './episode-ingest.ts';
import { type DrillJob, type DrillJobSpec, type JobQueue, newDrillJob } from './job-board.ts';

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

/** Bundles handed to the ingest and not yet committed, at most. */
const MAX_IN_FLIGHT = 512;
/** Messages taken from the consumer between two turns of the event loop. */
const YIELD_EVERY_MESSAGES = 32;
/** Most bundles handed to the ingest as one batch. */
const BATCH_MESSAGES = 64;

/**
 * How long a delivered bundle may go unacknowledged before JetStream hands it out again. It bounds how
 * long the bundles a crashed hub had taken stay stuck after its restart (the chaos benchmark measured
 * ~50 s stalls at 60 s); a bundle still waiting for its commit gets a "working" ack every third of it.
 */
export const INGEST_ACK_WAIT_MS = 5000;

interface Assembly {
  parts: Array<Uint8Array | undefined>;
  received: number;
  msgs: JsMsg[];
}

export class NatsHubLink implements JobQueue {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> = Promise.resolve();
  private events: Subscription | null = null;
  private readonly assemblies = new Map<string, Assembly>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Messages taken and not yet acked, nak'ed or terminated (chunks waiting for the rest included). */
  private readonly held = new Set<JsMsg>();
  /** Single-message bundles not yet handed to the ingest (see `flush`). */
  private pending: Array<{ id: string; bundle: Uint8Array; sha256: string | undefined; msg: JsMsg }> = [];
  private flushing = false;
  private keepAlive: ReturnType<typeof setInterval> | null = null;

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

  /** Lets field `field` publish bundles: adds its subject to the episodes stream (idempotent). */
  async addField(field: string): Promise<void> {
    const subject = episodesSubject(this.layout, field);
    const info = await this.jsm.streams.info(this.layout.episodesStream);
    if (info.config.subjects?.includes(subject)) return;
    const subjects = [...(info.config.subjects ?? []).filter((s) => !s.includes('._none_.')), subject];
    await this.jsm.streams.update(this.layout.episodesStream, { ...info.config, subjects });
  }

  async submit(spec: DrillJobSpec): Promise<DrillJob> {
    const job = newDrillJob(spec);
    await this.js.publish(jobsSubject(this.layout, job.field), JSON.stringify(job), { msgID: job.id });
    return job;
  }

  private async consume(): Promise<void> {
    const consumer = await this.js.consumers.get(this.layout.episodesStream, this.layout.ingestConsumer);
    const messages = await consumer.consume({ max_messages: 64 });
    this.messages = messages;
    this.keepAlive = setInterval(() => {
      for (const m of this.held) m.working();
    }, INGEST_ACK_WAIT_MS / 3);
    this.loop = (async () => {
      let handled = 0;
      for await (const msg of messages) {
        this.handle(msg);
        if (this.held.size >= MAX_IN_FLIGHT) this.flush();
        while (this.held.size >= MAX_IN_FLIGHT && this.inFlight.size > 0) await Promise.race(this.inFlight);
        // Buffered messages come back to back as microtasks: let HTTP requests in between now and then.
        if (++handled % YIELD_EVERY_MESSAGES === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      this.flush();
      await Promise.all(this.inFlight);
    })();
  }

  private handle(msg: JsMsg): void {
    this.held.add(msg);
    const id = msg.headers?.get(HDR_EPISODE_ID) ?? '';
    const sha256 = msg.headers?.get(HDR_SHA256) || undefined;
    const chunks = Number(msg.headers?.get(HDR_CHUNKS) || '1');
    if (chunks <= 1) {
      this.pending.push({ id, bundle: msg.data, sha256, msg });
      if (this.pending.length >= BATCH_MESSAGES) this.flush();
      else if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
      return;
    }
    const index = Number(msg.headers?.get(HDR_CHUNK));
    if (!Number.isInteger(index) || index < 0 || index >= chunks || chunks > 100_000) {
      this.held.delete(msg);
      msg.term(); // bad chunk headers (no reason: see below)
      return;
    }
    let a = this.assemblies.get(id);
    if (!a || a.parts.length !== chunks) {
      a = { parts: Array.from({ length: chunks }, () => undefined), received: 0, msgs: [] };
      this.assemblies.set(id, a);
    }
    if (a.parts[index] === undefined) a.received++;
    a.parts[index] = msg.data;
    a.msgs.push(msg);
    if (a.received < chunks) return; // wait for the rest (all acked together after the commit)
    this.assemblies.delete(id);
    const bundle = Buffer.concat(a.parts as Uint8Array[]);
    this.ingest(id, new Uint8Array(bundle.buffer, bundle.byteOffset, bundle.byteLength), sha256, a.msgs);
  }

  /** Hands the pending single-message bundles to the ingest, as one batch. */
  private flush(): void {
    this.flushing = false;
    const items = this.pending.splice(0);
    if (items.length === 0) return;
    const [only] = items;
    if (items.length === 1 && only) {
      this.ingest(only.id, only.bundle, only.sha256, [only.msg]);
      return;
    }
    const done = this.opts.ingest
      .ingestBatch(items.map((i) => ({ bundle: i.bundle, sha256: i.sha256, id: i.id || undefined })))
      .then(
        (results) => {
          for (const [k, i] of items.entries()) {
            i.msg.ack(); // after the catalog commit, never before
            this.held.delete(i.msg);
            this.opts.onIngest?.(results[k] as IngestResult);
          }
        },
        () => {
          // Refused as a whole: one at a time, so only the bad ones are refused (nothing was stored).
          for (const i of items) this.ingest(i.id, i.bundle, i.sha256, [i.msg]);
        },
      );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Hands a bundle to the ingest now (so it keeps its place in line) and acks its messages on commit. */
  private ingest(id: string, bundle: Uint8Array, sha256: string | undefined, msgs: JsMsg[]): void {
    const done = this.opts.ingest
      .ingest(bundle, { ...(sha256 ? { sha256 } : {}), ...(id ? { id } : {}) })
      .then(
        (result) => {
          for (const m of msgs) m.ack(); // after the catalog commit, never before
          for (const m of msgs) this.held.delete(m);
          this.opts.onIngest?.(result);
        },
        (err: unknown) => {
          for (const m of msgs) this.held.delete(m);
          if (isTgError(err) && err.code === 'NOT_FOUND') {
            // Robot not registered yet: it may be soon; try again later.
            for (const m of msgs) m.nak(5000);
          } else if (isTgError(err) && err.code === 'INPUT_INVALID') {
            // No reason on the term: servers before 2.10.4 ignore a "+TERM <reason>" (the message then stays
            // pending and is redelivered forever); onReject has the reason.
            for (const m of msgs) m.term();
            this.opts.onReject?.(id, err.message);
          } else {
            // Unexpected (storage) failure: leave it for redelivery.
            for (const m of msgs) m.nak(2000);
            this.opts.onReject?.(id || '?', (err as Error).message);
          }
        },
      );
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
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.events?.unsubscribe();
    await this.messages?.close();
    await this.loop.catch(() => {});
    await this.nc.drain().catch(() => this.nc.close());
  }
}
