import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { exportLeRobot } from '../../src/data/lerobot/surgery.ts';
import { validateDataset } from '../../src/data/quality/index.ts';
import { isTgError } from '../../src/errors/index.ts';

/**
 * A dataset laid out as LeRobot's own writer does (dataset_metadata.py / dataset_writer.py), crafted with
 * DuckDB SQL: tasks with an unnamed pandas index (`__index_level_0__`), two episodes in one data file.
 */
async function craft(dir: string): Promise<void> {
  mkdirSync(join(dir, 'meta/episodes/chunk-000'), { recursive: true });
  mkdirSync(join(dir, 'data/chunk-000'), { recursive: true });
  const info = {
    codebase_version: 'v3.0',
    robot_type: 'so100',
    total_episodes: 2,
    total_frames: 5,
    total_tasks: 1,
    chunks_size: 1000,
    data_files_size_in_mb: 100,
    video_files_size_in_mb: 200,
    fps: 10,
    splits: { train: '0:2' },
    data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
    video_path: null,
    features: {
      action: { dtype: 'float32', shape: [2], names: ['a', 'b'] },
      timestamp: { dtype: 'float32', shape: [1], names: null },
      frame_index: { dtype: 'int64', shape: [1], names: null },
      episode_index: { dtype: 'int64', shape: [1], names: null },
      index: { dtype: 'int64', shape: [1], names: null },
      task_index: { dtype: 'int64', shape: [1], names: null },
    },
  };
  writeFileSync(join(dir, 'meta/info.json'), JSON.stringify(info, null, 4));
  const inst = await DuckDBInstance.create(':memory:');
  const db = await inst.connect();
  await db.run(
    `COPY (SELECT 0::BIGINT AS task_index, 'stack blocks' AS __index_level_0__) TO '${dir}/meta/tasks.parquet' (FORMAT parquet)`,
  );
  await db.run(
    `COPY (SELECT * FROM (VALUES (0, ['stack blocks'], 3, 0, 0, 0, 3, 0, 0), (1, ['stack blocks'], 2, 0, 0, 3, 5, 0, 0))
       t(episode_index, tasks, length, "data/chunk_index", "data/file_index", dataset_from_index, dataset_to_index,
         "meta/episodes/chunk_index", "meta/episodes/file_index"))
     TO '${dir}/meta/episodes/chunk-000/file-000.parquet' (FORMAT parquet)`,
  );
  await db.run(
    `COPY (SELECT [i::FLOAT, -i::FLOAT]::FLOAT[] AS action, (f / 10)::FLOAT AS timestamp, f::BIGINT AS frame_index,
       e::BIGINT AS episode_index, i::BIGINT AS "index", 0::BIGINT AS task_index
       FROM (SELECT i, CASE WHEN i < 3 THEN 0 ELSE 1 END AS e, CASE WHEN i < 3 THEN i ELSE i - 3 END AS f FROM range(5) r(i)))
     TO '${dir}/data/chunk-000/file-000.parquet' (FORMAT parquet)`,
  );
  db.closeSync();
  inst.closeSync();
}

/**
 * A camera recording as `lerobot-record` (LeRobot 0.4) leaves it, its schema taken from a real one: video
 * features in info.json (frames live in mp4 files, not in the data parquet), videos/<key>/chunk_index,
 * file_index, from_timestamp and to_timestamp columns in the episodes metadata, per-channel image stats
 * as nested lists, and stats.json quantiles from the older count-weighted aggregation.
 */
async function craftCameraRecording(dir: string): Promise<void> {
  await craft(dir);
  const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
  const video = {
    dtype: 'video',
    shape: [480, 640, 3],
    names: ['height', 'width', 'channels'],
    info: {
      'video.height': 480,
      'video.width': 640,
      'video.codec': 'av1',
      'video.fps': 10,
      has_audio: false,
    },
  };
  info.video_path = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
  info.features = { action: info.features.action, 'observation.images.front': video, ...info.features };
  writeFileSync(join(dir, 'meta/info.json'), JSON.stringify(info, null, 4));
  const stat = (v: number[]) => ({
    min: v,
    max: v,
    mean: v,
    std: v.map(() => 0),
    count: [5],
    q01: v,
    q10: v,
    q50: v,
    q90: v,
    q99: v,
  });
  const channel = [[[0.5]], [[0.4]], [[0.3]]];
  writeFileSync(
    join(dir, 'meta/stats.json'),
    JSON.stringify({
      action: stat([2, -2]),
      'observation.images.front': { ...stat([0]), min: channel, max: channel, mean: channel },
      timestamp: stat([0.1]),
    }),
  );
  const inst = await DuckDBInstance.create(':memory:');
  const db = await inst.connect();
  const file = join(dir, 'meta/episodes/chunk-000/file-000.parquet');
  await db.run(
    `COPY (SELECT *, 0::BIGINT AS "videos/observation.images.front/chunk_index",
       0::BIGINT AS "videos/observation.images.front/file_index",
       (dataset_from_index / 10)::DOUBLE AS "videos/observation.images.front/from_timestamp",
       (dataset_to_index / 10)::DOUBLE AS "videos/observation.images.front/to_timestamp",
       [[[0.5]], [[0.4]], [[0.3]]]::DOUBLE[][][] AS "stats/observation.images.front/mean",
       [length]::BIGINT[] AS "stats/observation.images.front/count"
       FROM read_parquet('${file}')) TO '${file}.new' (FORMAT parquet)`,
  );
  db.closeSync();
  inst.closeSync();
  renameSync(`${file}.new`, file);
}

describe('reader on a LeRobot-written layout', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-lerobot-r-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('reads info, tasks from the pandas index, episodes and frames', async () => {
    const dir = join(root, 'ds');
    await craft(dir);
    const ds = await readLeRobotDataset(dir);
    try {
      assert.equal(ds.info.robot_type, 'so100');
      assert.deepEqual(ds.tasks, [{ task: 'stack blocks', taskIndex: 0 }]);
      assert.deepEqual(
        ds.episodes.map((e) => [e.episodeIndex, e.length, e.datasetFromIndex]),
        [
          [0, 3, 0],
          [1, 2, 3],
        ],
      );
      assert.equal(ds.stats, null);
      assert.equal(ds.tgEpisodes, null);
      const f = await ds.readEpisodeFrames(1);
      assert.deepEqual([...(f.columns.action as Float32Array)], [3, -3, 4, -4]);
      assert.deepEqual(f.index, [3, 4]);
      await assert.rejects(ds.readEpisodeFrames(2), (e: unknown) => isTgError(e) && e.code === 'NOT_FOUND');
    } finally {
      ds.close();
    }
  });

  test('a camera recording: frames of the non-video features, quality checks, and a clear refusal to copy video', async () => {
    const dir = join(root, 'cameras');
    await craftCameraRecording(dir);
    const ds = await readLeRobotDataset(dir);
    try {
      assert.deepEqual(Object.keys(ds.info.features).slice(0, 2), ['action', 'observation.images.front']);
      assert.deepEqual(
        ds.episodes.map((e) => [e.episodeIndex, e.length, e.datasetFromIndex, e.datasetToIndex]),
        [
          [0, 3, 0, 3],
          [1, 2, 3, 5],
        ],
      );
      const f = await ds.readEpisodeFrames(1);
      assert.deepEqual(Object.keys(f.columns), ['action']);
      assert.deepEqual([...(f.columns.action as Float32Array)], [3, -3, 4, -4]);
      assert.deepEqual(ds.stats?.['observation.images.front']?.mean, [[[0.5]], [[0.4]], [[0.3]]]);
    } finally {
      ds.close();
    }
    const report = await validateDataset(dir);
    assert.deepEqual(
      report.episodes.map((e) => e.lengthFrames),
      [3, 2],
    );
    await assert.rejects(
      exportLeRobot(dir, join(root, 'cameras-out')),
      (e: unknown) =>
        isTgError(e) && e.code === 'INPUT_INVALID' && /observation\.images\.front is video/.test(e.message),
    );
  });

  test('bad files fail with INPUT_INVALID naming the file', async () => {
    const dir = join(root, 'bad');
    await craft(dir);
    writeFileSync(join(dir, 'meta/info.json'), JSON.stringify({ codebase_version: 'v2.1' }));
    await assert.rejects(
      readLeRobotDataset(dir),
      (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID' && e.message.startsWith('meta/info.json:'),
    );
    writeFileSync(join(dir, 'meta/info.json'), '{not json');
    await assert.rejects(readLeRobotDataset(dir), /meta\/info.json: not valid JSON/);
    const dir2 = join(root, 'bad2');
    await craft(dir2);
    writeFileSync(join(dir2, 'meta/tasks.parquet'), 'garbage');
    await assert.rejects(
      readLeRobotDataset(dir2),
      (e: unknown) => isTgError(e) && e.message.startsWith('meta/tasks.parquet:'),
    );
  });
});
