/**
 * The hub's JetStream bundle consumer on a thread of its own (./nats-consumer-worker.ts). Reading NATS
 * (protocol parsing, reassembly of chunked bundles, copies, acks) costs as much CPU as the uploads it
 * carries and, on the hub's main thread, its garbage stalled API answers (major GC pauses of 65 ms measured
 * at 300k frames/s). The thread delivers bundles in batches, each batch in one transferred buffer, and
 * keeps every message until the main thread settles it: acked after the catalog commit, never before.
 */
import { TgError } from '../../errors/index.ts';
import { spawnWorker } from '../../threads/index.ts';

const WORKER = new URL('./nats-consumer-worker.ts', import.meta.url);

export interface NatsConsumerConfig {
  url: string;
  stream: string;
  consumer: string;
  /** Messages taken and not yet settled, at most (the consumer pauses at this many). */
  maxInFlight: number;
  /** Most bundles delivered as one batch. */
  batchMessages: number;
  /** The consumer's ack wait: held messages get a "working" ack every third of it. */
  ackWaitMs: number;
}

/** One bundle of a delivery: `length` bytes at `offset` of the delivery's buffer. */
export interface DeliveredBundle {
  key: number;
  /** The episode id and bundle sha256 the publisher claimed ('' / undefined when it did not say). */
  id: string;
  sha256: string | undefined;
  offset: number;
  length: number;
}

/** What the main thread does with a delivered bundle's messages. */
export type Settlement = { action: 'ack' } | { action: 'term' } | { action: 'nak'; delayMs: number };

export type ConsumerRequest =
  | ({ type: 'settle'; keys: number[] } & Settlement)
  /** Deliver these bundles again, one per delivery (a batch the ingest refused as a whole). */
  | { type: 'resend'; keys: number[] }
  | { type: 'close' };

export type ConsumerReply =
  | { type: 'ready' }
  | { type: 'bundles'; buffer: ArrayBuffer; bundles: DeliveredBundle[] }
  | { type: 'closed' }
  | { type: 'error'; message: string };

export class NatsConsumerThread {
  private closing = false;
  private constructor(private readonly worker: ReturnType<typeof spawnWorker>) {}

  /**
   * Starts the thread and resolves once it consumes. `onBundles` gets each delivery; `onFailure` hears of a
   * thread that failed after it started (its messages are redelivered to whoever consumes next).
   */
  static async start(
    config: NatsConsumerConfig,
    onBundles: (buffer: ArrayBuffer, bundles: DeliveredBundle[]) => void,
    onFailure: (message: string) => void,
  ): Promise<NatsConsumerThread> {
    const worker = spawnWorker(WORKER, { ...config });
    const thread = new NatsConsumerThread(worker);
    const started = new Promise<void>((resolve, reject) => {
      let started = false;
      const fail = (message: string) => {
        if (!started) reject(new TgError('STORAGE_FAILED', `NATS consumer thread: ${message}`));
        else if (!thread.closing) onFailure(message);
      };
      worker.on('message', (m: ConsumerReply) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
        } else if (m.type === 'bundles') onBundles(m.buffer, m.bundles);
        else if (m.type === 'error') fail(m.message);
      });
      worker.on('error', (err) => fail(err.message));
      worker.on('exit', (code) => fail(`exited (code ${code})`));
    });
    try {
      await started;
    } catch (err) {
      thread.closing = true;
      await worker.terminate();
      throw err;
    }
    return thread;
  }

  settle(keys: number[], settlement: Settlement): void {
    if (keys.length > 0) this.post({ type: 'settle', keys, ...settlement });
  }

  resend(keys: number[]): void {
    if (keys.length > 0) this.post({ type: 'resend', keys });
  }

  /** Stops consuming; messages not settled yet are redelivered (after the ack wait) to the next consumer. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => {
      this.worker.on('message', (m: ConsumerReply) => {
        if (m.type === 'closed') resolve();
      });
      this.worker.once('exit', () => resolve());
    });
    this.post({ type: 'close' });
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
    await this.worker.terminate();
  }

  private post(m: ConsumerRequest): void {
    this.worker.postMessage(m); // a no-op once the thread ended
  }
}
