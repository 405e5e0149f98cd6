/** The catalog's PGlite thread (see ./pglite-thread.ts): runs the statements the hub's thread sends. */
import { mkdir } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { ThreadReply, ThreadRequest } from './pglite-thread.ts';
import { isPlainRead } from './read-cache.ts';

const port = parentPort;
if (!port) throw new Error('pglite-thread-worker must run in a worker thread');
let db: PGlite | null = null;
/** Open transactions: each holds PGlite's lock until the hub's thread ends it. */
const open = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<void> }>();
let nextTx = 1;
/** Ends when the transaction begun last has ended (the statement queue waits for it). */
let lastTransaction: Promise<void> = Promise.resolve();
/** Statements still running: `close` waits for them (closing under a running statement loses writes). */
const running = new Set<Promise<void>>();
const reply = (r: ThreadReply) => port.postMessage(r);

/**
 * Statements outside a transaction run one at a time, reads first: an API read waits for the statement
 * running, not for every write queued before it (an ingest's inserts). Statements inside a transaction go
 * straight to it (the transaction holds the database until it ends, so the queue waits meanwhile).
 */
const reads: Array<() => Promise<void>> = [];
const others: Array<() => Promise<void>> = [];
let busy = false;

let pumping = false;

/** Runs the next job once the messages that arrived meanwhile are queued (a statement blocks this thread). */
function pump(): void {
  if (busy || pumping) return;
  pumping = true;
  setImmediate(() => {
    pumping = false;
    if (busy) return;
    const job = reads.shift() ?? others.shift();
    if (!job) return;
    busy = true;
    // A job answers its own request (failures included); what it rejects with is already reported.
    void job()
      .catch(() => {})
      .finally(() => {
        busy = false;
        pump();
      });
  });
}

port.on('message', (m: ThreadRequest) => {
  if (m.type === 'close') {
    void handle(m);
    return;
  }
  const op = new Promise<void>((resolve) => {
    if (m.type === 'end' || ((m.type === 'query' || m.type === 'exec') && m.tx)) {
      void handle(m).finally(resolve);
    } else if (m.type === 'begin') {
      // The queue waits while the transaction is open (PGlite would hold its statements anyway).
      others.push(() =>
        handle(m)
          .then(() => lastTransaction)
          .finally(resolve),
      );
    } else {
      (m.type === 'query' && isPlainRead(m.sql) ? reads : others).push(() => handle(m).finally(resolve));
    }
  });
  running.add(op);
  void op.finally(() => running.delete(op));
  pump();
});

async function handle(m: ThreadRequest): Promise<void> {
  try {
    switch (m.type) {
      case 'open':
        if (!m.dataDir.startsWith('memory://')) await mkdir(m.dataDir, { recursive: true });
        db = await PGlite.create(m.dataDir);
        return reply({ id: m.id, ok: true });
      case 'query': {
        const target = m.tx ? open.get(m.tx)?.tx : db;
        if (!target) throw new Error(`no transaction ${m.tx}`);
        return reply({ id: m.id, ok: true, rows: (await target.query(m.sql, m.params)).rows });
      }
      case 'exec': {
        const target = m.tx ? open.get(m.tx)?.tx : db;
        if (!target) throw new Error(`no transaction ${m.tx}`);
        await target.exec(m.sql);
        return reply({ id: m.id, ok: true });
      }
      case 'begin': {
        if (!db) throw new Error('catalog database is not open');
        const id = nextTx++;
        const rolledBack = new Error('rolled back');
        let began: () => void = () => {};
        const started = new Promise<void>((resolve) => {
          began = resolve;
        });
        const done = db
          .transaction(async (tx) => {
            const commit = await new Promise<boolean>((resolve) => {
              open.set(id, { tx, end: resolve, done });
              began();
            });
            if (!commit) throw rolledBack;
          })
          .catch((err: unknown) => {
            if (err !== rolledBack) throw err;
          })
          .finally(() => open.delete(id));
        lastTransaction = done.catch(() => {});
        // A failure to begin (nothing opened) is reported on `begin`; a failed commit on `end`.
        await Promise.race([started, done]);
        if (!open.has(id)) throw new Error('could not begin a transaction');
        return reply({ id: m.id, ok: true, tx: id });
      }
      case 'end': {
        const t = open.get(m.tx);
        if (!t) throw new Error(`no transaction ${m.tx}`);
        t.end(m.commit);
        await t.done;
        return reply({ id: m.id, ok: true });
      }
      case 'close':
        await Promise.race([Promise.allSettled(running), new Promise((r) => setTimeout(r, 2000))]);
        // A transaction nobody ends would hold the database forever: roll it back.
        for (const t of open.values()) t.end(false);
        await Promise.allSettled([...running, ...[...open.values()].map((t) => t.done)]);
        await db?.close();
        db = null;
        return reply({ id: m.id, ok: true });
    }
  } catch (err) {
    const e = err as { message?: string; code?: unknown; detail?: unknown };
    reply({
      id: m.id,
      ok: false,
      error: {
        message: e.message ?? String(err),
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
      },
    });
  }
}
