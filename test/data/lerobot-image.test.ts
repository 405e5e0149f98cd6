import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  decodeDepthPng,
  depthFeatureSpec,
  depthImageStats,
  encodeDepthPng,
} from '../../src/data/lerobot/image.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
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

  test('a dataset with a depth image column reads back bit-exactly; the column is a {bytes, path} struct', async () => {
    const dir = join(root, 'ds');
    const rec = new Recorder({ fps: 10, features: { 'observation.state': 2 } });
    const w = await LeRobotWriter.create(dir, {
      fps: 10,
      robotType: 'cam-arm',
      features: { 'observation.state': { dtype: 'float32', shape: [2], names: ['a', 'b'] } },
    });
    for (let f = 0; f < FRAMES; f++) rec.record(f / 10, { 'observation.state': new Float32Array([f, -f]) });
    await w.addEpisode(
      rec.finish({
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
      }),
    );
    await w.close();

    // Add the image column as LeRobot lays it out (HF datasets.Image: struct<bytes: binary, path: string>).
    const file = join(dir, 'data/chunk-000/file-000.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const pngs = Array.from({ length: FRAMES }, (_, f) => encodeDepthPng(depthFrame(f), W, H));
      const values = pngs.map((p, f) => `(${f}, from_hex('${p.toString('hex')}'))`).join(', ');
      await db.run(`CREATE TABLE imgs AS SELECT * FROM (VALUES ${values}) t(idx, png)`);
      await db.run(
        `COPY (SELECT d.*, {'bytes': i.png, 'path': NULL::VARCHAR} AS "observation.images.depth" ` +
          `FROM read_parquet('${file}') d JOIN imgs i ON d."index" = i.idx ORDER BY d."index") ` +
          `TO '${file}.new' (FORMAT parquet)`,
      );
      renameSync(`${file}.new`, file);
      const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
      info.features['observation.images.depth'] = depthFeatureSpec(H, W);
      writeFileSync(join(dir, 'meta/info.json'), JSON.stringify(info));

      const type = (
        await db.runAndReadAll(
          `SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}')) WHERE column_name = 'observation.images.depth'`,
        )
      ).getRowObjectsJS()[0]?.column_type;
      assert.equal(type, 'STRUCT(bytes BLOB, path VARCHAR)');
    } finally {
      db.closeSync();
      instance.closeSync();
    }

    const ds = await readLeRobotDataset(dir);
    try {
      const ep = await ds.readEpisodeFrames(0);
      const frames = ep.images['observation.images.depth'];
      assert.equal(frames?.length, FRAMES);
      frames?.forEach((png, f) => {
        assert.deepEqual(decodeDepthPng(png, `frame ${f}`).depthMm, depthFrame(f));
      });
      assert.deepEqual([...(ep.columns['observation.state'] ?? [])], [0, -0, 1, -1, 2, -2, 3, -3]);
    } finally {
      ds.close();
    }
  });
});
