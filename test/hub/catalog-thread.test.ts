/**
 * The catalog with PGlite on a thread of its own (what the hub opens): the same answers and the same
 * errors as in-process PGlite, transactions that commit or roll back whole, statements from other callers
 * waiting for an open transaction, and a database that persists across reopen.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TgError } from '../../src/errors/index.ts';
import { Catalog, MIGRATIONS } from '../../src/hub/catalog/index.ts';
import { tempDir } from '../field/fixtures.ts';
import { episode, ROBOTS, seedCatalog } from './fixtures.ts';

const dir = tempDir('tg-catalog-thread-');
const open = () => Catalog.open({ dataDir: dir, thread: true });
let catalog: Catalog;

after(async () => {
  await catalog?.close();
});

describe('catalog with PGlite on its own thread', () => {
  test('migrates, stores and reads like in-process PGlite, and persists across reopen', async () => {
    catalog = await open();
    assert.deepEqual(
      await catalog.appliedMigrations(),
      MIGRATIONS.map((m) => m.version),
    );
    const episodes = await seedCatalog(catalog, 4);
    const rows = await catalog.listEpisodes({ limit: 10, offset: 0 });
    assert.deepEqual(
      rows.map((r) => r.id),
      [...episodes].reverse().map((e) => e.id),
    );
    assert.equal(typeof rows[0]?.seed, 'number');
    assert.match(rows[0]?.recordedAt ?? '', /^2025-01-01T12:00:03\.000Z$/);
    await catalog.close();
    catalog = await open();
    assert.equal(await catalog.countEpisodes(), 4);
    assert.deepEqual((await catalog.getEpisodes([episodes[1]!.id]))[0]?.episodeIndex, 1);
  });

  test('a failing batch rolls back whole and constraint violations keep their meaning', async () => {
    const before = await catalog.counts();
    await assert.rejects(
      catalog.insertEpisodes('drills', [episode(20), episode(21, { robotId: 'nobody' })]),
      (err: unknown) =>
        err instanceof TgError &&
        err.code === 'INPUT_INVALID' &&
        /refers to something the catalog does not have/.test(err.message),
    );
    await assert.rejects(
      catalog.insertEpisodeGroups([
        { dataset: 'drills', episodes: [episode(22)] },
        { dataset: 'missing', episodes: [episode(23)] },
      ]),
      (err: unknown) => err instanceof TgError && err.code === 'NOT_FOUND',
    );
    assert.deepEqual(await catalog.counts(), before);
    await assert.rejects(catalog.database.query('SELECT * FROM no_such_table'), /no_such_table/);
  });

  test('statements from other callers wait for an open transaction, then see its result', async () => {
    let release: () => void = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = catalog.database.transaction(async (t) => {
      await t.query(`INSERT INTO fields (id, name) VALUES ('held', 'held')`);
      await hold;
      return 'committed';
    });
    await new Promise((r) => setTimeout(r, 50));
    const reading = catalog.database.query<{ id: string }>(`SELECT id FROM fields WHERE id = 'held'`);
    let read = false;
    void reading.then(() => {
      read = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(read, false, 'waits while the transaction holds the database');
    release();
    assert.equal(await tx, 'committed');
    assert.deepEqual(await reading, [{ id: 'held' }]);

    const rolledBack = catalog.database.transaction(async (t) => {
      await t.query(`INSERT INTO fields (id, name) VALUES ('gone', 'gone')`);
      throw new Error('changed my mind');
    });
    await assert.rejects(rolledBack, /changed my mind/);
    assert.deepEqual(await catalog.database.query(`SELECT id FROM fields WHERE id = 'gone'`), []);
  });

  test('concurrent writers each get their rows in', async () => {
    await catalog.upsertRobot(ROBOTS[0]!);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => catalog.insertEpisodes('drills', [episode(100 + 2 * i)])),
    );
    assert.deepEqual(
      results.map((r) => r.inserted),
      Array(12).fill(1),
    );
    assert.equal(await catalog.countEpisodes(), 4 + 12);
  });

  test('closing waits for statements still running, so their writes are kept', async () => {
    const writing = catalog.database.query(`INSERT INTO fields (id, name) VALUES ('late', 'late')`);
    await catalog.close();
    await writing;
    catalog = await open();
    assert.deepEqual(await catalog.database.query(`SELECT id FROM fields WHERE id = 'late'`), [
      { id: 'late' },
    ]);
  });
});
