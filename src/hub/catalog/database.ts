import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';

/**
 * The few SQL operations the catalog needs. PGlite implements it here; a `pg` pool can implement the same
 * interface for PostgreSQL without the catalog changing.
 */
export interface SqlExecutor {
  /** One statement with `$1`-style parameters; returns its rows. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Embedded PostgreSQL (PGlite). `dataDir` is a directory, created if missing, or `memory://`. */
export async function openPgliteDatabase(dataDir: string): Promise<SqlDatabase> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: (fn) => db.transaction((tx) => fn(wrapTransaction(tx))),
    close: () => db.close(),
  };
}

function wrapTransaction(tx: Transaction): SqlExecutor {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
    exec: async (sql) => {
      await tx.exec(sql);
    },
  };
}
