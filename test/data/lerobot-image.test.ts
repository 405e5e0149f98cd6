import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import {
  decodeDepthPng,
  depthFeatureSpec,
  depthImageStats,
  encodeDepthPng,
} from '../../src/data/lerobot/image.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { LeRobotWriter, type LeRobotWriterOptions } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const W = 7;
const H = 5;
const FRAMES = 4;
const root = mkdtempSync(join(tmpdir(), 'tg-image-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Depth in mm over the whole 16-bit range, different in every frame. */
function depthFrame(f: number): Uint16Array {
  return Uint16Array.from({ length: W * H }, (_, i) => (i * 4099 + f * 977 + (i === 0 ? 65535 : 0)) % 65536);
}

describe('depth images as LeRobot image features', () => {
  test('a depth frame survives a 16-bit grayscale PNG bit-exactly', () => {
    const d = depthFrame(3);
    d[1] = 65535;
    d[2] = 0;
    const png = encodeDepthPng(d, W, H);
    // IHDR: bit depth 16, colour type 0 (grayscale)
    assert.equal(png[24], 16);
    assert.equal(png[25], 0);
    const back = decodeDepthPng(png, 'frame 0');
    assert.equal(back.width, W);
    assert.equal(back.height, H);
    assert.deepEqual(back.depthMm, d);
    assert.throws(() => encodeDepthPng(d, W + 1, H), /pixels, expected/);
    assert.throws(
      () => decodeDepthPng(png.subarray(0, 30), 'data/x.parquet frame 2'),
      (e: unknown) => isTgError(e) && /data\/x\.parquet frame 2: not a PNG image/.test(e.message),
    );
  });

  test('the feature spec and stats follow LeRobot (shape [h,w,c], per-channel [1,1,1] stats in mm)', () => {
    assert.deepEqual(depthFeatureSpec(H, W), {
      dtype: 'image',
      shape: [H, W, 1],
      names: ['height', 'width', 'channels'],
      info: { is_depth_map: true, depth_unit: 'mm' },
    });
    const all = new Uint16Array([10, 20, 30, 40]);
    const s = depthImageStats(all, 2);
    assert.deepEqual(s.min, [[[10]]]);
    assert.deepEqual(s.max, [[[40]]]);
    assert.deepEqual(s.mean, [[[25]]]);
    assert.deepEqual(s.count, [2]);
  });

  test('the writer stores depth frames as a {bytes, path} image column that reads back bit-exactly', async () => {
    const dir = join(root, 'ds');
    const features = {
      'observation.state': { dtype: 'float32', shape: [2], names: ['a', 'b'] },
      'observation.images.depth': depthFeatureSpec(H, W),
      action: { dtype: 'float32', shape: [1], names: ['g'] },
    } as LeRobotWriterOptions['features'];
    const w = await LeRobotWriter.create(dir, { fps: 10, robotType: 'cam-arm', features });
    // Episode 0 gives depth in mm, episode 1 the same kind of frames already PNG-encoded.
    const depth = [0, 1].map((e) => Array.from({ length: FRAMES + e }, (_, f) => depthFrame(f + 10 * e)));
    await w.addEpisode(episode(FRAMES), { 'observation.images.depth': depth[0] as Uint16Array[] });
    await w.addEpisode(episode(FRAMES + 1), {
      'observation.images.depth': (depth[1] as Uint16Array[]).map((d) => encodeDepthPng(d, W, H)),
    });
    await w.close();

    const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
    assert.deepEqual(info.features['observation.images.depth'], depthFeatureSpec(H, W));
    assert.deepEqual(Object.keys(info.features).slice(0, 3), Object.keys(features));

    const file = join(dir, 'data/chunk-000/file-000.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const cols = (
        await db.runAndReadAll(
          `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
        )
      ).getRowObjectsJS();
      assert.deepEqual(
        cols.map((c) => c.column_name),
        [
          'observation.state',
          'observation.images.depth',
          'action',
          'timestamp',
          'frame_index',
          'episode_index',
          'index',
          'task_index',
        ],
      );
      assert.equal(cols[1]?.column_type, 'STRUCT(bytes BLOB, path VARCHAR)');
      const paths = (
        await db.runAndReadAll(
          `SELECT count(*) AS n, count(*) FILTER (WHERE "observation.images.depth".path <> '') AS paths FROM read_parquet('${file}')`,
        )
      ).getRowObjectsJS()[0];
      assert.equal(Number(paths?.n), 2 * FRAMES + 1);
      assert.equal(Number(paths?.paths), 0);
      const kv = (
        await db.runAndReadAll(
          `SELECT decode(value) AS v FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'huggingface'`,
        )
      ).getRowObjectsJS()[0];
      const hf = JSON.parse(String(kv?.v));
      assert.deepEqual(hf.info.features['observation.images.depth'], { _type: 'Image' });
      assert.deepEqual(hf.info.features['observation.state'], {
        feature: { dtype: 'float32', _type: 'Value' },
        length: 2,
        _type: 'List',
      });

      // Episode stats: per channel, nested [1][1] as LeRobot keeps image stats; count = frames.
      const episodes = join(dir, 'meta/episodes/chunk-000/file-000.parquet');
      const rows = (
        await db.runAndReadAll(
          `SELECT "stats/observation.images.depth/min" AS mn, "stats/observation.images.depth/max" AS mx, ` +
            `"stats/observation.images.depth/mean" AS mean, "stats/observation.images.depth/count" AS n, ` +
            `typeof("stats/observation.images.depth/mean") AS t FROM read_parquet('${episodes}') ORDER BY episode_index`,
        )
      ).getRowObjectsJson();
      assert.equal(rows.length, 2);
      rows.forEach((row, e) => {
        const all = concat(depth[e] as Uint16Array[]);
        const want = depthImageStats(all, (depth[e] as Uint16Array[]).length);
        assert.equal(row.t, 'DOUBLE[][][]');
        assert.deepEqual(row.mn, want.min);
        assert.deepEqual(row.mx, want.max);
        assert.deepEqual(row.mean, want.mean);
        assert.deepEqual(row.n, [String((depth[e] as Uint16Array[]).length)]);
      });
    } finally {
      db.closeSync();
      instance.closeSync();
    }

    const stats = JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8'));
    const all = concat([...(depth[0] as Uint16Array[]), ...(depth[1] as Uint16Array[])]);
    const whole = depthImageStats(all, 2 * FRAMES + 1);
    const s = stats['observation.images.depth'];
    assert.deepEqual(s.min, whole.min);
    assert.deepEqual(s.max, whole.max);
    assert.deepEqual(s.count, [2 * FRAMES + 1]);
    assert.ok(Math.abs(s.mean[0][0][0] - ((whole.mean as number[][][])[0]?.[0]?.[0] ?? Number.NaN)) < 1e-6);
    assert.ok(Math.abs(s.std[0][0][0] - ((whole.std as number[][][])[0]?.[0]?.[0] ?? Number.NaN)) < 1e-6);
    assert.deepEqual(stats['observation.state'].count, [2 * FRAMES + 1]);

    const ds = await readLeRobotDataset(dir);
    try {
      for (let e = 0; e < 2; e++) {
        const ep = await ds.readEpisodeFrames(e);
        const frames = ep.images['observation.images.depth'];
        assert.equal(frames?.length, FRAMES + e);
        frames?.forEach((png, f) => {
          assert.deepEqual(decodeDepthPng(png, `frame ${f}`).depthMm, depth[e]?.[f]);
        });
        assert.deepEqual([...(ep.columns['observation.state'] ?? [])].slice(0, 4), [0, -0, 1, -1]);
        assert.deepEqual([...(ep.columns.action ?? [])].slice(0, 2), [0, 0.5]);
      }
    } finally {
      ds.close();
    }
  });

  test('the writer refuses bad image features and frames, naming them', async () => {
    const spec = depthFeatureSpec(H, W);
    const features = {
      'observation.state': { dtype: 'float32', shape: [2], names: ['a', 'b'] },
      action: { dtype: 'float32', shape: [1], names: ['g'] },
      'observation.images.depth': spec,
    } as LeRobotWriterOptions['features'];
    await assert.rejects(
      LeRobotWriter.create(join(root, 'bad-shape'), {
        fps: 10,
        robotType: 'r',
        features: { d: { ...spec, shape: [H, W, 3] } } as LeRobotWriterOptions['features'],
      }),
      /feature d: image shape must be \[height, width, 1\]/,
    );
    const w = await LeRobotWriter.create(join(root, 'bad'), { fps: 10, robotType: 'r', features });
    const frames = Array.from({ length: 2 }, (_, f) => depthFrame(f));
    const ep = episode(2);
    await assert.rejects(w.addEpisode(ep), /image feature observation.images.depth missing/);
    await assert.rejects(
      w.addEpisode(ep, { 'observation.images.depth': frames.slice(0, 1) }),
      /has 1 frames, expected 2/,
    );
    await assert.rejects(
      w.addEpisode(ep, { 'observation.images.depth': [frames[0] as Uint16Array, new Uint16Array(3)] }),
      /frame 1 has 3 pixels, expected 7x5/,
    );
    await assert.rejects(
      w.addEpisode(ep, {
        'observation.images.depth': [frames[0] as Uint16Array, encodeDepthPng(new Uint16Array(4), 2, 2)],
      }),
      /frame 1 is 2x2, expected 7x5/,
    );
    await assert.rejects(
      w.addEpisode(ep, { 'observation.images.depth': frames, other: frames }),
      /undeclared image feature other/,
    );
    await w.abort();
  });
});

const META = {
  robot: 'r',
  embodimentHash: 'e',
  vendor: 'v',
  field: 'f',
  operator: 'o',
  task: 't',
  instruction: 'look',
  source: 'scripted',
  phase: 'drill',
  success: true,
  seed: 1,
  events: [],
} as const;

/** An episode of `frames` frames: observation.state = [f, -f], action = [f / 2] (or no features). */
function episode(frames: number, vectors = true): RecordedEpisode {
  const rec = new Recorder({ fps: 10, features: vectors ? { 'observation.state': 2, action: 1 } : {} });
  for (let f = 0; f < frames; f++)
    rec.record(
      f / 10,
      vectors ? { 'observation.state': new Float32Array([f, -f]), action: new Float32Array([f / 2]) } : {},
    );
  return rec.finish({ ...META, events: [] } as Parameters<Recorder['finish']>[0]);
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
