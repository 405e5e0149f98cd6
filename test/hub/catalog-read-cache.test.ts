/**
 * The read cache in front of the embedded catalog, on real PGlite: repeated reads are answered without the
 * database, every write that ended is seen by the reads issued after it, answers cannot be changed by a
 * caller, failed reads and locking reads are not kept; and on the catalog's thread reads go ahead of
 * writes queued before them.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openPgliteDatabase, type SqlDatabase } from '../../src/hub/catalog/database.ts';
import { openPgliteThreadDatabase } from '../../src/hub/catalog/pglite-thread.ts';
import { ReadCachedDatabase } from '../../src/hub/catalog/read-cache.ts';

const closing: SqlDatabase[] = [];
after(async () => {
  for (const db of closing) await db.close();
});

async function cached(): Promise<ReadCachedDatabase> {
  const db = new ReadCachedDatabase(await openPgliteDatabase('memory://'));
  closing.push(db);
  await db.exec('CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)');
  await db.query("INSERT INTO t VALUES (1, 'one')");
  return db;
}

const ids = async (db: SqlDatabase) =>
  (await db.query<{ id: number }>('SELECT id FROM t ORDER BY id')).map((r) => r.id);

describe('catalog read cache', () => {
  test('a repeated read is a hit; a write that ended is seen by every read after it', async () => {
    const db = await cached();
    assert.deepEqual(await ids(db), [1]);
    const { hits, misses } = db.stats;
    assert.deepEqual(await ids(db), [1]);
    assert.deepEqual(db.stats, { ...db.stats, hits: hits + 1, misses });

    await db.query("INSERT INTO t VALUES (2, 'two')");
    assert.deepEqual(await ids(db), [1, 2], 'an INSERT empties the cache');
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (3, 'three')");
    });
    assert.deepEqual(await ids(db), [1, 2, 3], 'so does a transaction');
    await db.exec('DELETE FROM t WHERE id = 1');
    assert.deepEqual(await ids(db), [2, 3], 'and a script');

    // The same SQL with other parameters is another answer.
    const v = (id: number) => db.query<{ v: string }>('SELECT v FROM t WHERE id = $1', [id]);
    assert.deepEqual(await v(2), [{ v: 'two' }]);
    assert.deepEqual(await v(3), [{ v: 'three' }]);
  });

  test('a read issued while a write runs may see it or not; once the write ended, it is seen', async () => {
    const db = await cached();
    assert.deepEqual(await ids(db), [1]);
    const write = db.query("INSERT INTO t VALUES (2, 'two')");
    const during = await ids(db);
    assert.ok([1, 2].includes(during.length), `during the write: ${during}`);
    await write;
    assert.deepEqual(await ids(db), [1, 2]);
  });

  test('answers are frozen, failed reads are not kept, ANALYZE keeps the cache, locking reads are writes', async () => {
    const db = await cached();
    const rows = await db.query<{ id: number; v: string }>('SELECT id, v FROM t');
    assert.throws(() => {
      (rows[0] as { v: string }).v = 'changed';
    }, TypeError);
    assert.throws(() => rows.push({ id: 9, v: 'nine' }), TypeError);

    await assert.rejects(db.query('SELECT * FROM later'), /later/);
    await db.exec('CREATE TABLE later (x integer)');
    assert.deepEqual(await db.query('SELECT * FROM later'), []);

    await ids(db);
    const writes = db.stats.writes;
    await db.exec('ANALYZE t');
    const hits = db.stats.hits;
    await ids(db);
    assert.equal(db.stats.hits, hits + 1, 'still a hit after ANALYZE');
    assert.equal(db.stats.writes, writes);

    await db.query('SELECT id FROM t FOR UPDATE');
    assert.equal(db.stats.writes, writes + 1, 'SELECT ... FOR UPDATE counts as a write');
  });

  test('on the catalog thread, a read goes ahead of writes queued before it', async () => {
    const db = await openPgliteThreadDatabase('memory://');
    closing.push(db);
    await db.exec('CREATE TABLE big (n integer)');
    const order: string[] = [];
    const slow = db
      .query('INSERT INTO big SELECT generate_series(1, 300000)')
      .then(() => order.push('write 1'));
    const queued = db.query('INSERT INTO big VALUES (-1)').then(() => order.push('write 2'));
    const read = db.query('SELECT 1 AS one').then(() => order.push('read'));
    await Promise.all([slow, queued, read]);
    // Without priority the read would wait for both writes (first in, first out).
    assert.ok(order.indexOf('read') < order.indexOf('write 2'), order.join(', '));
    const [row] = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM big');
    assert.equal(row?.n, 300_001);
  });
});
