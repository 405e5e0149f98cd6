import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TgError } from '../../src/errors/index.ts';
import { Catalog, MIGRATIONS, openPgDatabase } from '../../src/hub/catalog/index.ts';
import { postgresBackend } from './backends.ts';
import { seedCatalog } from './fixtures.ts';

const backend = await postgresBackend();

describe('catalog on PostgreSQL', () => {
  after(() => backend.cleanup());

  test('eight hubs opening one fresh database at once migrate it exactly once', async () => {
    const place = await backend.place('concurrent');
    const catalogs = await Promise.all(Array.from({ length: 8 }, () => Catalog.open(place)));
    try {
      for (const c of catalogs) {
        assert.deepEqual(
          await c.appliedMigrations(),
          MIGRATIONS.map((m) => m.version),
        );
      }
      await seedCatalog(catalogs[0]!, 3);
      assert.equal((await catalogs[7]!.counts()).episodes, 3);
    } finally {
      await Promise.all(catalogs.map((c) => c.close()));
    }
  });

  test('a transaction that throws leaves nothing behind and frees its connection', async () => {
    const place = await backend.place('tx');
    if (!('databaseUrl' in place)) throw new Error('expected a database URL');
    const db = await openPgDatabase(place.databaseUrl, { maxConnections: 1 });
    try {
      await db.exec('CREATE TABLE t (x integer PRIMARY KEY)');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t (x) VALUES ($1)', [1]);
          await tx.query('INSERT INTO t (x) VALUES ($1)', [1]);
        }),
        { code: '23505' },
      );
      // With one pooled connection this would hang if the failed transaction had not released it.
      const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM t');
      assert.equal(Number(rows[0]!.n), 0);
      const n = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (x) VALUES ($1), ($2)', [1, 2]);
        return (await tx.query<{ n: string }>('SELECT count(*) AS n FROM t'))[0]!.n;
      });
      assert.equal(Number(n), 2);
    } finally {
      await db.close();
    }
  });

  test('an unreachable server is STORAGE_FAILED without the password in the message', async () => {
    await assert.rejects(
      Catalog.open({ databaseUrl: 'postgresql://someone:s3cret@127.0.0.1:1/nowhere' }),
      (err: unknown) => {
        assert.ok(err instanceof TgError);
        assert.equal(err.code, 'STORAGE_FAILED');
        assert.match(
          err.message,
          /cannot open catalog at postgresql:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nowhere/,
        );
        assert.doesNotMatch(err.message, /s3cret/);
        return true;
      },
    );
  });
});
