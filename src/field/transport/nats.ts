/**
 * Episode transport over NATS JetStream: a bundle is published to `<prefix>.<field>.episodes` with
 * `Nats-Msg-Id` = episode id, so JetStream drops a re-send inside its duplicate window, and the hub's
 * catalog (idempotent by id) drops any later one. `send` resolves when the stream has stored the message
 * (the hub's durable consumer acks it only after the catalog commit).
 *
 * Bundles over the server's max payload (1 MiB by default) are split into chunks, each its own message
 * (`Nats-Msg-Id` = `<id>:<i>/<n>`, headers Tg-Chunk/Tg-Chunks), and reassembled by the hub. Chunking was
 * chosen over the object store: it needs no extra bucket per field, keeps one stream with one ack path,
 * and keeps the leaf-node subject layout.
 */
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { bundleSha256 } from '../transfer/index.ts';
import {
  CHUNK_HEADROOM_BYTES,
  episodesSubject,
  eventsSubject,
  HDR_CHUNK,
  HDR_CHUNKS,
  HDR_EPISODE_ID,
  HDR_SHA256,
  type NatsLayout,
  natsLayout,
} from './nats-layout.ts';
import { type EpisodeTransport, type OutgoingEpisode, type SendResult, TransportError } from './transport.ts';

export interface NatsTransportOptions {
  /** TG_NATS_URL, e.g. nats://127.0.0.1:4222 */
  url: string;
  field: string;
  layout?: Partial<NatsLayout>;
  /** Largest message sent; default: the server's max_payload. */
  maxMessageBytes?: number;
}

export class NatsEpisodeTransport implements EpisodeTransport {
  private constructor(
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly field: string,
    readonly layout: NatsLayout,
    private readonly chunkBytes: number,
  ) {}

  static async connect(opts: NatsTransportOptions): Promise<NatsEpisodeTransport> {
    let nc: NatsConnection;
    try {
      // waitOnFirstConnect + endless reconnects: a field that starts while the link is down keeps trying.
      nc = await connect({ servers: opts.url, waitOnFirstConnect: true, maxReconnectAttempts: -1 });
    } catch (err) {
      throw new TransportError(`NATS ${opts.url} unreachable: ${(err as Error).message}`, false, false, {
        cause: err,
      });
    }
    const max = Math.min(
      opts.maxMessageBytes ?? Number.POSITIVE_INFINITY,
      nc.info?.max_payload ?? 1024 * 1024,
    );
    const chunkBytes = Math.max(1024, max - CHUNK_HEADROOM_BYTES);
    return new NatsEpisodeTransport(nc, jetstream(nc), opts.field, natsLayout(opts.layout), chunkBytes);
  }

  async send(id: string, bundle: Uint8Array): Promise<SendResult> {
    const subject = episodesSubject(this.layout, this.field);
    const sha256 = bundleSha256(bundle);
    const n = Math.max(1, Math.ceil(bundle.byteLength / this.chunkBytes));
    let stored = false;
    for (let i = 0; i < n; i++) {
      const h = headers();
      h.set(HDR_EPISODE_ID, id);
      h.set(HDR_SHA256, sha256);
      if (n > 1) {
        h.set(HDR_CHUNK, String(i));
        h.set(HDR_CHUNKS, String(n));
      }
      const part = bundle.subarray(
        i * this.chunkBytes,
        Math.min(bundle.byteLength, (i + 1) * this.chunkBytes),
      );
      try {
        const ack = await this.js.publish(subject, part, {
          msgID: n > 1 ? `${id}:${i}/${n}` : id,
          headers: h,
          timeout: 10_000,
        });
        if (!ack.duplicate) stored = true;
      } catch (err) {
        // No stream for the subject (field not registered yet), timeouts, a lost link: all retried.
        throw new TransportError(`NATS publish of episode ${id}: ${(err as Error).message}`, false, false, {
          cause: err,
        });
      }
    }
    return stored ? 'stored' : 'duplicate';
  }

  /**
   * Publishes a batch without waiting for each acknowledgement in turn: every publish is issued in order
   * (so the stream keeps the spool's order), then all acks are awaited. A bundle that needs chunks goes
   * on its own, after the ones before it are stored.
   */
  async sendBatch(episodes: readonly OutgoingEpisode[]): Promise<SendResult[]> {
    const results: Promise<SendResult>[] = [];
    for (const e of episodes) {
      if (e.bundle.byteLength > this.chunkBytes) {
        await Promise.all(results);
        results.push(Promise.resolve(await this.send(e.id, e.bundle)));
      } else {
        results.push(this.send(e.id, e.bundle));
      }
    }
    return Promise.all(results);
  }

  /** Fire-and-forget event on `<prefix>.<field>.events` (heartbeats, drill progress). */
  publishEvent(event: Record<string, unknown>): void {
    try {
      this.nc.publish(eventsSubject(this.layout, this.field), JSON.stringify(event));
    } catch {
      // events are best effort; the link may be down
    }
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}
