import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { runTg, tempDir } from './run-cli.ts';

const FPS = 20;
const DIM = 2;

async function writeDataset(dir: string, episodes: number): Promise<string[]> {
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': DIM, action: DIM } });
  const w = await LeRobotWriter.create(dir, {
    fps: FPS,
    robotType: 'sim-arm',
    features: {
      'observation.state': { dtype: 'float32', shape: [DIM], names: ['a', 'b'] },
      action: { dtype: 'float32', shape: [DIM], names: ['a', 'b'] },
    },
  });
  const ids: string[] = [];
  const s = new Float32Array(DIM);
  for (let e = 0; e < episodes; e++) {
    for (let f = 0; f < 6 + e; f++) {
      s[0] = e;
      s[1] = f;
      rec.record(f / FPS, { 'observation.state': s, action: s });
    }
    const ep = rec.finish({
      robot: `arm-${e % 2}`,
      embodimentHash: 'e1',
      vendor: 'acme',
      field: 'lab',
      operator: 'op',
      task: 'pick',
      instruction: `pick ${e}`,
      source: 'scripted',
      phase: 'drill',
      success: e % 2 === 0,
      seed: e,
      events: [],
    });
    ids.push(ep.meta.id);
    await w.addEpisode(ep);
  }
  await w.close();
  return ids;
}

async function withCatalog<T>(home: string, fn: (c: Catalog) => Promise<T>): Promise<T> {
  const catalog = await Catalog.open({ dataDir: path.join(home, 'catalog') });
  try {
    return await fn(catalog);
  } finally {
    await catalog.close();
  }
}

/** Everything under TG_HOME/datasets (hidden staging directories included). */
function datasetsDir(home: string): string[] {
  const dir = path.join(home, 'datasets');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('tg import lerobot', () => {
  const root = tempDir('tg-import-');
  const src = path.join(root, 'ours');
  let ids: string[] = [];

  before(async () => {
    ids = await writeDataset(src, 4);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('copies a dataset written by our writer into the home and registers it and its episodes', async () => {
    const home = path.join(root, 'home-ok');
    const run = await runTg(['import', 'lerobot', src, '--name', 'picks', '--json'], {
      env: { TG_HOME: home },
    });
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    const dest = path.join(home, 'datasets', 'picks');
    assert.equal(out.path, dest);
    assert.equal(out.episodes, 4);
    assert.equal(out.frames, 6 + 7 + 8 + 9);
    assert.equal(out.inserted, 4);
    assert.deepEqual(datasetsDir(home), ['picks']);
    const copy = await readLeRobotDataset(dest);
    copy.close();
    assert.equal(copy.info.total_frames, 30);

    await withCatalog(home, async (catalog) => {
      const datasets = await catalog.listDatasets();
      assert.deepEqual(
        datasets.map((d) => [d.name, d.path, d.fps, d.robotType]),
        [['picks', dest, FPS, 'sim-arm']],
      );
      const rows = await catalog.listEpisodes({ limit: 100, offset: 0 });
      const byIndex = rows.sort((a, b) => a.episodeIndex - b.episodeIndex);
      assert.deepEqual(
        byIndex.map((r) => [r.id, r.datasetName, r.robotId, r.instruction, r.success, r.length]),
        ids.map((id, e) => [id, 'picks', `arm-${e % 2}`, `pick ${e}`, e % 2 === 0, 6 + e]),
      );
    });

    // The same name again is refused and changes nothing.
    const again = await runTg(['import', 'lerobot', src, '--name', 'picks'], { env: { TG_HOME: home } });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /picks is already registered/);
    assert.deepEqual(datasetsDir(home), ['picks']);
  });

  it('imports a dataset without Training Ground metadata (as LeRobot writes it), with content-hash ids', async () => {
    const foreign = path.join(root, 'foreign');
    cpSync(src, foreign, { recursive: true });
    rmSync(path.join(foreign, 'meta', 'tg_episodes.jsonl'));
    const home = path.join(root, 'home-foreign');
    const run = await runTg(['import', 'lerobot', foreign, '--json'], { env: { TG_HOME: home } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).name, 'foreign');
    await withCatalog(home, async (catalog) => {
      const rows = (await catalog.listEpisodes({ limit: 100, offset: 0 })).sort(
        (a, b) => a.episodeIndex - b.episodeIndex,
      );
      assert.equal(rows.length, 4);
      assert.equal(new Set(rows.map((r) => r.id)).size, 4);
      for (const r of rows) {
        assert.match(r.id, /^[0-9a-f]{64}$/);
        assert.ok(!ids.includes(r.id));
        assert.equal(r.robotId, 'sim-arm');
        assert.equal(r.instruction, `pick ${r.episodeIndex}`);
      }
    });
  });

  it('reports video features as copied as-is', async () => {
    const withVideo = path.join(root, 'video');
    cpSync(src, withVideo, { recursive: true });
    const infoPath = path.join(withVideo, 'meta', 'info.json');
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    info.features['observation.images.cam'] = {
      dtype: 'video',
      shape: [4, 4, 3],
      names: ['height', 'width', 'channels'],
    };
    writeFileSync(infoPath, JSON.stringify(info));
    const home = path.join(root, 'home-video');
    const run = await runTg(['import', 'lerobot', withVideo], { env: { TG_HOME: home } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /observation\.images\.cam: mp4 files copied as-is/);
  });

  for (const [what, corrupt, pattern] of [
    [
      'a truncated data file',
      (dir: string) => truncateSync(path.join(dir, 'data', 'chunk-000', 'file-000.parquet'), 40),
      /data\/chunk-000\/file-000\.parquet: cannot read/,
    ],
    [
      'an info.json that is not JSON',
      (dir: string) => writeFileSync(path.join(dir, 'meta', 'info.json'), '{"codebase_version": "v3.0",'),
      /meta\/info\.json: not valid JSON/,
    ],
  ] as const) {
    it(`refuses ${what} with one error naming the file, leaving nothing behind`, async () => {
      const bad = path.join(root, `bad-${what.replaceAll(' ', '-')}`);
      cpSync(src, bad, { recursive: true });
      corrupt(bad);
      const home = path.join(root, `home-${path.basename(bad)}`);
      const run = await runTg(['import', 'lerobot', bad, '--name', 'broken'], { env: { TG_HOME: home } });
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] ?? '', pattern);
      assert.ok((lines[0] ?? '').includes(bad), 'the error names the source dataset');
      assert.deepEqual(datasetsDir(home), []);
      await withCatalog(home, async (catalog) => {
        assert.deepEqual(await catalog.listDatasets(), []);
        assert.equal(await catalog.countEpisodes(), 0);
      });
    });
  }

  it('refuses a directory that does not exist', async () => {
    const home = path.join(root, 'home-missing');
    const run = await runTg(['import', 'lerobot', path.join(root, 'nope')], { env: { TG_HOME: home } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no such dataset directory/);
    assert.deepEqual(datasetsDir(home), []);
  });
});
