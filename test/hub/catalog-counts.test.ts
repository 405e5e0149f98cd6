import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { catalogBackends } from './backends.ts';
import { episode, ROBOTS, seedCatalog } from './fixtures.ts';

/**
 * Totals (the catalog's, each robot's) come from per-robot counters that triggers keep in the statement
 * that changes the episodes: they must agree with counting the episodes after any change, by any writer.
 */
for (const backend of await catalogBackends()) {
  describe(`catalog counts on ${backend.name}`, () => {
    after(() => backend.cleanup());

    /** What the counters say, next to what counting the episodes says. */
    async function totals(c: Catalog) {
      const counted = await c.database.query<{ robot_id: string; n: unknown; s: unknown }>(
        'SELECT robot_id, count(*) AS n, count(*) FILTER (WHERE success) AS s FROM episodes GROUP BY 1',
      );
      const byRobot = Object.fromEntries(ROBOTS.map((r) => [r.id, 0]));
      for (const row of counted) byRobot[row.robot_id] = Number(row.n);
      const counts = await c.counts();
      return {
        counters: {
          episodes: counts.episodes,
          successes: counts.successfulEpisodes,
          byRobot: Object.fromEntries((await c.listRobots()).map((r) => [r.id, r.episodeCount])),
          arm: await c.countEpisodes({ robotId: 'arm-01' }),
          all: await c.countEpisodes(),
        },
        counted: {
          episodes: counted.reduce((n, r) => n + Number(r.n), 0),
          successes: counted.reduce((n, r) => n + Number(r.s), 0),
          byRobot,
          arm: byRobot['arm-01'],
          all: counted.reduce((n, r) => n + Number(r.n), 0),
        },
      };
    }

    test('follow inserts (new and re-sent), updates and deletes, and a rolled-back insert', async () => {
      const c = await Catalog.open(await backend.place('counts'));
      try {
        await seedCatalog(c, 7);
        let t = await totals(c);
        assert.deepEqual(t.counters, t.counted);
        assert.equal(t.counters.episodes, 7);

        // Re-sent ids are skipped (ON CONFLICT DO NOTHING): not counted twice.
        const more = Array.from({ length: 5 }, (_, i) => episode(5 + i));
        assert.deepEqual(await c.insertEpisodes('drills', more), { inserted: 3, skipped: 2 });
        t = await totals(c);
        assert.deepEqual(t.counters, t.counted);
        assert.equal(t.counters.episodes, 10);

        // More rows than one statement takes: chunks in one transaction, counted once each.
        const many = Array.from({ length: 1200 }, (_, i) => episode(100 + i, { episodeIndex: 100 + i }));
        assert.deepEqual(await c.insertEpisodes('drills', many), { inserted: 1200, skipped: 0 });
        t = await totals(c);
        assert.deepEqual(t.counters, t.counted);

        // A failing chunk rolls back the chunks before it, and their counts.
        const bad = Array.from({ length: 600 }, (_, i) =>
          episode(5000 + i, { episodeIndex: 5000 + i, ...(i === 550 ? { robotId: 'nobody' } : {}) }),
        );
        await assert.rejects(c.insertEpisodes('drills', bad), { code: 'INPUT_INVALID' });
        assert.deepEqual((await totals(c)).counters, t.counters);

        // Writers other than the catalog's methods (SQL on the same database) keep them right too.
        await c.database.query(
          "UPDATE episodes SET success = NOT success, robot_id = 'humanoid-01' WHERE episode_index < 4",
        );
        t = await totals(c);
        assert.deepEqual(t.counters, t.counted);
        await c.database.query('DELETE FROM episodes WHERE episode_index % 3 = 0');
        t = await totals(c);
        assert.deepEqual(t.counters, t.counted);
        assert.ok(t.counters.episodes > 0 && t.counters.episodes < 1210);
      } finally {
        await c.close();
      }
    });

    test('planner statistics follow the episodes table as it grows (PGlite has no autovacuum)', async () => {
      const place = await backend.place('analyze');
      const c = await Catalog.open(place);
      const reltuples = async (cat: Catalog) =>
        Number(
          (
            await cat.database.query<{ n: unknown }>(
              "SELECT reltuples AS n FROM pg_class WHERE relname = 'episodes' AND relkind = 'r'",
            )
          )[0]?.n,
        );
      try {
        await seedCatalog(c, 2);
        const many = Array.from({ length: 700 }, (_, i) => episode(10 + i, { episodeIndex: 10 + i }));
        await c.insertEpisodes('drills', many);
      } finally {
        await c.close(); // waits for the statistics being refreshed
      }
      const reopened = await Catalog.open(place);
      try {
        assert.equal(await reltuples(reopened), 702);
      } finally {
        await reopened.close();
      }
    });

    test('listing pages: newest first and per robot, the same order either way', async () => {
      const c = await Catalog.open(await backend.place('pages'));
      try {
        await c.upsertRobot(ROBOTS[0]!);
        await c.upsertRobot(ROBOTS[1]!);
        await c.registerDataset({ name: 'drills', path: '/tmp/drills', fps: 30, robotType: 'so100' });
        // Ties on recorded_at are broken by episode_index (descending), then id.
        const eps = Array.from({ length: 30 }, (_, i) =>
          episode(i, { recordedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, Math.floor(i / 4))).toISOString() }),
        );
        await c.insertEpisodes('drills', eps);
        const newest = [...eps].sort(
          (a, b) =>
            String(b.recordedAt).localeCompare(String(a.recordedAt)) || b.episodeIndex - a.episodeIndex,
        );
        const page = await c.listEpisodes({ limit: 7, offset: 5 });
        assert.deepEqual(
          page.map((e) => e.id),
          newest.slice(5, 12).map((e) => e.id),
        );
        const arm = await c.listEpisodes({ limit: 4, offset: 2, robotId: 'arm-01' });
        assert.deepEqual(
          arm.map((e) => e.id),
          newest
            .filter((e) => e.robotId === 'arm-01')
            .slice(2, 6)
            .map((e) => e.id),
        );
        assert.equal(await c.countEpisodes({ robotId: 'arm-01' }), 15);
        assert.equal(await c.countEpisodes({ robotId: 'nobody' }), 0);
      } finally {
        await c.close();
      }
    });
  });
}
