/**
 * Episodes that fields uploaded (bundles in the hub's blob store) are usable by datasets: create and
 * freeze find them, and export materializes them as LeRobot v3, also mixed with a LeRobot source dataset.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { TgError } from '../../src/errors/index.ts';
import { encodeBundle } from '../../src/field/transfer/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { Datasets } from '../../src/hub/datasets/index.ts';
import { EpisodeIngest } from '../../src/hub/ingest/index.ts';
import { tempDir } from '../field/fixtures.ts';
import { catalogBackends } from './backends.ts';
import { FPS, specs, writeRecordedDataset } from './recorded-datasets.ts';

/** An episode as a field records it, shaped like the recorded-datasets fixture (state[2], action[1]). */
function fieldEpisode(seed: number, length: number, success: boolean): RecordedEpisode {
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': 2, action: 1 } });
  for (let f = 0; f < length; f++) {
    rec.record(f / FPS, {
      'observation.state': new Float32Array([seed + f * 0.5, -f]),
      action: new Float32Array([Math.cos(seed + f)]),
    });
  }
  return rec.finish({
    robot: 'field-arm',
    embodimentHash: 'e1',
    vendor: 'acme',
    field: 'east',
    operator: 'cy',
    task: 'pick',
    instruction: 'do pick',
    source: 'teleop',
    phase: 'drill',
    success,
    seed,
    events: [],
  });
}

const NAMES = { 'observation.state': ['a', 'b'], action: ['g'] };

for (const backend of await catalogBackends()) {
  describe(`datasets over ingested episodes on ${backend.name}`, () => {
    let catalog: Catalog;
    let datasets: Datasets;
    let ingest: EpisodeIngest;
    let work: string;
    const uploaded: RecordedEpisode[] = [];
    before(async () => {
      work = tempDir('tg-datasets-ingested-');
      catalog = await Catalog.open(await backend.place('ingested'));
      datasets = new Datasets(catalog);
      await catalog.upsertRobot({
        id: 'field-arm',
        name: 'field-arm',
        embodiment: 'sim-arm',
        embodimentHash: 'e1',
        vendor: 'acme',
        field: 'east',
      });
      ingest = await EpisodeIngest.open({ catalog, dir: path.join(work, 'hub') });
      for (let i = 0; i < 6; i++) uploaded.push(fieldEpisode(40 + i, 4 + i, i % 3 !== 2));
      const results = await ingest.ingestBatch(
        uploaded.map((e) => ({ bundle: encodeBundle(e, { names: NAMES }) })),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        uploaded.map(() => 'stored'),
      );
      // A LeRobot source with the same features, to mix with.
      await writeRecordedDataset(catalog, 'lab', path.join(work, 'lab'), specs(4, 0, 1));
    });
    after(async () => {
      await catalog?.close();
      await backend.cleanup();
      await rm(work, { recursive: true, force: true });
    });

    test('freeze names each uploaded episode by its blob; export writes them as LeRobot v3', async () => {
      await datasets.create('east-ok', { field: 'east', success: true });
      const v = await datasets.freeze('east-ok', { valFraction: 0 });
      const ok = uploaded.filter((e) => e.meta.success);
      assert.equal(v.episodeCount, ok.length);
      assert.deepEqual(
        v.manifest.sources.map((s) => [s.dataset, s.storage, s.path]),
        [['east-sim-arm', 'blobs', ingest.blobs.root]],
      );
      for (const e of v.manifest.episodes) assert.match(e.blobSha256 ?? '', /^[0-9a-f]{64}$/);

      const out = path.join(work, 'exports', 'east-ok');
      const r = await datasets.export('east-ok', 1, out);
      assert.deepEqual([r.episodes, r.frames], [ok.length, ok.reduce((n, e) => n + e.length, 0)]);
      const ds = await readLeRobotDataset(out);
      try {
        assert.equal(ds.info.fps, FPS);
        assert.equal(ds.info.robot_type, 'sim-arm');
        assert.deepEqual(ds.info.features['observation.state']?.names, ['a', 'b']);
        assert.deepEqual(ds.info.splits, { train: `0:${ok.length}` });
        assert.deepEqual(
          ds.tgEpisodes?.map((e) => e.id),
          v.manifest.episodes.map((e) => e.id),
        );
        for (const [i, m] of v.manifest.episodes.entries()) {
          const original = ok.find((e) => e.meta.id === m.id) as RecordedEpisode;
          const frames = await ds.readEpisodeFrames(i);
          assert.equal(frames.length, original.length);
          assert.deepEqual(frames.columns['observation.state'], original.columns['observation.state']);
          assert.deepEqual(frames.columns.action, original.columns.action);
        }
      } finally {
        ds.close();
      }
    });

    test('a dataset over uploads and a LeRobot source exports as one merged dataset', async () => {
      await datasets.create('all-pick', { task: 'pick' });
      const v = await datasets.freeze('all-pick', { valFraction: 0.5 });
      const bySource = new Map(v.manifest.sources.map((s) => [s.dataset, s.storage]));
      assert.deepEqual(Object.fromEntries(bySource), { 'east-sim-arm': 'blobs', lab: 'lerobot' });
      const out = path.join(work, 'exports', 'all-pick');
      const r = await datasets.export('all-pick', 1, out);
      assert.equal(r.episodes, v.episodeCount);
      const ds = await readLeRobotDataset(out);
      try {
        assert.equal(ds.info.total_episodes, v.episodeCount);
        assert.equal(ds.info.total_frames, v.frameCount);
        assert.deepEqual(
          ds.tgEpisodes?.map((e) => e.id),
          v.manifest.episodes.map((e) => e.id),
        );
      } finally {
        ds.close();
      }
    });

    test('a corrupted or missing blob fails the export and leaves nothing behind', async () => {
      await datasets.create('east-all', { field: 'east' });
      const v = await datasets.freeze('east-all');
      const victim = v.manifest.episodes[1]!;
      // Damage the victim's bytes where its pack holds them.
      const bundle = Buffer.from(await ingest.blobs.read(victim.blobSha256!));
      const packs = path.join(ingest.blobs.root, 'packs');
      let file = '';
      for (const name of await readdir(packs)) {
        const bytes = await readFile(path.join(packs, name));
        const at = bytes.indexOf(bundle);
        if (at < 0) continue;
        file = path.join(packs, name);
        bytes.fill(0x5a, at + 100, at + 200);
        await writeFile(file, bytes);
      }
      assert.ok(file, 'a pack holds the victim');
      const exports = path.join(work, 'exports');
      const before = await readdir(exports);
      await assert.rejects(datasets.export('east-all', 1, path.join(exports, 'broken')), (err: unknown) => {
        assert.ok(err instanceof TgError);
        assert.equal(err.code, 'STORAGE_FAILED');
        assert.match(err.message, new RegExp(`bundle of episode ${victim.id} is corrupt`));
        return true;
      });
      await rm(file);
      await assert.rejects(datasets.export('east-all', 1, path.join(exports, 'broken')), /no blob sha256/);
      assert.deepEqual(await readdir(exports), before, 'no partial export, no staging left');
    });
  });
}
