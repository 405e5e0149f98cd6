import pg from 'pg';
import type { SqlDatabase, SqlExecutor } from './database.ts';

export interface PgDatabaseOptions {
  /** Connections kept by the pool (default 10). */
  maxConnections?: number;
}

/**
 * PostgreSQL server behind the catalog's `SqlDatabase` seam, through a `pg` pool. `url` is a
 * postgres:// or postgresql:// connection string (TG_DATABASE_URL). The first connection is made here, so a
 * wrong URL fails at open rather than on the first query.
 */
export async function openPgDatabase(url: string, opts: PgDatabaseOptions = {}): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 10 });
  // An idle client that loses its server (restart, network) emits 'error' on the pool; without a
  // listener that would crash the process. The next query simply gets a fresh connection.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return {
    query: async <T>(sql: string, params?: unknown[]) =>
      (await pool.query(sql, params as unknown[] | undefined)).rows as T[],
    exec: async (sql) => {
      // No parameters: the simple query protocol, which accepts several statements at once.
      await pool.query(sql);
    },
    transaction: async <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(wrapClient(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // A connection that cannot even roll back is not returned to the pool.
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

function wrapClient(client: pg.PoolClient): SqlExecutor {
  return {
    query: async <T>(sql: string, params?: unknown[]) =>
      (await client.query(sql, params as unknown[] | undefined)).rows as T[],
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}
