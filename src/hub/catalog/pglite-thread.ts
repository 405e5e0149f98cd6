/**
 * PGlite on a thread of its own. PGlite is PostgreSQL compiled to WebAssembly and runs every statement
 * synchronously on the thread that calls it; for a hub that serves HTTP, an insert of a hundred episodes
 * or a page of them then blocks every request meanwhile. Here the database lives in a worker thread
 * (./pglite-thread-worker.ts) and this side forwards statements as messages: same `SqlDatabase`, same SQL,
 * same errors (SQLSTATE `code` and `detail` kept, so the catalog maps constraint violations as before).
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../threads/index.ts';
import type { SqlDatabase, SqlExecutor } from './database.ts';

export type ThreadRequest =
  | { id: number; type: 'open'; dataDir: string }
  | { id: number; type: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; type: 'exec'; sql: string; tx?: number }
  | { id: number; type: 'begin' }
  | { id: number; type: 'end'; tx: number; commit: boolean }
  | { id: number; type: 'close' };

export type ThreadReply =
  | { id: number; ok: true; rows?: unknown[]; tx?: number }
  | { id: number; ok: false; error: { message: string; code?: string; detail?: string } };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const WORKER = new URL('./pglite-thread-worker.ts', import.meta.url);

/** Opens (creating) the PGlite database in `dataDir` on a new thread. */
export async function openPgliteThreadDatabase(dataDir: string): Promise<SqlDatabase> {
  const worker = spawnWorker(WORKER);
  const waiting = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let failure: Error | null = null;
  worker.on('message', (r: ThreadReply) => {
    const w = waiting.get(r.id);
    waiting.delete(r.id);
    w?.resolve(r);
  });
  const fail = (err: Error) => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`catalog thread exited (${code})`)));

  const call = async (request: WithoutId<ThreadRequest>): Promise<ThreadReply & { ok: true }> => {
    if (failure) throw failure;
    const id = nextId++;
    const reply = await new Promise<ThreadReply>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), reply.error);
    return reply;
  };
  const executor = (tx?: number): SqlExecutor => ({
    query: async <T>(sql: string, params?: unknown[]) =>
      (await call({ type: 'query', sql, ...(params ? { params } : {}), ...(tx ? { tx } : {}) })).rows as T[],
    exec: async (sql: string) => {
      await call({ type: 'exec', sql, ...(tx ? { tx } : {}) });
    },
  });
  await call({ type: 'open', dataDir });
  return {
    ...executor(),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const { tx } = await call({ type: 'begin' });
      let result: T;
      try {
        result = await fn(executor(tx));
      } catch (err) {
        await call({ type: 'end', tx: tx as number, commit: false }).catch(() => {});
        throw err;
      }
      await call({ type: 'end', tx: tx as number, commit: true });
      return result;
    },
    async close() {
      try {
        await call({ type: 'close' });
      } finally {
        await terminate(worker);
      }
    },
  };
}

async function terminate(worker: Worker): Promise<void> {
  worker.removeAllListeners('exit');
  await worker.terminate();
}
