/**
 * Runs `COPY (SELECT * FROM <frame source>()) TO <target> (...)` over a batch of episodes, on this thread or
 * on a worker thread.
 *
 * Why a worker: DuckDB pulls the frame source one chunk at a time through the event loop of the thread that
 * registered it (./frame-source.ts). On the caller's thread a COPY therefore advances only while the caller
 * is not computing (recording, quality checks, stats), and DuckDB waits out most of the caller's work. On a
 * worker whose event loop is otherwise idle, every chunk is served at once and DuckDB encodes in parallel
 * with the caller. The batch's buffers are transferred to the worker, not copied.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { spawnWorker } from '../../threads/index.ts';
import { type FrameBlock, type FrameColumn, FrameSource } from './frame-source.ts';

export interface FrameCopier {
  /** COPY `blocks` to `target`; `options` is the COPY option list (FORMAT, COMPRESSION, ...). */
  copy(blocks: FrameBlock[], target: string, options: string): Promise<void>;
  close(): Promise<void>;
}

/** The table function's name on the copier's own connection. */
const SOURCE = 'tg_episode_frames';

function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A frame source on a DuckDB connection of this thread. */
export class InlineCopier implements FrameCopier {
  private readonly source: FrameSource;

  /** `owned` is closed with the copier (the worker's); a caller's connection is left open. */
  constructor(
    private readonly db: DuckDBConnection,
    columns: readonly FrameColumn[],
    private readonly owned?: DuckDBInstance,
  ) {
    this.source = new FrameSource(db, SOURCE, columns, true);
  }

  /**
   * A copier with its own DuckDB instance on one thread: the COPY pipeline is single-threaded anyway, and
   * with more threads the idle ones spin on the task queue while the pipeline waits for the source.
   */
  static async create(columns: readonly FrameColumn[]): Promise<InlineCopier> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    try {
      return new InlineCopier(await instance.connect(), columns, instance);
    } catch (err) {
      instance.closeSync();
      throw err;
    }
  }

  async copy(blocks: FrameBlock[], target: string, options: string): Promise<void> {
    void this.source.load(blocks);
    try {
      await this.db.run(`COPY (SELECT * FROM ${SOURCE}()) TO ${quoteString(target)} (${options})`);
    } finally {
      this.source.unload();
    }
  }

  /**
   * One COPY over the blocks `next()` returns until it returns undefined. DuckDB calls `next` on this
   * thread, which it may block until the next block arrives: only a worker with nothing else to do can
   * stream (WorkerCopier).
   */
  async copyStream(next: () => FrameBlock | undefined, target: string, options: string): Promise<void> {
    void this.source.loadStream(next);
    try {
      await this.db.run(`COPY (SELECT * FROM ${SOURCE}()) TO ${quoteString(target)} (${options})`);
    } finally {
      this.source.unload();
    }
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    this.db.closeSync();
    this.owned.closeSync();
  }
}

/**
 * Messages to ./frame-copier-worker.ts, in order on one port: a whole batch (`copy`), or a stream (`begin`,
 * then its `block`s, then `end`). Replies come back on the worker's parent port, one per copy or stream.
 */
export type CopyRequest =
  | { kind: 'copy'; id: number; blocks: FrameBlock[]; target: string; options: string }
  | { kind: 'begin'; id: number; target: string; options: string }
  | { kind: 'block'; block: FrameBlock }
  | { kind: 'end' };
export type CopyReply = { id: number; error?: string } | { ready: true } | { failed: string };

/**
 * Shared between the two threads (Int32 slots): SIGNAL counts the requests posted (the worker sleeps on it
 * while a stream waits for its next block), CONSUMED the KiB of stream blocks the worker has taken (the
 * caller sleeps on it while too much is in flight), and whether each side sleeps: a wake-up is a system
 * call that, on a busy machine, can cost the waker its time slice, so neither side notifies a thread that
 * is not waiting.
 */
export const SIGNAL = 0;
export const CONSUMED = 1;
export const WORKER_WAITING = 2;
export const CALLER_WAITING = 3;

/** KiB of a block's buffers (rounded up), the unit of the CONSUMED counter. */
export function blockKib(block: FrameBlock): number {
  let bytes = 0;
  for (const c of block.columns) bytes += c.byteLength;
  return Math.ceil(bytes / 1024);
}

/** Atomics.waitAsync (Node >= 16; not in this TypeScript lib). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Stream blocks posted per wake-up of a sleeping worker (see post()). */
const WAKE_BLOCKS = 4;
/** How often a sleeping worker looks for blocks nobody woke it for. */
export const WORKER_POLL_MS = 10;

/** Buffers kept for reuse on this side, at most. */
const SPARE_BUFFERS = 32;

/** Stream blocks posted but not yet taken by DuckDB, at most (beyond it `room()` waits). */
const STREAM_AHEAD_KIB = 16 * 1024;

/** An open stream: one COPY on the worker fed block by block. */
export interface FrameStream {
  /** Hands one block to the COPY; its buffers move to the worker (detached here). */
  push(block: FrameBlock): void;
  /** Ends the stream; resolves once the COPY has finished writing. */
  end(): Promise<void>;
}

/**
 * A copier on a worker thread; requests run one after another in the order given. Besides whole batches it
 * streams: a COPY that starts before its frames exist and takes each block as it is pushed, so DuckDB
 * encodes episode k while the caller records episode k + 1 (no batch to fill first, none to drain last).
 */
export class WorkerCopier implements FrameCopier {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;
  /** KiB of stream blocks posted so far (wraps like the shared counter). */
  private posted = 0;
  private streaming = false;
  /** Blocks posted since the worker was last woken. */
  private unwoken = 0;
  /** Buffers of streamed blocks that DuckDB has copied, sent back by the worker for reuse. */
  private readonly spares: ArrayBuffer[] = [];

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly shared: Int32Array,
    private readonly returns: MessagePort,
  ) {
    // An idle worker does not keep the process alive; one with a COPY under way does.
    worker.unref();
    worker.on('message', (m: CopyReply) => {
      if (!('id' in m)) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) worker.unref();
      if (m.error === undefined) w?.resolve();
      else w?.reject(new Error(m.error));
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`frame copier worker exited (${code})`)));
  }

  /** Starts the worker; resolves once its DuckDB is open. */
  static start(columns: readonly FrameColumn[]): Promise<WorkerCopier> {
    const worker = spawnWorker(new URL('./frame-copier-worker.ts', import.meta.url), { columns });
    const shared = new Int32Array(new SharedArrayBuffer(16));
    const { port1, port2 } = new MessageChannel();
    const back = new MessageChannel();
    // Returned buffers are taken synchronously (spare()); the port never needs to keep the process alive.
    back.port1.unref();
    worker.postMessage({ port: port2, shared, returns: back.port2 }, [port2, back.port2]);
    return new Promise((resolve, reject) => {
      const onMessage = (m: CopyReply) => {
        if ('ready' in m) {
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(new WorkerCopier(worker, port1, shared, back.port1));
        } else if ('failed' in m) {
          void worker.terminate();
          port1.close();
          back.port1.close();
          reject(new Error(m.failed));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  private post(request: CopyRequest, transfer: ArrayBuffer[]): void {
    this.port.postMessage(request, transfer);
    Atomics.add(this.shared, SIGNAL, 1);
    // A sleeping worker is woken for every request but a stream's blocks, which it gets in fours (it also
    // looks every WORKER_POLL_MS): on a busy machine each wake-up can cost this thread its time slice.
    if (request.kind === 'block' && ++this.unwoken < WAKE_BLOCKS) return;
    this.unwoken = 0;
    if (Atomics.load(this.shared, WORKER_WAITING) === 1) Atomics.notify(this.shared, SIGNAL);
  }

  private request(make: (id: number) => [CopyRequest, ArrayBuffer[]]): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.post(...make(id));
    });
  }

  /** The blocks' buffers move to the worker (no copy): they are detached here once this is called. */
  copy(blocks: FrameBlock[], target: string, options: string): Promise<void> {
    if (this.streaming) return Promise.reject(new Error('frame copier: copy while a stream is open'));
    return this.request((id) => [{ kind: 'copy', id, blocks, target, options }, transferables(blocks)]);
  }

  /** Opens a stream to `target`; the COPY starts once the requests before it are done. */
  stream(target: string, options: string): FrameStream {
    if (this.streaming) throw new Error('frame copier: a stream is already open');
    this.streaming = true;
    let done: Promise<void> | undefined;
    const finished = this.request((id) => [{ kind: 'begin', id, target, options }, []]);
    // Rejections surface through end(); until then they must not count as unhandled.
    finished.catch(() => {});
    return {
      push: (block) => {
        if (done) throw new Error('frame copier: push after end');
        if (this.dead) throw this.dead;
        this.posted = (this.posted + blockKib(block)) | 0;
        this.post({ kind: 'block', block }, transferables([block]));
      },
      end: () => {
        if (!done) {
          this.streaming = false;
          if (!this.dead) this.post({ kind: 'end' }, []);
          done = finished;
        }
        return done;
      },
    };
  }

  /** Waits while the stream blocks not yet taken by DuckDB exceed STREAM_AHEAD_KIB (bounded memory). */
  async room(): Promise<void> {
    for (;;) {
      if (this.dead) throw this.dead;
      Atomics.store(this.shared, CALLER_WAITING, 1);
      const consumed = Atomics.load(this.shared, CONSUMED);
      if (((this.posted - consumed) | 0) <= STREAM_AHEAD_KIB) {
        Atomics.store(this.shared, CALLER_WAITING, 0);
        return;
      }
      // (The timeout only bounds a wait on a worker that died without a word.)
      const wait = waitAsync(this.shared, CONSUMED, consumed, 1000);
      if (wait.async) await wait.value;
      Atomics.store(this.shared, CALLER_WAITING, 0);
    }
  }

  /**
   * A buffer of at least `bytes` (and at most twice that) that a stream has finished with, if the worker
   * has sent one back: its contents are stale. Saves allocating, zeroing and collecting one per episode.
   */
  spare(bytes: number): ArrayBuffer | undefined {
    for (let m = receiveMessageOnPort(this.returns); m; m = receiveMessageOnPort(this.returns)) {
      for (const buffer of m.message as ArrayBuffer[])
        if (this.spares.length < SPARE_BUFFERS) this.spares.push(buffer);
    }
    for (let i = this.spares.length - 1; i >= 0; i--) {
      const buffer = this.spares[i] as ArrayBuffer;
      if (buffer.byteLength >= bytes && buffer.byteLength <= 2 * bytes) {
        this.spares[i] = this.spares[this.spares.length - 1] as ArrayBuffer;
        this.spares.pop();
        return buffer;
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.port.close();
    this.returns.close();
    await this.worker.terminate();
  }
}

/** The distinct buffers of the blocks' columns (moved, not copied, to the worker). */
function transferables(blocks: readonly FrameBlock[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const b of blocks) for (const c of b.columns) buffers.add(c.buffer as ArrayBuffer);
  return [...buffers];
}
