/**
 * The field's durable spool: every recorded episode is written here before anything tries to send it, so
 * a field that loses its link (or its power) keeps every episode and delivers them later, in order.
 *
 * On disk: `<dir>/<seq>-<id>.tgep`, `seq` zero-padded so names sort in recording order. A bundle is
 * written to `<dir>/.tmp-...`, fsync'd, renamed to its final name and the directory fsync'd (POSIX rename
 * is atomic), so after a crash a visible entry is always whole; leftover temp files are removed on open.
 * An entry is deleted only by `ack`, i.e. after the hub confirmed it.
 *
 * Backpressure: `append` waits while the spool holds `maxBytes` or more, so whoever records (the drill)
 * pauses instead of filling the disk.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import { BUNDLE_EXTENSION } from '../transfer/index.ts';

export interface SpoolEntry {
  seq: number;
  id: string;
  /** Absolute path of the bundle file. */
  file: string;
  bytes: number;
}

export interface SpoolOptions {
  /** Spool directory, normally `<TG_HOME>/spool`. */
  dir: string;
  /** Appends wait while the spool holds this many bytes or more (default 1 GiB). */
  maxBytes?: number;
}

export interface SpoolStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  /** True while an append is waiting for space. */
  full: boolean;
}

const ENTRY_NAME = /^(\d{12})-([0-9a-f]{64})\.tgep$/;
const TEMP_PREFIX = '.tmp-';
const SEQ_DIGITS = 12;

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly queue: SpoolEntry[] = [];
  private bytes = 0;
  private nextSeq = 1;
  private waitingForSpace = 0;
  private spaceWaiters: Array<() => void> = [];
  private entryWaiters: Array<() => void> = [];

  private constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 1024 ** 3;
  }

  /** Opens (creating) the spool, removes half-written temp files, and loads the queue in order. */
  static open(opts: SpoolOptions): Spool {
    const spool = new Spool(opts);
    try {
      mkdirSync(spool.dir, { recursive: true });
      for (const name of readdirSync(spool.dir)) {
        const file = path.join(spool.dir, name);
        if (name.startsWith(TEMP_PREFIX)) {
          unlinkSync(file); // a crash mid-write: never renamed, so never an entry
          continue;
        }
        const m = ENTRY_NAME.exec(name);
        if (!m) continue;
        const seq = Number(m[1]);
        spool.queue.push({ seq, id: m[2] as string, file, bytes: statSync(file).size });
      }
    } catch (err) {
      throw new TgError('STORAGE_FAILED', `spool ${spool.dir}: ${(err as Error).message}`, { cause: err });
    }
    spool.queue.sort((a, b) => a.seq - b.seq);
    for (const e of spool.queue) spool.bytes += e.bytes;
    spool.nextSeq = (spool.queue.at(-1)?.seq ?? 0) + 1;
    return spool;
  }

  get stats(): SpoolStats {
    return {
      entries: this.queue.length,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      full: this.waitingForSpace > 0,
    };
  }

  /** The entries not yet acknowledged, oldest first. */
  entries(): SpoolEntry[] {
    return [...this.queue];
  }

  /** The oldest entry, or undefined when the spool is empty. */
  first(): SpoolEntry | undefined {
    return this.queue[0];
  }

  /**
   * Durably appends a bundle (waiting for space first when the spool is full). Resolves once the entry is
   * on disk under its final name. `signal` aborts a wait for space (the entry is then not written).
   */
  async append(id: string, bundle: Uint8Array, signal?: AbortSignal): Promise<SpoolEntry> {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new TgError('INPUT_INVALID', `spool: bad episode id ${id}`);
    await this.waitForSpace(signal);
    const seq = this.nextSeq++;
    const name = `${String(seq).padStart(SEQ_DIGITS, '0')}-${id}${BUNDLE_EXTENSION}`;
    const file = path.join(this.dir, name);
    const temp = path.join(this.dir, `${TEMP_PREFIX}${name}-${process.pid}`);
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(bundle);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      await this.syncDir();
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw new TgError('STORAGE_FAILED', `spool: writing ${name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const entry: SpoolEntry = { seq, id, file, bytes: bundle.byteLength };
    this.queue.push(entry);
    this.bytes += entry.bytes;
    for (const wake of this.entryWaiters.splice(0)) wake();
    return entry;
  }

  async read(entry: SpoolEntry): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(entry.file));
    } catch (err) {
      throw new TgError('STORAGE_FAILED', `spool: reading ${entry.file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The hub has the entry: delete it and free its space. */
  async ack(entry: SpoolEntry): Promise<void> {
    if (!this.queue.some((e) => e.seq === entry.seq)) return;
    await unlink(entry.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await this.syncDir();
    // Looked up after the awaits: concurrent acks (a delivered batch) move the entries meanwhile.
    const i = this.queue.findIndex((e) => e.seq === entry.seq);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.bytes -= entry.bytes;
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  /** Moves an entry the hub refused for good (a corrupt bundle) out of the queue into `rejected/`. */
  async reject(entry: SpoolEntry): Promise<string> {
    const dir = path.join(this.dir, 'rejected');
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, path.basename(entry.file));
    await rename(entry.file, target);
    const i = this.queue.findIndex((e) => e.seq === entry.seq);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.bytes -= entry.bytes;
    }
    for (const wake of this.spaceWaiters.splice(0)) wake();
    return target;
  }

  /** Resolves when the spool has an entry (at once if it has one), or when `signal` aborts. */
  waitForEntry(signal?: AbortSignal): Promise<void> {
    if (this.queue.length > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.entryWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private async waitForSpace(signal?: AbortSignal): Promise<void> {
    if (this.bytes < this.maxBytes) return;
    this.waitingForSpace++;
    try {
      while (this.bytes >= this.maxBytes) {
        if (signal?.aborted) throw new TgError('INTERRUPTED', 'spool: stopped while waiting for space');
        await new Promise<void>((resolve) => {
          const done = () => {
            signal?.removeEventListener('abort', done);
            resolve();
          };
          this.spaceWaiters.push(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      this.waitingForSpace--;
    }
  }

  /** fsync the directory so the rename (or unlink) itself survives a power loss. */
  private async syncDir(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
