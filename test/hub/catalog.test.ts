import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TgError } from '../../src/errors/index.ts';
import { Catalog, MIGRATIONS } from '../../src/hub/catalog/index.ts';
import { catalogBackends } from './backends.ts';
import { episode, ROBOTS, seedCatalog } from './fixtures.ts';

// The same tests against embedded PGlite and a PostgreSQL server: the catalog promises identical behaviour.
for (const backend of await catalogBackends()) {
  describe(`catalog on ${backend.name}`, () => {
    after(() => backend.cleanup());

    async function withCatalog(name: string, fn: (c: Catalog) => Promise<void>): Promise<void> {
      const catalog = await Catalog.open(await backend.place(name));
      try {
        await fn(catalog);
      } finally {
        await catalog.close();
      }
    }

    describe('Catalog.open', () => {
      test('applies every migration once and keeps data across reopen', async () => {
        const place = await backend.place('reopen');
        const first = await Catalog.open(place);
        assert.deepEqual(
          await first.appliedMigrations(),
          MIGRATIONS.map((m) => m.version),
        );
        await seedCatalog(first, 3);
        await first.close();

        const second = await Catalog.open(place);
        try {
          assert.deepEqual(
            await second.appliedMigrations(),
            MIGRATIONS.map((m) => m.version),
          );
          assert.equal((await second.counts()).episodes, 3);
        } finally {
          await second.close();
        }
      });
    });

    describe('robots and fields', () => {
      test('upsertRobot creates the field and updates in place', async () => {
        await withCatalog('robots', async (c) => {
          const created = await c.upsertRobot(ROBOTS[0]!);
          assert.equal(created.id, 'arm-01');
          assert.equal(created.embodimentHash, 'e3b0c44298fc');
          assert.equal(created.field, 'field-beijing');
          assert.equal(created.episodeCount, 0);
          assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT/);

          await c.upsertRobot({ ...ROBOTS[0]!, name: 'Arm One', vendor: 'Acme' });
          const robots = await c.listRobots();
          assert.equal(robots.length, 1);
          assert.equal(robots[0]!.name, 'Arm One');
          assert.equal(robots[0]!.vendor, 'Acme');
          assert.deepEqual(await c.counts(), {
            fields: 1,
            robots: 1,
            datasets: 0,
            episodes: 0,
            successfulEpisodes: 0,
          });
        });
      });

      test('upsertField renames a field', async () => {
        await withCatalog('fields', async (c) => {
          await c.upsertField({ id: 'f1', name: 'First' });
          const f = await c.upsertField({ id: 'f1', name: 'Field One' });
          assert.equal(f.name, 'Field One');
          assert.equal((await c.counts()).fields, 1);
        });
      });

      test('rejects a robot with an empty id', async () => {
        await withCatalog('bad-robot', async (c) => {
          await assert.rejects(c.upsertRobot({ ...ROBOTS[0]!, id: '' }), (err: unknown) => {
            assert.ok(err instanceof TgError);
            assert.equal(err.code, 'INPUT_INVALID');
            assert.match(err.message, /invalid robot: id/);
            return true;
          });
        });
      });
    });

    describe('insertEpisodes', () => {
      test('inserts, lists newest first, pages and filters by robot', async () => {
        await withCatalog('episodes', async (c) => {
          const episodes = await seedCatalog(c, 5);
          const all = await c.listEpisodes({ limit: 10, offset: 0 });
          assert.equal(all.length, 5);
          assert.equal(all[0]!.id, episodes[4]!.id);
          assert.equal(all[0]!.recordedAt, episodes[4]!.recordedAt);
          assert.equal(all[0]!.datasetName, 'drills');
          assert.equal(typeof all[0]!.seed, 'number');

          const page = await c.listEpisodes({ limit: 2, offset: 2 });
          assert.deepEqual(
            page.map((e) => e.id),
            all.slice(2, 4).map((e) => e.id),
          );
          const arm = await c.listEpisodes({ limit: 10, offset: 0, robotId: 'arm-01' });
          assert.equal(arm.length, 3);
          assert.ok(arm.every((e) => e.robotId === 'arm-01'));
          assert.equal(await c.countEpisodes({ robotId: 'arm-01' }), 3);
          assert.equal((await c.listRobots()).find((r) => r.id === 'arm-01')!.episodeCount, 3);
          const counts = await c.counts();
          assert.equal(counts.episodes, 5);
          assert.equal(counts.successfulEpisodes, episodes.filter((e) => e.success).length);
        });
      });

      test('re-inserting the same ids is idempotent', async () => {
        await withCatalog('idempotent', async (c) => {
          const episodes = await seedCatalog(c, 3);
          const again = await c.insertEpisodes('drills', [...episodes, episode(3), episode(3)]);
          assert.deepEqual(again, { inserted: 1, skipped: 4 });
          assert.equal((await c.counts()).episodes, 4);
        });
      });

      test('a batch with one invalid row leaves the catalog unchanged', async () => {
        await withCatalog('invalid-row', async (c) => {
          await seedCatalog(c, 2);
          const before = await c.listEpisodes({ limit: 100, offset: 0 });
          const batch = [episode(10), episode(11), episode(12, { durationSec: -1 })];
          await assert.rejects(c.insertEpisodes('drills', batch), (err: unknown) => {
            assert.ok(err instanceof TgError);
            assert.equal(err.code, 'INPUT_INVALID');
            assert.match(err.message, /episode 2 .*durationSec/);
            return true;
          });
          assert.deepEqual(await c.listEpisodes({ limit: 100, offset: 0 }), before);
        });
      });

      test('a database error late in a large batch rolls back the rows already written', async () => {
        await withCatalog('rollback', async (c) => {
          await seedCatalog(c, 2);
          // More rows than one INSERT statement carries, the last one naming a robot the catalog lacks:
          // the earlier statements succeed, so only the transaction keeps them out.
          const batch = Array.from({ length: 600 }, (_, i) => episode(100 + i));
          batch.push(episode(999, { robotId: 'ghost' }));
          await assert.rejects(c.insertEpisodes('drills', batch), (err: unknown) => {
            assert.ok(err instanceof TgError);
            assert.equal(err.code, 'INPUT_INVALID');
            assert.match(err.message, /ghost/);
            return true;
          });
          assert.equal((await c.counts()).episodes, 2);
        });
      });

      test('atomic: false inserts every row; a failure keeps what committed only on the embedded database', async () => {
        await withCatalog('non-atomic', async (c) => {
          await seedCatalog(c, 2);
          const batch = Array.from({ length: 70 }, (_, i) => episode(200 + i));
          const ok = await c.insertEpisodeGroups([{ dataset: 'drills', episodes: batch }], { atomic: false });
          assert.deepEqual(ok, { inserted: 70, skipped: 0 });
          const again = await c.insertEpisodeGroups([{ dataset: 'drills', episodes: batch }], {
            atomic: false,
          });
          assert.deepEqual(
            again,
            { inserted: 0, skipped: 70 },
            'idempotent by id, statement by statement too',
          );
          assert.equal((await c.counts()).episodes, 72);

          // Row 41 names a robot the catalog lacks: on PGlite the first statement (32 rows) has committed.
          const failing = Array.from({ length: 50 }, (_, i) => episode(400 + i));
          failing[40] = episode(440, { robotId: 'ghost' });
          await assert.rejects(
            c.insertEpisodeGroups([{ dataset: 'drills', episodes: failing }], { atomic: false }),
            (err: unknown) => err instanceof TgError && /ghost/.test(err.message),
          );
          const kept = backend.name === 'pglite' ? 32 : 0;
          assert.equal((await c.counts()).episodes, 72 + kept);
          const stored = new Set((await c.getEpisodes(failing.map((e) => e.id))).map((e) => e.id));
          assert.deepEqual(stored, new Set(failing.slice(0, kept).map((e) => e.id)));
        });
      });

      test('an unknown dataset is NOT_FOUND', async () => {
        await withCatalog('no-dataset', async (c) => {
          await seedCatalog(c, 0);
          await assert.rejects(c.insertEpisodes('nope', [episode(1)]), { code: 'NOT_FOUND' });
        });
      });
    });
  });
}
