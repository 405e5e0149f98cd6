import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import type { FeatureStats } from '../../src/data/lerobot/format.ts';
import {
  decodeDepthPng,
  depthFeatureSpec,
  flatDepthStats,
  nestImageStats,
} from '../../src/data/lerobot/image.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { aggregateStats } from '../../src/data/lerobot/stats.ts';
import { filterEpisodes, mergeDatasets, splitDataset } from '../../src/data/lerobot/surgery.ts';
import { LeRobotWriter, type LeRobotWriterOptions } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const W = 6;
const H = 4;
const FPS = 10;
const DEPTH = 'observation.images.depth';
const FEATURES = {
  'observation.state': { dtype: 'float32', shape: [2], names: ['a', 'b'] },
  [DEPTH]: depthFeatureSpec(H, W),
  action: { dtype: 'float32', shape: [1], names: ['g'] },
} as LeRobotWriterOptions['features'];

const root = mkdtempSync(join(tmpdir(), 'tg-surgery-images-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Depth in mm that differs per (seed, frame, pixel), spanning most of the 16-bit range. */
function depthFrame(seed: number, f: number): Uint16Array {
  return Uint16Array.from({ length: W * H }, (_, i) => (seed * 7919 + f * 977 + i * 4099) % 65536);
}

function episode(seed: number, frames: number): RecordedEpisode {
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': 2, action: 1 } });
  for (let f = 0; f < frames; f++)
    rec.record(f / FPS, {
      'observation.state': new Float32Array([seed * 100 + f, -f]),
      action: new Float32Array([f / 2]),
    });
  return rec.finish({
    robot: 'cam-arm',
    embodimentHash: 'e',
    vendor: 'v',
    field: 'f',
    operator: 'o',
    task: 't',
    instruction: `look ${seed % 2}`,
    source: 'scripted',
    phase: 'drill',
    success: true,
    seed,
    events: [],
  });
}

/** Every input episode (by seed): its depth frames, as written. */
const depthOf = new Map<number, Uint16Array[]>();

async function writeDataset(dir: string, eps: [seed: number, frames: number][]): Promise<void> {
  const w = await LeRobotWriter.create(dir, { fps: FPS, robotType: 'cam-arm', features: FEATURES });
  for (const [seed, frames] of eps) {
    const depth = Array.from({ length: frames }, (_, f) => depthFrame(seed, f));
    depthOf.set(seed, depth);
    await w.addEpisode(episode(seed, frames), { [DEPTH]: depth });
  }
  await w.close();
}

function concat(frames: readonly Uint16Array[]): Uint16Array {
  const out = new Uint16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** Stats of the depth frames of these episodes computed directly: per episode, and for the dataset. */
function directStats(seeds: readonly number[]): {
  episodes: Record<keyof FeatureStats, unknown>[];
  dataset: Record<keyof FeatureStats, unknown>;
} {
  const flat = seeds.map((s) => {
    const frames = depthOf.get(s) as Uint16Array[];
    return flatDepthStats(concat(frames), frames.length);
  });
  const dataset = aggregateStats(flat.map((st) => ({ [DEPTH]: st })))[DEPTH] as FeatureStats;
  return { episodes: flat.map(nestImageStats), dataset: nestImageStats(dataset) };
}

interface Checked {
  /** Input seed of each output episode. */
  seeds: number[];
}

/**
 * Opens `dir` with the reader and checks it holds exactly the episodes of `seeds`, in order: contiguous
 * indices, each frame's PNG bytes identical to what the writer stored for the input (and decoding to the
 * recorded depth), and depth stats in meta/episodes and stats.json equal to a direct computation.
 */
async function checkOutput(dir: string, { seeds }: Checked, inputPngs: Map<number, Uint8Array[]>) {
  const ds = await readLeRobotDataset(dir);
  let index = 0;
  try {
    assert.equal(ds.episodes.length, seeds.length);
    for (let e = 0; e < seeds.length; e++) {
      const seed = seeds[e] as number;
      const depth = depthOf.get(seed) as Uint16Array[];
      const ep = ds.episodes[e];
      assert.equal(ep?.length, depth.length);
      assert.equal(ep?.datasetFromIndex, index);
      assert.equal(ep?.datasetToIndex, index + depth.length);
      const frames = await ds.readEpisodeFrames(e);
      assert.deepEqual(
        frames.index,
        depth.map((_, f) => index + f),
      );
      assert.deepEqual(
        frames.frameIndex,
        depth.map((_, f) => f),
      );
      const pngs = frames.images[DEPTH] as Uint8Array[];
      assert.equal(pngs.length, depth.length);
      const want = inputPngs.get(seed) as Uint8Array[];
      pngs.forEach((png, f) => {
        assert.ok(
          Buffer.from(png).equals(Buffer.from(want[f] as Uint8Array)),
          `episode ${e} frame ${f} bytes`,
        );
        assert.deepEqual(decodeDepthPng(png, `frame ${f}`).depthMm, depth[f]);
      });
      assert.equal(frames.columns['observation.state']?.[0], seed * 100);
      index += depth.length;
    }
    assert.equal(ds.info.total_frames, index);
  } finally {
    ds.close();
  }

  const direct = directStats(seeds);
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const glob = join(dir, 'meta/episodes/*/*.parquet');
    const cols = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q50', 'q99']
      .map((s) => `"stats/${DEPTH}/${s}" AS ${s}`)
      .join(', ');
    const rows = (
      await db.runAndReadAll(
        `SELECT ${cols}, typeof("stats/${DEPTH}/mean") AS t FROM read_parquet('${glob}') ORDER BY episode_index`,
      )
    ).getRowObjectsJS() as Record<string, unknown>[];
    assert.equal(rows.length, seeds.length);
    rows.forEach((row, e) => {
      const want = direct.episodes[e] as Record<string, unknown>;
      assert.equal(row.t, 'DOUBLE[][][]');
      for (const s of ['min', 'max', 'mean', 'std', 'q01', 'q50', 'q99'])
        assert.deepEqual(row[s], want[s], `episode ${e} ${s}`);
      assert.deepEqual((row.count as bigint[]).map(Number), want.count);
    });
  } finally {
    db.closeSync();
    instance.closeSync();
  }
  const stats = JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8'));
  const s = stats[DEPTH];
  const want = direct.dataset as Record<string, unknown>;
  for (const k of ['min', 'max', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'])
    assert.deepEqual(s[k], want[k], k);
  for (const k of ['mean', 'std']) {
    const got = s[k][0][0][0] as number;
    const exp = (want[k] as number[][][])[0]?.[0]?.[0] as number;
    assert.ok(Math.abs(got - exp) <= 1e-9 * Math.abs(exp), `${k}: ${got} vs ${exp}`);
  }
  assert.deepEqual(stats['observation.state'].count, [index]);
}

/** The PNG bytes of every input episode (by seed), read back from the inputs with the reader. */
async function inputPngs(dirs: [string, number[]][]): Promise<Map<number, Uint8Array[]>> {
  const out = new Map<number, Uint8Array[]>();
  for (const [dir, seeds] of dirs) {
    const ds = await readLeRobotDataset(dir);
    try {
      for (let e = 0; e < seeds.length; e++)
        out.set(seeds[e] as number, (await ds.readEpisodeFrames(e)).images[DEPTH] as Uint8Array[]);
    } finally {
      ds.close();
    }
  }
  return out;
}

describe('dataset surgery carries depth image features', () => {
  const a = join(root, 'a');
  const b = join(root, 'b');
  let pngs: Map<number, Uint8Array[]>;
  before(async () => {
    await writeDataset(a, [
      [1, 3],
      [2, 5],
    ]);
    await writeDataset(b, [
      [3, 4],
      [4, 2],
    ]);
    pngs = await inputPngs([
      [a, [1, 2]],
      [b, [3, 4]],
    ]);
  });

  test('merge, filter out an episode, split: frames, bytes, indices and depth stats stay consistent', async () => {
    const merged = join(root, 'merged');
    const r = await mergeDatasets([a, b], merged);
    assert.equal(r.episodes, 4);
    assert.equal(r.frames, 14);
    await checkOutput(merged, { seeds: [1, 2, 3, 4] }, pngs);

    const filtered = join(root, 'filtered');
    const f = await filterEpisodes(merged, filtered, { exclude: [1] });
    assert.deepEqual(f.sourceEpisodes, [0, 2, 3]);
    assert.equal(f.frames, 9);
    await checkOutput(filtered, { seeds: [1, 3, 4] }, pngs);

    const parts = join(root, 'parts');
    const s = await splitDataset(merged, { train: [0, 1, 3], val: [2] }, parts);
    assert.deepEqual(
      s.map((p) => [p.episodes, p.frames]),
      [
        [3, 10],
        [1, 4],
      ],
    );
    await checkOutput(join(parts, 'train'), { seeds: [1, 2, 4] }, pngs);
    await checkOutput(join(parts, 'val'), { seeds: [3] }, pngs);
  });

  test('an episode without stored stats gets its depth stats recomputed from its frames', async () => {
    // Drop the stats columns of the input's episodes metadata: surgery must decode the PNGs itself.
    const bare = join(root, 'bare');
    await writeDataset(bare, [
      [5, 3],
      [6, 4],
    ]);
    const file = join(bare, 'meta/episodes/chunk-000/file-000.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await db.run(
        `COPY (SELECT COLUMNS(c -> c NOT LIKE 'stats/%') FROM read_parquet('${file}')) TO '${file}.new' (FORMAT parquet)`,
      );
    } finally {
      db.closeSync();
      instance.closeSync();
    }
    writeFileSync(file, readFileSync(`${file}.new`));
    rmSync(`${file}.new`);
    const out = join(root, 'bare-out');
    await filterEpisodes(bare, out, [0, 1]);
    const more = await inputPngs([[bare, [5, 6]]]);
    await checkOutput(out, { seeds: [5, 6] }, more);
  });

  test('video features are still refused with a clear error, and nothing is written', async () => {
    const vid = join(root, 'vid');
    await writeDataset(vid, [[7, 2]]);
    const infoPath = join(vid, 'meta/info.json');
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    info.features['observation.images.cam'] = {
      dtype: 'video',
      shape: [H, W, 3],
      names: ['height', 'width', 'channels'],
    };
    writeFileSync(infoPath, JSON.stringify(info, null, 4));
    const out = join(root, 'vid-out');
    await assert.rejects(mergeDatasets([vid], out), (err: unknown) => {
      assert.ok(isTgError(err), String(err));
      assert.equal(err.code, 'INPUT_INVALID');
      assert.match(
        err.message,
        /feature observation\.images\.cam is video; surgery handles frame data and image/,
      );
      return true;
    });
    assert.equal(existsSync(out), false);
    await assert.rejects(splitDataset(vid, { train: 1 }, join(root, 'vid-split')), /is video/);
    assert.equal(existsSync(join(root, 'vid-split')), false);
  });
});
