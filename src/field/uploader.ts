/**
 * Drains the spool to the hub, oldest entry first (so the hub sees episodes in recording order). When the
 * spool holds a backlog and the transport takes batches, up to `batch.maxEpisodes` entries go in one
 * request, in order, and are acknowledged together; otherwise one at a time. A failed send is retried with
 * exponential backoff and jitter, forever: an entry stays spooled until the hub confirmed it. A bundle the
 * hub refuses for good is moved to `spool/rejected/` so one bad file cannot block the queue (a refused
 * batch is re-sent one entry at a time, so only the bad entry is set aside).
 */
import type { Spool, SpoolEntry } from './spool/index.ts';
import {
  type EpisodeTransport,
  HUB_DOWN_MAX_MS,
  hubDown,
  type SendResult,
  TransportError,
} from './transport/transport.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /**
   * Longest step while nothing listens at the hub's address (a refused connection, `hubDown`): such a
   * retry costs the hub nothing, and a restarted hub should get the backlog within about this long of
   * coming back, not one long backoff step later (default 2 s).
   */
  downMaxMs?: number;
}

export interface BatchOptions {
  /** Most entries per request (1: no batches). */
  maxEpisodes: number;
  /** Most bundle bytes per request (a single larger entry still goes, alone). */
  maxBytes: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000, downMaxMs: HUB_DOWN_MAX_MS };
export const DEFAULT_BATCH: BatchOptions = { maxEpisodes: 64, maxBytes: 8 * 1024 * 1024 };

export interface UploaderOptions {
  spool: Spool;
  transport: EpisodeTransport;
  backoff?: BackoffOptions;
  batch?: BatchOptions;
  /** Called when the hub does not know a robot: re-register the field's robots. */
  onUnknownRobot?: () => Promise<void>;
  onDelivered?: (entry: SpoolEntry, result: SendResult) => void;
  onRejected?: (entry: SpoolEntry, reason: string) => void;
  onRetry?: (entry: SpoolEntry, reason: string, delayMs: number) => void;
}

export class Uploader {
  /** Whether the last attempt reached the hub. */
  connected = false;
  delivered = 0;
  duplicates = 0;
  /** Requests that carried more than one entry. */
  batches = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private idleWaiters: Array<() => void> = [];
  /** After a refused batch, this many entries go one at a time. */
  private singles = 0;

  constructor(private readonly opts: UploaderOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves once the spool is empty (everything delivered). */
  drained(): Promise<void> {
    if (this.opts.spool.stats.entries === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { spool } = this.opts;
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    const signal = this.abort.signal;
    let delayMs = backoff.initialMs;
    while (!signal.aborted) {
      const entries = this.next();
      const first = entries[0];
      if (!first) {
        for (const wake of this.idleWaiters.splice(0)) wake();
        await spool.waitForEntry(signal);
        continue;
      }
      try {
        const results = await this.deliver(entries);
        await Promise.all(entries.map((e) => spool.ack(e)));
        this.connected = true;
        delayMs = backoff.initialMs;
        for (const [i, entry] of entries.entries()) {
          const result = results[i] as SendResult;
          this.delivered++;
          if (result === 'duplicate') this.duplicates++;
          this.opts.onDelivered?.(entry, result);
        }
      } catch (err) {
        const reason = (err as Error).message;
        if (err instanceof TransportError && err.permanent) {
          this.connected = true;
          if (entries.length > 1) {
            this.singles = entries.length; // find the bad one: one at a time
            continue;
          }
          if (this.singles > 0) this.singles--;
          await spool.reject(first);
          this.opts.onRejected?.(first, reason);
          continue;
        }
        this.connected = err instanceof TransportError && err.unknownRobot;
        if (err instanceof TransportError && err.unknownRobot)
          await this.opts.onUnknownRobot?.().catch(() => {});
        // The step keeps growing while the hub is down, so a hub that comes back busy is still spared.
        const step = hubDown(err) ? Math.min(delayMs, backoff.downMaxMs ?? HUB_DOWN_MAX_MS) : delayMs;
        // Full jitter around the current step keeps N fields from retrying in lock-step after an outage.
        const wait = Math.round(step / 2 + Math.random() * (step / 2));
        this.opts.onRetry?.(first, reason, wait);
        await sleep(wait, signal);
        delayMs = Math.min(backoff.maxMs, delayMs * 2);
      }
    }
  }

  /** The entries to send next: the oldest one, and those after it that fit one batch. */
  private next(): SpoolEntry[] {
    const { spool, transport } = this.opts;
    const batch = this.opts.batch ?? DEFAULT_BATCH;
    const first = spool.first();
    if (!first) return [];
    if (this.singles > 0 || !transport.sendBatch || batch.maxEpisodes <= 1 || spool.stats.entries === 1) {
      return [first];
    }
    const out: SpoolEntry[] = [];
    let bytes = 0;
    for (const e of spool.entries()) {
      if (out.length === batch.maxEpisodes || (out.length > 0 && bytes + e.bytes > batch.maxBytes)) break;
      out.push(e);
      bytes += e.bytes;
    }
    return out;
  }

  private async deliver(entries: SpoolEntry[]): Promise<SendResult[]> {
    const { spool, transport } = this.opts;
    if (entries.length === 1 || !transport.sendBatch) {
      const entry = entries[0] as SpoolEntry;
      const result = await transport.send(entry.id, await spool.read(entry));
      if (this.singles > 0) this.singles--;
      return [result];
    }
    const bundles = await Promise.all(entries.map((e) => spool.read(e)));
    const results = await transport.sendBatch(entries.map((e, i) => ({ id: e.id, bundle: bundles[i]! })));
    this.batches++;
    return results;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
