/**
 * Drains the spool to the hub, oldest entry first, one at a time (so the hub sees episodes in recording
 * order). A failed send is retried with exponential backoff and jitter, forever: the entry stays spooled
 * until the hub confirmed it. A bundle the hub refuses for good is moved to `spool/rejected/` so one bad
 * file cannot block the queue.
 */
import type { Spool, SpoolEntry } from './spool/index.ts';
import { type EpisodeTransport, type SendResult, TransportError } from './transport/transport.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000 };

export interface UploaderOptions {
  spool: Spool;
  transport: EpisodeTransport;
  backoff?: BackoffOptions;
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
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private idleWaiters: Array<() => void> = [];

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
    const { spool, transport } = this.opts;
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    const signal = this.abort.signal;
    let delayMs = backoff.initialMs;
    while (!signal.aborted) {
      const entry = spool.first();
      if (!entry) {
        for (const wake of this.idleWaiters.splice(0)) wake();
        await spool.waitForEntry(signal);
        continue;
      }
      try {
        const result = await transport.send(entry.id, await spool.read(entry));
        await spool.ack(entry);
        this.connected = true;
        this.delivered++;
        if (result === 'duplicate') this.duplicates++;
        delayMs = backoff.initialMs;
        this.opts.onDelivered?.(entry, result);
      } catch (err) {
        const reason = (err as Error).message;
        if (err instanceof TransportError && err.permanent) {
          this.connected = true;
          await spool.reject(entry);
          this.opts.onRejected?.(entry, reason);
          continue;
        }
        this.connected = err instanceof TransportError && err.unknownRobot;
        if (err instanceof TransportError && err.unknownRobot)
          await this.opts.onUnknownRobot?.().catch(() => {});
        // Full jitter around the current step keeps N fields from retrying in lock-step after an outage.
        const wait = Math.round(delayMs / 2 + Math.random() * (delayMs / 2));
        this.opts.onRetry?.(entry, reason, wait);
        await sleep(wait, signal);
        delayMs = Math.min(backoff.maxMs, delayMs * 2);
      }
    }
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
