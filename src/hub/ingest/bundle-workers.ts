/**
 * Where the hub's ingest verifies bundles and writes blobs: worker threads (./bundle-worker.ts), so the
 * thread that serves HTTP and runs the catalog does neither the hashing and parsing nor the file system
 * calls; with `threads: 0`, on the calling thread (same results, same errors).
 *
 * A unit (one upload or a batch) is verified as a whole: its bytes are copied once into a buffer handed to
 * one thread, which keeps them under a ticket until the hub says which to write (`write`) or that none are
 * kept (`drop`). Every ticket must end with one of the two.
 */
import type { Worker } from 'node:worker_threads';
import { TgError } from '../../errors/index.ts';
import { spawnWorker } from '../../threads/index.ts';
import type { BlobStore, HashedBlob, WrittenPack } from '../blobs/index.ts';
import { type BundleUpload, type VerifiedUpload, verifyUpload } from './verify.ts';

/** Which uploads of a verified unit (its ticket) to write. */
export interface WritePart {
  ticket: number;
  indexes: number[];
}

export interface WorkerData {
  root: string;
  maxBundleBytes: number;
}

export type WorkerRequest =
  | {
      type: 'verify';
      ticket: number;
      buffer: ArrayBuffer;
      entries: Array<{
        offset: number;
        length: number;
        sha256?: string | undefined;
        id?: string | undefined;
      }>;
    }
  /** Writes uploads `indexes` of each part's unit as one pack; `ticket` names the request. */
  | { type: 'write'; ticket: number; parts: WritePart[]; durable: boolean }
  | { type: 'drop'; ticket: number };

export type WorkerReply =
  | { type: 'verified'; ticket: number; verified: VerifiedUpload[] }
  | { type: 'refused'; ticket: number; index: number; code: string; message: string }
  | { type: 'written'; ticket: number; pack: WrittenPack | null }
  | { type: 'failed'; ticket: number; message: string };

/** Upload `index` of a unit was refused (the unit with it). */
export class UploadRefused extends Error {
  constructor(
    readonly index: number,
    readonly error: TgError,
  ) {
    super(error.message);
  }
}

export interface BundleWorkersOptions {
  /** Verification threads (0: verify on the calling thread). */
  threads: number;
  /** The blob store written to; told of the packs the threads write. */
  store: BlobStore;
  maxBundleBytes: number;
}

interface Thread {
  worker: Worker;
  pending: number;
}

interface Waiter {
  thread: Thread;
  resolve: (reply: WorkerReply) => void;
  reject: (err: unknown) => void;
}

const WORKER = new URL('./bundle-worker.ts', import.meta.url);

export class BundleWorkers {
  private readonly threads: Array<Thread | null>;
  private readonly inline = new Map<number, HashedBlob[]>();
  private readonly owner = new Map<number, Thread>();
  private readonly waiting = new Map<number, Waiter>();
  private readonly store: BlobStore;
  private nextTicket = 1;
  private nextThread = 0;

  constructor(private readonly opts: BundleWorkersOptions) {
    this.threads = Array.from({ length: Math.max(0, opts.threads) }, () => null);
    this.store = opts.store;
  }

  /** Starts the threads now (loading one takes a few hundred ms), rather than on the first upload. */
  warm(): void {
    for (let i = 0; i < this.threads.length; i++) this.thread(i);
  }

  /**
   * Verifies every upload of a unit; rejects with `UploadRefused` naming the first bad one. With
   * `handOver`, the caller gives up the memory the bundles are in (it never reads them again): when they
   * all lie in one ArrayBuffer, that buffer moves to the thread instead of being copied.
   */
  async verify(
    uploads: readonly BundleUpload[],
    handOver = false,
  ): Promise<{ ticket: number; verified: VerifiedUpload[] }> {
    const ticket = this.nextTicket++;
    for (const [index, u] of uploads.entries()) {
      // Checked here too, so an oversized upload is not copied first.
      if (u.bundle.byteLength > this.opts.maxBundleBytes) {
        throw new UploadRefused(
          index,
          new TgError(
            'INPUT_INVALID',
            `bundle of ${u.bundle.byteLength} bytes exceeds ${this.opts.maxBundleBytes}`,
          ),
        );
      }
    }
    if (this.threads.length === 0) {
      const verified = uploads.map((u, index) => {
        try {
          return verifyUpload(u, this.opts.maxBundleBytes);
        } catch (err) {
          throw new UploadRefused(index, toTgError(err));
        }
      });
      this.inline.set(
        ticket,
        uploads.map((u, i) => ({ bytes: u.bundle, sha256: (verified[i] as VerifiedUpload).sha256 })),
      );
      return { ticket, verified };
    }
    const shared = uploads[0]?.bundle.buffer;
    const movable =
      handOver && shared instanceof ArrayBuffer && uploads.every((u) => u.bundle.buffer === shared);
    let buffer: ArrayBuffer;
    let entries: Array<{
      offset: number;
      length: number;
      sha256?: string | undefined;
      id?: string | undefined;
    }>;
    if (movable) {
      buffer = shared;
      entries = uploads.map((u) => ({
        offset: u.bundle.byteOffset,
        length: u.bundle.byteLength,
        sha256: u.sha256,
        id: u.id,
      }));
    } else {
      buffer = new ArrayBuffer(uploads.reduce((n, u) => n + u.bundle.byteLength, 0));
      const bytes = new Uint8Array(buffer);
      let at = 0;
      entries = uploads.map((u) => {
        bytes.set(u.bundle, at);
        const entry = { offset: at, length: u.bundle.byteLength, sha256: u.sha256, id: u.id };
        at += u.bundle.byteLength;
        return entry;
      });
    }
    const thread = this.pick();
    this.owner.set(ticket, thread);
    const reply = await this.request(thread, { type: 'verify', ticket, buffer, entries }, [buffer]);
    if (reply.type === 'refused') {
      this.owner.delete(ticket);
      throw new UploadRefused(reply.index, toTgError(reply));
    }
    if (reply.type !== 'verified') throw new TgError('STORAGE_FAILED', `verification thread: ${reply.type}`);
    return { ticket, verified: reply.verified };
  }

  /**
   * Writes the given uploads of verified units to the blob store and forgets those units: one pack per
   * thread that holds some of them (one in all, usually), so a commit group costs one fsync per thread.
   */
  async write(parts: readonly WritePart[], durable: boolean): Promise<void> {
    const inline: HashedBlob[] = [];
    const byThread = new Map<Thread, WritePart[]>();
    for (const part of parts) {
      const held = this.inline.get(part.ticket);
      if (held) {
        this.inline.delete(part.ticket);
        for (const i of part.indexes) inline.push(held[i] as HashedBlob);
        continue;
      }
      const thread = this.owner.get(part.ticket);
      this.owner.delete(part.ticket);
      if (!thread) throw new TgError('STORAGE_FAILED', `no verified unit ${part.ticket} to write`);
      const list = byThread.get(thread);
      if (list) list.push(part);
      else byThread.set(thread, [part]);
    }
    const writes: Array<Promise<unknown>> = [];
    if (inline.length > 0) writes.push(this.store.putHashed(inline, { durable }));
    for (const [thread, threadParts] of byThread) {
      const ticket = this.nextTicket++;
      writes.push(
        this.request(thread, { type: 'write', ticket, parts: threadParts, durable }).then((reply) => {
          if (reply.type === 'failed') throw new TgError('STORAGE_FAILED', reply.message);
          if (reply.type === 'written' && reply.pack) this.store.adoptPack(reply.pack);
        }),
      );
    }
    await Promise.all(writes);
  }

  /** Forgets the ticket's unit without writing anything. */
  drop(ticket: number): void {
    if (this.inline.delete(ticket)) return;
    const thread = this.owner.get(ticket);
    this.owner.delete(ticket);
    if (thread && this.threads.includes(thread)) thread.worker.postMessage({ type: 'drop', ticket });
  }

  async close(): Promise<void> {
    const live = this.threads.filter((t): t is Thread => t !== null);
    this.threads.fill(null);
    await Promise.all(live.map((t) => t.worker.terminate()));
  }

  private pick(): Thread {
    return this.thread(this.nextThread++ % this.threads.length);
  }

  private thread(i: number): Thread {
    let thread = this.threads[i];
    if (!thread) {
      const data: WorkerData = { root: this.opts.store.root, maxBundleBytes: this.opts.maxBundleBytes };
      const worker = spawnWorker(WORKER, { ...data });
      worker.unref(); // referenced only while it has work (see `request`)
      const t: Thread = { worker, pending: 0 };
      worker.on('message', (r: WorkerReply) => {
        const w = this.waiting.get(r.ticket);
        if (!w) return;
        this.waiting.delete(r.ticket);
        if (--t.pending === 0) worker.unref();
        w.resolve(r);
      });
      const fail = (err: unknown) => {
        if (this.threads[i] === t) this.threads[i] = null; // the next unit starts a new thread
        for (const [ticket, w] of this.waiting) {
          if (w.thread !== t) continue;
          this.waiting.delete(ticket);
          w.reject(new TgError('STORAGE_FAILED', `verification thread stopped: ${String(err)}`));
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(`exit ${code}`));
      this.threads[i] = t;
      thread = t;
    }
    return thread;
  }

  private request(
    thread: Thread,
    message: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      this.waiting.set(message.ticket, { thread, resolve, reject });
      if (thread.pending++ === 0) thread.worker.ref();
      thread.worker.postMessage(message, transfer);
    });
  }
}

function toTgError(err: unknown): TgError {
  if (err instanceof TgError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code === 'NOT_FOUND' || e.code === 'STORAGE_FAILED' ? e.code : 'INPUT_INVALID';
  return new TgError(code, e.message ?? String(err));
}
