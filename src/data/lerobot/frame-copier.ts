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
import type { Worker } from 'node:worker_threads';
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

  async close(): Promise<void> {
    if (!this.owned) return;
    this.db.closeSync();
    this.owned.closeSync();
  }
}

/** Messages to ./frame-copier-worker.ts and its replies. */
export interface CopyRequest {
  id: number;
  blocks: FrameBlock[];
  target: string;
  options: string;
}
export type CopyReply = { id: number; error?: string } | { ready: true } | { failed: string };

/** A copier on a worker thread; requests run one after another in the order given. */
export class WorkerCopier implements FrameCopier {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
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
    return new Promise((resolve, reject) => {
      const onMessage = (m: CopyReply) => {
        if ('ready' in m) {
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(new WorkerCopier(worker));
        } else if ('failed' in m) {
          void worker.terminate();
          reject(new Error(m.failed));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  /** The blocks' buffers move to the worker (no copy): they are detached here once this is called. */
  copy(blocks: FrameBlock[], target: string, options: string): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const buffers = new Set<ArrayBuffer>();
    for (const b of blocks) for (const c of b.columns) buffers.add(c.buffer as ArrayBuffer);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, blocks, target, options } satisfies CopyRequest, [...buffers]);
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
