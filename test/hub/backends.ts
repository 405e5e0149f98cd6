/**
 * The two catalog backends the hub tests run against: embedded PGlite in a temp directory, and a real
 * PostgreSQL server (TG_TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test). Each
 * PostgreSQL "place" is a database of its own (tg_test_<random>_<name>), dropped afterwards, so parallel test
 * files never see each other's rows. Without a reachable server the PostgreSQL suites fail (they are never skipped: CI runs PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { CatalogOpenOptions } from '../../src/hub/catalog/index.ts';

export const TEST_DATABASE_URL =
  process.env.TG_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface CatalogBackend {
  name: 'pglite' | 'postgres';
  /** Reason the backend cannot run here (the suite is skipped with it), or null. */
  unavailable: string | null;
  /** Opening options for a catalog place `name`; the same name gives the same place within a run. */
  place(name: string): Promise<CatalogOpenOptions>;
  /** Removes every place made by this backend. */
  cleanup(): Promise<void>;
}

export function pgliteBackend(): CatalogBackend {
  let home: string | undefined;
  return {
    name: 'pglite',
    unavailable: null,
    async place(name) {
      home ??= await mkdtemp(path.join(tmpdir(), 'tg-catalog-'));
      return { dataDir: path.join(home, name) };
    },
    async cleanup() {
      if (home) await rm(home, { recursive: true, force: true });
    },
  };
}

/** Probes the server once; `unavailable` says why when it cannot be reached. */
export async function postgresBackend(): Promise<CatalogBackend> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let unavailable: string | null = null;
  try {
    await admin.connect();
    await admin.end();
  } catch (err) {
    unavailable = `PostgreSQL at ${TEST_DATABASE_URL} unreachable: ${(err as Error).message}`;
  }
  if (unavailable) throw new Error(`${unavailable} (start it, or set TG_TEST_DATABASE_URL)`);
  const prefix = `tg_test_${randomBytes(4).toString('hex')}`;
  const created = new Map<string, string>();
  const urlFor = (db: string) => {
    const u = new URL(TEST_DATABASE_URL);
    u.pathname = `/${db}`;
    return u.toString();
  };
  return {
    name: 'postgres',
    unavailable,
    async place(name) {
      let db = created.get(name);
      if (!db) {
        db = `${prefix}_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.slice(0, 63);
        await adminQuery(`CREATE DATABASE ${db}`);
        created.set(name, db);
      }
      return { databaseUrl: urlFor(db) };
    },
    async cleanup() {
      for (const db of created.values()) await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      created.clear();
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Both backends, PGlite first. */
export async function catalogBackends(): Promise<CatalogBackend[]> {
  return [pgliteBackend(), await postgresBackend()];
}
