/**
 * A cache of read results in front of an embedded catalog database (PGlite), which only this process can
 * write: every write goes through this object, so the cache knows when an answer may have changed.
 *
 * The API reads the same few things over and over (the newest page, the robots, the counts) while ingest
 * commits many times a second, and on the single PGlite connection each read waits behind the statement
 * running. A plain `SELECT` is answered from the cache when no write ended since it was issued; identical
 * reads share one statement. Anything else (another statement, a script, a transaction) is a write, and
 * empties the cache as it ends.
 *
 * What a reader can see: every write that ended before its read was issued (an upload is acknowledged
 * only after its write ended, so whoever was told of a write sees it). A write still running may or may
 * not be seen, as with any concurrent reader; two different reads issued while one runs may differ on
 * it. Answers are frozen: callers share them.
 *
 * Not for a PostgreSQL server, which other processes (another hub) may write behind this one's back.
 */
import type { SqlDatabase, SqlExecutor } from './database.ts';

/** Most distinct reads kept (the oldest goes first); a write empties it anyway. */
const MAX_ENTRIES = 512;
const PLAIN_SELECT = /^\s*select\b/i;
const LOCKING = /\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b/i;

/** Whether a statement only reads and locks nothing (what may be cached, and may go ahead of writes). */
export function isPlainRead(sql: string): boolean {
  return PLAIN_SELECT.test(sql) && !LOCKING.test(sql);
}

export interface ReadCacheStats {
  hits: number;
  misses: number;
  /** Statements, scripts and transactions that emptied the cache. */
  writes: number;
}

/**
 * Told the statements of each write as it ends (committed or not), before its caller is answered: for
 * whatever else keeps answers derived from the database in memory (the catalog's episode read model).
 */
export type WriteObserver = (statements: readonly string[]) => void;

export class ReadCachedDatabase implements SqlDatabase {
  readonly stats: ReadCacheStats = { hits: 0, misses: 0, writes: 0 };
  /** Bumped as each write ends. */
  #generation = 0;
  readonly #entries = new Map<string, { generation: number; rows: Promise<readonly unknown[]> }>();
  readonly #observers: WriteObserver[] = [];

  constructor(private readonly db: SqlDatabase) {}

  observeWrites(observer: WriteObserver): void {
    this.#observers.push(observer);
  }

  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!isPlainRead(sql)) return this.#write([sql], () => this.db.query<T>(sql, params));
    const key = `${sql}\u0000${JSON.stringify(params)}`;
    const hit = this.#entries.get(key);
    if (hit && hit.generation === this.#generation) {
      this.stats.hits++;
      return hit.rows as Promise<T[]>;
    }
    this.stats.misses++;
    const rows = this.db.query<T>(sql, params).then(freezeRows);
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { generation: this.#generation, rows });
    // A failed read is not an answer to keep.
    rows.catch(() => {
      if (this.#entries.get(key)?.rows === rows) this.#entries.delete(key);
    });
    return rows as Promise<T[]>;
  }

  exec(sql: string): Promise<void> {
    // Refreshing planner statistics changes no answer.
    if (/^\s*analyze\b/i.test(sql)) return this.db.exec(sql);
    return this.#write([sql], () => this.db.exec(sql));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const statements: string[] = [];
    return this.#write(statements, () =>
      this.db.transaction((tx) =>
        fn({
          query: (sql, params) => {
            statements.push(sql);
            return tx.query(sql, params);
          },
          exec: (sql) => {
            statements.push(sql);
            return tx.exec(sql);
          },
        }),
      ),
    );
  }

  close(): Promise<void> {
    this.#entries.clear();
    return this.db.close();
  }

  async #write<T>(statements: readonly string[], run: () => Promise<T>): Promise<T> {
    this.stats.writes++;
    try {
      return await run();
    } finally {
      this.#generation++;
      this.#entries.clear();
      for (const observe of this.#observers) observe(statements);
    }
  }
}

function freezeRows<T>(rows: T[]): T[] {
  for (const row of rows) Object.freeze(row);
  return Object.freeze(rows) as T[];
}
