import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { EpisodeIdFilter } from '../../src/hub/catalog/episode-id-filter.ts';
import { Catalog, type EpisodeRow } from '../../src/hub/catalog/index.ts';
import { NewestEpisodes } from '../../src/hub/catalog/newest-episodes.ts';
import type { ReadCachedDatabase } from '../../src/hub/catalog/read-cache.ts';
import { catalogBackends } from './backends.ts';
import { episode, ROBOTS, seedCatalog } from './fixtures.ts';

/** Listing order, as the catalog's SQL sorts (C collation: ids by bytes). */
function listingOrder(a: EpisodeRow, b: EpisodeRow): number {
  const t = Date.parse(b.recordedAt) - Date.parse(a.recordedAt);
  if (t !== 0) return t;
  if (a.episodeIndex !== b.episodeIndex) return b.episodeIndex - a.episodeIndex;
  return Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
}

function row(i: number, at: number, robotId = i % 3 === 0 ? 'b' : 'a', index = i): EpisodeRow {
  return {
    id: `ep-${String(i).padStart(4, '0')}`,
    datasetName: 'd',
    robotId,
    episodeIndex: index,
    task: 't',
    instruction: '',
    source: 'scripted',
    phase: 'drill',
    success: true,
    seed: i,
    length: 1,
    durationSec: 1,
    recordedAt: new Date(at).toISOString(),
  };
}

describe('newest episodes window', () => {
  test('holds exactly the first rows of the listing, whatever order rows arrive in', () => {
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    // Few distinct times and indexes, so ties on both are broken by id.
    const all = Array.from({ length: 400 }, (_, i) =>
      row(i, Date.UTC(2026, 0, 1) + Math.floor(random() * 40) * 1000, undefined, Math.floor(random() * 5)),
    );
    const window = new NewestEpisodes(50, [], true);
    const added: EpisodeRow[] = [];
    for (let i = 0; i < all.length; i += 17) {
      const batch = all.slice(i, i + 17);
      window.add([...batch, ...batch.slice(0, 3)]); // a re-sent row is not added twice
      added.push(...batch);
      const expected = [...added].sort(listingOrder);
      for (const [offset, limit] of [
        [0, 20],
        [30, 20],
        [45, 5],
      ] as const) {
        const page = window.page({ limit, offset });
        if (offset + limit <= Math.max(50, added.length) || added.length <= 50) {
          assert.deepEqual(
            page?.map((r) => r.id),
            expected.slice(offset, offset + limit).map((r) => r.id),
          );
        }
      }
      const robotB = expected.filter((r) => r.robotId === 'b');
      const b = window.page({ limit: 5, offset: 2, robotId: 'b' });
      if (b)
        assert.deepEqual(
          b.map((r) => r.id),
          robotB.slice(2, 7).map((r) => r.id),
        );
    }
    assert.equal(window.size, 50);
    // Past the window's end of a table it does not hold whole: not its to answer.
    assert.equal(window.page({ limit: 10, offset: 45 }), null);
    assert.equal(window.page({ limit: 500, offset: 0, robotId: 'b' }), null);
  });

  test('answers every page of a table it holds whole, short pages included', () => {
    const rows = [row(1, 3000), row(2, 2000), row(3, 1000, 'b')];
    const window = new NewestEpisodes(10, rows, true);
    assert.deepEqual(
      window.page({ limit: 10, offset: 1 })?.map((r) => r.id),
      ['ep-0002', 'ep-0003'],
    );
    assert.deepEqual(window.page({ limit: 10, offset: 0, robotId: 'c' }), []);
    // Older than everything it holds, while it holds the whole table: still the whole table.
    window.add([row(4, 500)]);
    assert.deepEqual(
      window.page({ limit: 1, offset: 3 })?.map((r) => r.id),
      ['ep-0004'],
    );
  });
});

describe('episode id filter', () => {
  test('never forgets an id, and rarely claims one it was never given', () => {
    const filter = new EpisodeIdFilter();
    const ids = Array.from({ length: 200_000 }, () => randomBytes(32).toString('hex'));
    for (const id of ids) filter.add(id);
    assert.ok(ids.every((id) => filter.mayHave(id)));
    let falseMaybe = 0;
    for (let i = 0; i < 20_000; i++) if (filter.mayHave(randomBytes(32).toString('hex'))) falseMaybe++;
    assert.ok(falseMaybe < 200, `${falseMaybe} of 20000 unknown ids claimed`);
  });
});

for (const backend of await catalogBackends()) {
  describe(`catalog reads from memory on ${backend.name}`, () => {
    after(() => backend.cleanup());

    /** The listing as the database sorts it. */
    async function sqlPage(c: Catalog, limit: number, offset: number, robot?: string): Promise<string[]> {
      const rows = await c.database.query<{ id: string }>(
        `SELECT id FROM episodes ${robot ? 'WHERE robot_id = $3' : ''}
         ORDER BY recorded_at DESC, episode_index DESC, id LIMIT $1 OFFSET $2`,
        robot ? [limit, offset, robot] : [limit, offset],
      );
      return rows.map((r) => r.id);
    }

    async function assertListingsMatch(c: Catalog): Promise<void> {
      for (const [limit, offset, robot] of [
        [20, 0, undefined],
        [7, 13, undefined],
        [50, 40, undefined],
        [5, 0, 'arm-01'],
        [5, 6, 'humanoid-01'],
        [10, 0, 'nobody'],
      ] as const) {
        const page = await c.listEpisodes({ limit, offset, ...(robot ? { robotId: robot } : {}) });
        assert.deepEqual(
          page.map((e) => e.id),
          await sqlPage(c, limit, offset, robot),
        );
        // Every field as the database has it.
        const stored = new Map((await c.getEpisodes(page.map((e) => e.id))).map((e) => [e.id, e]));
        for (const e of page) assert.deepEqual({ ...e }, stored.get(e.id));
      }
    }

    /** Statements the embedded catalog ran (its read cache's misses and writes). */
    const statements = (c: Catalog) => {
      const stats = (c.database as ReadCachedDatabase).stats;
      return stats ? stats.misses + stats.writes : Number.NaN;
    };

    /** Waits until the model has read the table (a lookup of an unknown id then runs no statement). */
    async function settled(c: Catalog): Promise<void> {
      for (let i = 0; i < 200; i++) {
        const before = statements(c);
        await c.getEpisodes([randomBytes(32).toString('hex')]);
        if (statements(c) === before) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail('the read model never finished reading the catalog');
    }

    test('listings and lookups agree with the database through inserts and other writers', async () => {
      const c = await Catalog.open(await backend.place('read-model'));
      try {
        await seedCatalog(c, 30);
        await assertListingsMatch(c);
        // Re-sent and new episodes, some recorded earlier than what is stored.
        const more = Array.from({ length: 40 }, (_, i) =>
          episode(20 + i, { recordedAt: new Date(Date.UTC(2025, 0, 1, 11, 59, i)).toISOString() }),
        );
        await c.insertEpisodeGroups([{ dataset: 'drills', episodes: more }], { atomic: false });
        await assertListingsMatch(c);
        const fresh = episode(500);
        assert.deepEqual(await c.getEpisodes([fresh.id]), []);
        await c.insertEpisodes('drills', [fresh]);
        assert.equal((await c.getEpisodes([fresh.id]))[0]?.id, fresh.id);

        // Writers other than the catalog's methods: SQL on the same database.
        await c.database.query(
          "UPDATE episodes SET recorded_at = recorded_at + interval '1 hour' WHERE episode_index % 4 = 0",
        );
        await assertListingsMatch(c);
        await c.database.query('DELETE FROM episodes WHERE episode_index % 5 = 0');
        await assertListingsMatch(c);
        const raw = episode(900, { robotId: ROBOTS[0]!.id });
        await c.database.query(
          `INSERT INTO episodes (id, dataset_name, robot_id, episode_index, task, instruction, source, phase,
                                 success, seed, length, duration_sec, recorded_at)
           VALUES ($1, 'drills', $2, 900, 'pick-place', '', 'scripted', 'drill', true, 1, 1, 1, $3)`,
          [raw.id, raw.robotId, '2030-01-01T00:00:00Z'],
        );
        assert.equal((await c.getEpisodes([raw.id]))[0]?.id, raw.id);
        await assertListingsMatch(c);
        assert.equal((await c.listEpisodes({ limit: 1, offset: 0 }))[0]?.id, raw.id);
      } finally {
        await c.close();
      }
    });

    if (backend.name === 'pglite') {
      test('the embedded catalog answers newest pages and unknown ids without a statement', async () => {
        const c = await Catalog.open(await backend.place('read-model-memory'));
        try {
          await seedCatalog(c, 12);
          await settled(c);
          const before = statements(c);
          await c.listEpisodes({ limit: 5, offset: 2 });
          await c.listEpisodes({ limit: 5, offset: 0, robotId: 'arm-01' });
          assert.deepEqual(await c.getEpisodes([randomBytes(32).toString('hex')]), []);
          assert.equal(statements(c), before);
          // A stored id still asks the database (the filter only knows it may be there).
          assert.equal((await c.getEpisodes([episode(3).id])).length, 1);
          assert.equal(statements(c), before + 1);
        } finally {
          await c.close();
        }
      });
    }
  });
}
