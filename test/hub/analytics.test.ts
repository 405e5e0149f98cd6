import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Verdict } from '../../src/data/quality/index.ts';
import { Analytics, type AnalyticsRow, type TimelineRow } from '../../src/hub/analytics/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import type { ApiErrorBody } from '../../src/hub/server/api-types.ts';
import { buildHubApp } from '../../src/hub/server/app.ts';
import { catalogBackends } from './backends.ts';
import { episode, seedCatalog } from './fixtures.ts';
import { type EpisodeSpec, specs, writeRecordedDataset } from './recorded-datasets.ts';

let work: string;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'tg-analytics-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The numbers computed by hand from the specs, the verdict of each episode given by `fails`. */
function expected(
  all: { s: EpisodeSpec; id: string }[],
  key: (s: EpisodeSpec) => string,
  fails: Set<string>,
): AnalyticsRow[] {
  const groups = new Map<string, { s: EpisodeSpec; id: string }[]>();
  for (const e of all) groups.set(key(e.s), [...(groups.get(key(e.s)) ?? []), e]);
  return [...groups.entries()]
    .map(([k, es]) => {
      const frames = es.reduce((n, e) => n + e.s.length, 0);
      const accepted = es.filter((e) => !fails.has(e.id)).reduce((n, e) => n + e.s.length, 0);
      const successes = es.filter((e) => e.s.success).length;
      return {
        key: k,
        episodes: es.length,
        successes,
        successRate: successes / es.length,
        frames,
        checkedFrames: frames,
        acceptedFrames: accepted,
        yield: accepted / frames,
      };
    })
    .sort((a, b) => b.episodes - a.episodes || (a.key < b.key ? -1 : 1));
}

for (const backend of await catalogBackends()) {
  describe(`analytics on ${backend.name}`, () => {
    let catalog: Catalog;
    const all: { s: EpisodeSpec; id: string }[] = [];
    const fails = new Set<string>();
    let analytics: Analytics;
    before(async () => {
      catalog = await Catalog.open(await backend.place('analytics'));
      const base = path.join(work, backend.name);
      for (const [name, list] of [
        ['d1', specs(8, 0, 1)],
        ['d2', specs(6, 100, 2)],
      ] as const) {
        const ids = await writeRecordedDataset(catalog, name, path.join(base, name), list);
        for (const [i, s] of list.entries()) all.push({ s, id: ids[i]! });
      }
      // Every third episode by seed fails its quality checks.
      for (const e of all) if (e.s.seed % 3 === 2) fails.add(e.id);
      const verdicts = async (): Promise<Map<string, Verdict>> =>
        new Map(all.map((e) => [e.id, fails.has(e.id) ? 'fail' : 'pass']));
      analytics = new Analytics(catalog, { verdicts });
    });
    after(async () => {
      await catalog?.close();
      await backend.cleanup();
    });

    test('breakdowns by every dimension match the numbers computed by hand', async () => {
      const keys: Record<string, (s: EpisodeSpec) => string> = {
        robot: (s) => s.robot,
        vendor: (s) => s.vendor,
        task: (s) => s.task,
        phase: (s) => s.phase,
        operator: (s) => s.operator,
        field: (s) => s.field,
      };
      for (const [by, key] of Object.entries(keys)) {
        assert.deepEqual(await analytics.breakdown(by as 'robot'), expected(all, key, fails), by);
      }
    });

    test('a filter narrows the rows first', async () => {
      const rows = await analytics.breakdown('task', { vendor: 'acme', success: true });
      const subset = all.filter((e) => e.s.vendor === 'acme' && e.s.success);
      assert.deepEqual(
        rows,
        expected(subset, (s) => s.task, fails),
      );
    });

    test('timeline by day and by hour', async () => {
      const day = await analytics.timeline('day');
      assert.deepEqual(
        day.map((r) => [r.bucketStart, r.episodes]),
        [
          ['2025-01-01T00:00:00.000Z', 8],
          ['2025-01-02T00:00:00.000Z', 6],
        ],
      );
      const hourKey = (s: EpisodeSpec) => {
        const d = new Date(s.recordedAt);
        d.setUTCMinutes(0, 0, 0);
        return d.toISOString();
      };
      const hour = await analytics.timeline('hour');
      const want = expected(all, hourKey, fails).sort((a, b) => (a.key < b.key ? -1 : 1));
      assert.deepEqual(
        hour.map(({ bucketStart, ...r }) => {
          assert.equal(bucketStart, r.key);
          return r;
        }),
        want,
      );
    });

    test('default verdicts come from the quality checks; unreadable datasets count but are not checked', async () => {
      await catalog.registerDataset({
        name: 'gone',
        path: path.join(work, 'nowhere'),
        fps: 10,
        robotType: 'x',
      });
      const lost = specs(1, 900, 5)[0]!;
      await catalog.insertEpisodes('gone', [
        {
          id: 'f'.repeat(64),
          robotId: lost.robot,
          episodeIndex: 0,
          task: 'pick',
          instruction: '',
          source: 'scripted',
          phase: 'drill',
          success: true,
          seed: 900,
          length: 40,
          durationSec: 4,
          recordedAt: lost.recordedAt,
        },
      ]);
      const rows = await new Analytics(catalog).breakdown('operator');
      const unknown = rows.find((r) => r.key === 'unknown');
      assert.deepEqual(unknown && [unknown.episodes, unknown.frames, unknown.checkedFrames, unknown.yield], [
        1,
        40,
        0,
        null,
      ]);
      const checked = rows.filter((r) => r.key !== 'unknown');
      assert.equal(
        checked.reduce((n, r) => n + r.checkedFrames, 0),
        all.reduce((n, e) => n + e.s.length, 0),
      );
      for (const r of checked) assert.ok(r.yield !== null && r.yield >= 0 && r.yield <= 1);
      await assert.rejects(analytics.breakdown('colour' as 'robot'), { code: 'INPUT_INVALID' });
      await assert.rejects(analytics.timeline('week' as 'day'), { code: 'INPUT_INVALID' });
    });
  });
}

describe('analytics over HTTP', () => {
  let catalog: Catalog;
  let app: FastifyInstance;
  before(async () => {
    catalog = await Catalog.open({ dataDir: 'memory://' });
    await seedCatalog(catalog, 6);
    app = await buildHubApp({ catalog });
  });
  after(async () => {
    await app.close();
    await catalog.close();
  });

  test('GET /api/analytics?by=robot counts episodes and successes per robot', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/analytics?by=robot' });
    assert.equal(res.statusCode, 200, res.body);
    const seeded = Array.from({ length: 6 }, (_, i) => episode(i));
    const arm = seeded.filter((e) => e.robotId === 'arm-01');
    const row = res.json().rows.find((r: AnalyticsRow) => r.key === 'arm-01');
    assert.deepEqual(
      [row.episodes, row.successes, row.frames, row.checkedFrames, row.yield],
      [arm.length, arm.filter((e) => e.success).length, arm.reduce((n, e) => n + e.length, 0), 0, null],
    );
    const vendor = await app.inject({ method: 'GET', url: '/api/analytics?by=vendor&success=true' });
    assert.equal(
      vendor.json().rows.reduce((n: number, r: AnalyticsRow) => n + r.episodes, 0),
      seeded.filter((e) => e.success).length,
    );
  });

  test('GET /api/analytics/timeline?bucket=hour', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/analytics/timeline?bucket=hour' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json().rows.map((r: TimelineRow) => [r.bucketStart, r.episodes]),
      [['2025-01-01T12:00:00.000Z', 6]],
    );
  });

  test('bad parameters are 400', async () => {
    for (const url of [
      '/api/analytics',
      '/api/analytics?by=colour',
      '/api/analytics?by=robot&success=maybe',
      '/api/analytics?by=robot&nope=1',
      '/api/analytics/timeline?bucket=week',
      '/api/analytics/timeline?bucket=day&from=yesterday',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
      assert.equal((res.json() as ApiErrorBody).error.code, 'INPUT_INVALID');
    }
  });
});
