import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { registerDatasetsCommand } from '../../src/cli/commands/datasets.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { TgError } from '../../src/errors/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { Datasets, MANIFEST_EXPORT_PATH, splitOf } from '../../src/hub/datasets/index.ts';
import type { ApiErrorBody } from '../../src/hub/server/api-types.ts';
import { buildHubApp } from '../../src/hub/server/app.ts';
import { catalogBackends } from './backends.ts';
import { seedCatalog } from './fixtures.ts';
import { specs, writeRecordedDataset } from './recorded-datasets.ts';

let work: string;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'tg-datasets-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function rejectsWith(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof TgError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

for (const backend of await catalogBackends()) {
  describe(`datasets on ${backend.name}`, () => {
    let catalog: Catalog;
    let datasets: Datasets;
    let base: string;
    const ids: Record<string, string[]> = {};
    before(async () => {
      catalog = await Catalog.open(await backend.place('datasets'));
      datasets = new Datasets(catalog);
      base = path.join(work, backend.name);
      ids.d1 = await writeRecordedDataset(catalog, 'd1', path.join(base, 'src', 'd1'), specs(8, 0, 1));
      ids.d2 = await writeRecordedDataset(catalog, 'd2', path.join(base, 'src', 'd2'), specs(6, 100, 2));
    });
    after(async () => {
      await catalog?.close();
      await backend.cleanup();
    });

    test('create validates the name and the query and leaves the catalog unchanged on error', async () => {
      for (const bad of ['Bad', 'a/b', '../up', 'a..b', '', '-x', 'x'.repeat(64), 'a b']) {
        await assert.rejects(datasets.create(bad, {}), rejectsWith('INPUT_INVALID', /invalid dataset name/));
      }
      await assert.rejects(
        datasets.create('q1', { colour: 'red' } as never),
        rejectsWith('INPUT_INVALID', /invalid dataset query.*colour/),
      );
      await assert.rejects(
        datasets.create('q1', { phase: ['sleeping'] } as never),
        rejectsWith('INPUT_INVALID', /phase/),
      );
      await assert.rejects(
        datasets.create('q1', { recordedFrom: '2025-02-01T00:00:00Z', recordedTo: '2025-01-01T00:00:00Z' }),
        rejectsWith('INPUT_INVALID', /recordedFrom must be before recordedTo/),
      );
      assert.deepEqual(await datasets.list(), []);

      const created = await datasets.create('acme.ok_v-1', { vendor: 'acme', success: true });
      assert.deepEqual(created.query, { vendor: ['acme'], success: true });
      assert.equal(created.versions, 0);
      await assert.rejects(
        datasets.create('acme.ok_v-1', {}),
        rejectsWith('INPUT_INVALID', /already exists/),
      );
      assert.deepEqual(
        (await datasets.list()).map((d) => d.name),
        ['acme.ok_v-1'],
      );
    });

    test('freeze records the matching episodes as immutable numbered versions', async () => {
      await datasets.create('pick-ok', { task: 'pick', success: true });
      const v1 = await datasets.freeze('pick-ok', { valFraction: 0.5 });
      const expected = [
        ...specs(8, 0, 1).map((s, i) => ({ s, id: ids.d1![i]!, ds: 'd1' })),
        ...specs(6, 100, 2).map((s, i) => ({ s, id: ids.d2![i]!, ds: 'd2' })),
      ].filter((e) => e.s.task === 'pick' && e.s.success);
      assert.equal(v1.version, 1);
      assert.equal(v1.episodeCount, expected.length);
      assert.equal(
        v1.frameCount,
        expected.reduce((n, e) => n + e.s.length, 0),
      );
      const m = v1.manifest;
      assert.equal(m.name, 'pick-ok');
      assert.deepEqual(m.query, { task: ['pick'], success: true });
      assert.deepEqual(new Set(m.episodes.map((e) => e.id)), new Set(expected.map((e) => e.id)));
      for (const e of m.episodes) assert.equal(e.split, splitOf(e.id, 0.5));
      assert.deepEqual(
        m.splits.val,
        m.episodes.filter((e) => e.split === 'val').map((e) => e.id),
      );
      assert.equal(m.counts.train.episodes + m.counts.val.episodes, expected.length);
      assert.deepEqual(
        m.sources.map((s) => [s.dataset, s.path]),
        [
          ['d1', path.join(base, 'src', 'd1')],
          ['d2', path.join(base, 'src', 'd2')],
        ],
      );

      // New matching episodes arrive: version 2 holds them, version 1 is as it was.
      const more = specs(4, 200, 3).map((s) => ({ ...s, task: 'pick', success: true }));
      await writeRecordedDataset(catalog, 'd3', path.join(base, 'src', 'd3'), more);
      const v2 = await datasets.freeze('pick-ok', { valFraction: 0.5 });
      assert.equal(v2.version, 2);
      assert.equal(v2.episodeCount, expected.length + 4);
      assert.notEqual(v2.manifest.contentSha256, m.contentSha256);
      const again = await datasets.version('pick-ok', 1);
      assert.deepEqual(again.manifest, m);
      assert.equal(again.manifestSha256, v1.manifestSha256);
      assert.equal((await datasets.version('pick-ok')).version, 2);
      assert.equal((await datasets.get('pick-ok')).versions, 2);
      // The same episode keeps its split across versions.
      for (const e of v2.manifest.episodes) {
        const before = m.episodes.find((x) => x.id === e.id);
        if (before) assert.equal(e.split, before.split);
      }
      await assert.rejects(
        catalog.database.query(
          "UPDATE dataset_versions SET episode_count = 0 WHERE dataset_name = 'pick-ok'",
        ),
        /immutable/,
      );
      assert.equal((await datasets.version('pick-ok', 1)).episodeCount, expected.length);
    });

    test('concurrent freezes of one dataset get consecutive version numbers', async () => {
      await datasets.create('race', {});
      const versions = await Promise.all([1, 2, 3, 4].map(() => datasets.freeze('race')));
      assert.deepEqual(versions.map((v) => v.version).sort(), [1, 2, 3, 4]);
      assert.equal(new Set(versions.map((v) => v.manifest.contentSha256)).size, 1);
    });

    test('freeze and version errors', async () => {
      await datasets.create('nothing', { robot: 'no-such-robot' });
      await assert.rejects(datasets.freeze('nothing'), rejectsWith('INPUT_INVALID', /matches no episodes/));
      await assert.rejects(datasets.freeze('ghost'), rejectsWith('NOT_FOUND', /no dataset named ghost/));
      await assert.rejects(datasets.version('nothing'), rejectsWith('NOT_FOUND', /no frozen version/));
      await assert.rejects(datasets.version('nothing', 3), rejectsWith('NOT_FOUND', /has no version 3/));
      await assert.rejects(
        datasets.freeze('nothing', { valFraction: 2 }),
        rejectsWith('INPUT_INVALID', /valFraction/),
      );
    });

    test('export writes the version as a LeRobot v3 dataset: train then val, ids checked', async () => {
      await datasets.create('all-drill', { phase: 'drill' });
      const v = await datasets.freeze('all-drill', { valFraction: 0.4 });
      const out = path.join(base, 'exports', 'all-drill-v1');
      const r = await datasets.export('all-drill', 1, out);
      assert.equal(r.episodes, v.episodeCount);
      assert.equal(r.frames, v.frameCount);
      const ds = await readLeRobotDataset(out);
      try {
        assert.equal(ds.info.total_episodes, v.episodeCount);
        assert.equal(ds.info.total_frames, v.frameCount);
        assert.deepEqual(
          ds.tgEpisodes?.map((e) => e.id),
          v.manifest.episodes.map((e) => e.id),
        );
        const train = v.manifest.counts.train.episodes;
        const expectedSplits: Record<string, string> = {};
        if (train > 0) expectedSplits.train = `0:${train}`;
        if (train < v.episodeCount) expectedSplits.val = `${train}:${v.episodeCount}`;
        assert.deepEqual(ds.info.splits, expectedSplits);
        assert.deepEqual(r.splits, expectedSplits);
        const frames = await ds.readEpisodeFrames(0);
        assert.equal(frames.length, v.manifest.episodes[0]!.length);
      } finally {
        ds.close();
      }
      const written = JSON.parse(await readFile(path.join(out, MANIFEST_EXPORT_PATH), 'utf8'));
      assert.deepEqual(written, v.manifest);

      await assert.rejects(
        datasets.export('all-drill', 1, out),
        rejectsWith('INPUT_INVALID', /already exists/),
      );
      assert.deepEqual(await readdir(path.join(base, 'exports')), ['all-drill-v1']);
    });
  });
}

describe('datasets over HTTP', () => {
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

  const post = (url: string, payload: unknown, raw = false) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: raw ? (payload as string) : JSON.stringify(payload),
    });

  test('create, list, freeze and read a version', async () => {
    const created = await post('/api/datasets', {
      name: 'arm-ok',
      query: { robot: 'arm-01', success: true },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().dataset.query, { robot: ['arm-01'], success: true });

    const list = await app.inject({ method: 'GET', url: '/api/datasets' });
    assert.deepEqual(
      list.json().datasets.map((d: { name: string; versions: number }) => [d.name, d.versions]),
      [['arm-ok', 0]],
    );

    const frozen = await post('/api/datasets/arm-ok/freeze', { valFraction: 0.25 });
    assert.equal(frozen.statusCode, 201, frozen.body);
    const want = (await catalog.selectEpisodes({ robot: 'arm-01', success: true })).map((e) => e.id);
    assert.equal(frozen.json().version.version, 1);
    assert.equal(frozen.json().version.episodeCount, want.length);
    assert.equal(frozen.json().version.manifest, undefined);

    const v = await app.inject({ method: 'GET', url: '/api/datasets/arm-ok/versions/1' });
    assert.equal(v.statusCode, 200, v.body);
    assert.deepEqual(
      v
        .json()
        .version.manifest.episodes.map((e: { id: string }) => e.id)
        .sort(),
      want.sort(),
    );
    assert.equal(v.json().version.manifest.valFraction, 0.25);
  });

  test('malformed JSON, bad names and bad queries are 400 and change nothing', async () => {
    const before = await catalog.listDatasetDefinitions();
    const cases: [string, unknown, boolean, RegExp][] = [
      ['/api/datasets', '{"name": "x", ', true, /JSON/i],
      ['/api/datasets', { name: '../etc' }, false, /name/],
      ['/api/datasets', { name: 'Upper' }, false, /name/],
      ['/api/datasets', { name: 'ok', query: { phase: 'napping' } }, false, /phase/],
      ['/api/datasets', { name: 'ok', extra: 1 }, false, /unknown field "extra"/],
      ['/api/datasets', { name: 'arm-ok' }, false, /already exists/],
      ['/api/datasets/arm-ok/freeze', { valFraction: 3 }, false, /valFraction/],
      ['/api/datasets/a..b/freeze', {}, false, /dataset name/],
    ];
    for (const [url, payload, raw, pattern] of cases) {
      const res = await post(url, payload, raw);
      assert.equal(res.statusCode, 400, `${url} ${String(JSON.stringify(payload))}: ${res.body}`);
      const body = res.json() as ApiErrorBody;
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.match(body.error.message, pattern);
    }
    assert.deepEqual(await catalog.listDatasetDefinitions(), before);
    const v = await app.inject({ method: 'GET', url: '/api/datasets/arm-ok/versions/0' });
    assert.equal(v.statusCode, 400);
  });

  test('unknown datasets and versions are 404', async () => {
    const freeze = await post('/api/datasets/nope/freeze', {});
    assert.equal(freeze.statusCode, 404);
    assert.equal((freeze.json() as ApiErrorBody).error.code, 'NOT_FOUND');
    const v = await app.inject({ method: 'GET', url: '/api/datasets/arm-ok/versions/9' });
    assert.equal(v.statusCode, 404);
  });

  test('GET /api/docs is an OpenAPI document generated from the route schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/docs' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    const create = doc.paths['/api/datasets'].post;
    const body = create.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['name']);
    assert.equal(body.properties.name.pattern, '^[a-z0-9][a-z0-9._-]{0,62}$');
    assert.ok(doc.paths['/api/datasets/{name}/freeze'].post);
    assert.deepEqual(
      doc.paths['/api/datasets/{name}/versions/{version}'].get.parameters.map(
        (p: { name: string }) => p.name,
      ),
      ['name', 'version'],
    );
    const by = doc.paths['/api/analytics'].get.parameters.find((p: { name: string }) => p.name === 'by');
    assert.deepEqual(by.schema.enum, ['robot', 'vendor', 'task', 'phase', 'operator', 'field']);
    assert.equal(by.required, true);
    assert.ok(doc.paths['/api/analytics/timeline'].get.responses['200']);
  });
});

describe('tg datasets', () => {
  let home: string;
  before(async () => {
    home = path.join(work, 'cli-home');
    const catalog = await Catalog.open({ dataDir: path.join(home, 'catalog') });
    try {
      await writeRecordedDataset(catalog, 'runs', path.join(home, 'datasets', 'runs'), specs(6, 0, 1));
    } finally {
      await catalog.close();
    }
  });

  async function tg(...args: string[]): Promise<unknown> {
    const program = new Command('tg').option('--json').option('--home <dir>').exitOverride();
    registerDatasetsCommand(program);
    for (const cmd of program.commands) cmd.exitOverride();
    const chunks: string[] = [];
    const write = process.stdout.write;
    // printResult writes strings; the test runner's own (binary) reporter stream must pass through.
    process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => {
      if (typeof s !== 'string') return write.call(process.stdout, s, ...rest);
      chunks.push(s);
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['--json', '--home', home, ...args], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    return JSON.parse(chunks.join(''));
  }

  test('create, list, freeze and export through the CLI', async () => {
    const created = (await tg('datasets', 'create', 'arm-a-ok', '--robot', 'arm-a', '--success')) as {
      dataset: { query: unknown };
    };
    assert.deepEqual(created.dataset.query, { robot: ['arm-a'], success: true });
    const listed = (await tg('datasets', 'list')) as { datasets: { name: string }[] };
    assert.deepEqual(
      listed.datasets.map((d) => d.name),
      ['arm-a-ok'],
    );
    const frozen = (await tg('datasets', 'freeze', 'arm-a-ok', '--val-fraction', '0')) as {
      version: { version: number; episodeCount: number };
    };
    const want = specs(6, 0, 1).filter((s) => s.robot === 'arm-a' && s.success);
    assert.deepEqual([frozen.version.version, frozen.version.episodeCount], [1, want.length]);
    const out = path.join(work, 'cli-export');
    const exported = (await tg('datasets', 'export', 'arm-a-ok', '--out', out)) as {
      episodes: number;
      splits: unknown;
    };
    assert.equal(exported.episodes, want.length);
    assert.deepEqual(exported.splits, { train: `0:${want.length}` });
    const ds = await readLeRobotDataset(out);
    ds.close();
    assert.equal(ds.info.total_episodes, want.length);
    await assert.rejects(tg('datasets', 'create', 'Bad/Name'), { code: 'INPUT_INVALID' });
    await assert.rejects(tg('datasets', 'create', 'x', '--success', '--failed'), { code: 'USAGE' });
  });
});
