import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { EpisodeLabels, RecordedEpisode } from '../../src/data/episode.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { computeFeatureStats } from '../../src/data/lerobot/stats.ts';
import { type EpisodeRow, LeRobotWriter, writeEpisodesParquet } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const FPS = 30;
const STATE = 6;
const ACTION = 4;
const LENGTHS = [5, 3000, 1, 40];
const names = (n: number) => Array.from({ length: n }, (_, i) => `j${i}`);
const FEATURES = {
  'observation.state': { dtype: 'float32' as const, shape: [STATE] as [number], names: names(STATE) },
  action: { dtype: 'float32' as const, shape: [ACTION] as [number], names: names(ACTION) },
  'observation.gripper': { dtype: 'float32' as const, shape: [1] as [number], names: ['g'] },
};

function labels(i: number): EpisodeLabels {
  return {
    robot: 'sim-arm',
    embodimentHash: 'e1',
    vendor: 'acme',
    field: 'lab',
    operator: 'op',
    task: 'pick',
    instruction: i % 2 === 0 ? 'pick the red cube' : "put it in the 'bin'",
    source: 'scripted',
    phase: 'drill',
    success: i !== 2,
    seed: 100 + i,
    events: [],
  };
}

function makeEpisode(i: number, length: number): RecordedEpisode {
  const rec = new Recorder({
    fps: FPS,
    features: { 'observation.state': STATE, action: ACTION, 'observation.gripper': 1 },
    capacityFrames: 2,
  });
  const s = new Float32Array(STATE);
  const a = new Float32Array(ACTION);
  const g = new Float32Array(1);
  for (let f = 0; f < length; f++) {
    for (let d = 0; d < STATE; d++) s[d] = Math.sin(f * 0.01 + d + i);
    for (let d = 0; d < ACTION; d++) a[d] = (f * 7 + d * 13 + i) % 101;
    g[0] = f % 2;
    rec.record(f / FPS, { 'observation.state': s, action: a, 'observation.gripper': g });
  }
  return rec.finish(labels(i));
}

async function rows(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

describe('LeRobot v3.0 writer', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-lerobot-'));
  const dir = join(root, 'ds');
  const episodes = LENGTHS.map((l, i) => makeEpisode(i, l));
  let instance: DuckDBInstance;
  let db: DuckDBConnection;

  before(async () => {
    const w = await LeRobotWriter.create(dir, { fps: FPS, robotType: 'sim-arm', features: FEATURES });
    for (const ep of episodes) await w.addEpisode(ep);
    await w.close();
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
  });
  after(() => {
    db.closeSync();
    instance.closeSync();
    rmSync(root, { recursive: true, force: true });
  });

  test('info.json declares the features plus LeRobot defaults', () => {
    const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
    assert.equal(info.codebase_version, 'v3.0');
    assert.equal(info.total_episodes, 4);
    assert.equal(info.total_frames, 3046);
    assert.equal(info.total_tasks, 2);
    assert.equal(info.chunks_size, 1000);
    assert.equal(info.data_files_size_in_mb, 100);
    assert.equal(info.video_files_size_in_mb, 200);
    assert.deepEqual(info.splits, { train: '0:4' });
    assert.equal(info.data_path, 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet');
    assert.equal(info.video_path, null);
    assert.deepEqual(Object.keys(info.features), [
      'observation.state',
      'action',
      'observation.gripper',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
    ]);
    assert.deepEqual(info.features.timestamp, { dtype: 'float32', shape: [1], names: null });
    assert.deepEqual(info.features.index, { dtype: 'int64', shape: [1], names: null });
  });

  test('data parquet: declared columns and types, contiguous index, timestamps, one row group per episode', async () => {
    const file = join(dir, 'data/chunk-000/file-000.parquet');
    const schema = await rows(db, `DESCRIBE SELECT * FROM '${file}'`);
    assert.deepEqual(
      schema.map((r) => [r.column_name, r.column_type]),
      [
        ['observation.state', 'FLOAT[]'],
        ['action', 'FLOAT[]'],
        ['observation.gripper', 'FLOAT'],
        ['timestamp', 'FLOAT'],
        ['frame_index', 'BIGINT'],
        ['episode_index', 'BIGINT'],
        ['index', 'BIGINT'],
        ['task_index', 'BIGINT'],
      ],
    );
    const [agg] = await rows(
      db,
      `SELECT count(*) AS n, min("index") AS lo, max("index") AS hi, count(DISTINCT "index") AS d,
        sum(CASE WHEN timestamp = (frame_index / ${FPS})::FLOAT THEN 0 ELSE 1 END) AS badts,
        sum(CASE WHEN len("observation.state") = ${STATE} AND len(action) = ${ACTION} THEN 0 ELSE 1 END) AS badlen
       FROM '${file}'`,
    );
    assert.deepEqual(agg, { n: 3046n, lo: 0n, hi: 3045n, d: 3046n, badts: 0n, badlen: 0n });
    const rg = await rows(
      db,
      `SELECT row_group_id, row_group_num_rows AS n FROM parquet_metadata('${file}') WHERE column_id = 0 ORDER BY row_group_id`,
    );
    assert.deepEqual(
      rg.map((r) => Number(r.n)),
      LENGTHS,
    );
    // Values survive exactly (float32 in, float32 out).
    const [v] = await rows(
      db,
      `SELECT action[2] AS a FROM '${file}' WHERE episode_index = 1 AND frame_index = 10`,
    );
    assert.equal(v?.a, (10 * 7 + 13 + 1) % 101);
    const kv = await rows(
      db,
      `SELECT key::VARCHAR AS k, value::VARCHAR AS v FROM parquet_kv_metadata('${file}')`,
    );
    const hf = JSON.parse(String(kv.find((r) => r.k === 'huggingface')?.v).replaceAll('\\x22', '"'));
    assert.deepEqual(hf.info.features['observation.state'], {
      feature: { dtype: 'float32', _type: 'Value' },
      length: STATE,
      _type: 'List',
    });
  });

  test('episodes metadata: offsets, tasks, stats columns', async () => {
    const file = join(dir, 'meta/episodes/chunk-000/file-000.parquet');
    const eps = await rows(
      db,
      `SELECT episode_index, tasks, length, "data/chunk_index" AS c, "data/file_index" AS f,
        dataset_from_index AS a, dataset_to_index AS b, "meta/episodes/chunk_index" AS mc,
        "stats/action/count" AS cnt, "stats/action/max" AS amax FROM '${file}' ORDER BY episode_index`,
    );
    let from = 0;
    eps.forEach((e, i) => {
      const len = LENGTHS[i] as number;
      assert.equal(e.length, BigInt(len));
      assert.equal(e.a, BigInt(from));
      assert.equal(e.b, BigInt(from + len));
      assert.deepEqual(e.tasks, [labels(i).instruction]);
      assert.deepEqual(e.cnt, [BigInt(len)]);
      assert.equal((e.amax as number[]).length, ACTION);
      from += len;
    });
    const cols = (await rows(db, `DESCRIBE SELECT * FROM '${file}'`)).map((r) => [
      r.column_name,
      r.column_type,
    ]);
    assert.deepEqual(
      cols.slice(0, 7).map((c) => c[0]),
      [
        'episode_index',
        'tasks',
        'length',
        'data/chunk_index',
        'data/file_index',
        'dataset_from_index',
        'dataset_to_index',
      ],
    );
    assert.deepEqual(
      cols.find((c) => c[0] === 'stats/observation.state/q01'),
      ['stats/observation.state/q01', 'DOUBLE[]'],
    );
    assert.deepEqual(
      cols.find((c) => c[0] === 'stats/timestamp/count'),
      ['stats/timestamp/count', 'BIGINT[]'],
    );
    assert.deepEqual(
      cols.slice(-2).map((c) => c[0]),
      ['meta/episodes/chunk_index', 'meta/episodes/file_index'],
    );
  });

  test('tasks.parquet carries the pandas index metadata', async () => {
    const file = join(dir, 'meta/tasks.parquet');
    const t = await rows(db, `SELECT task, task_index FROM '${file}' ORDER BY task_index`);
    assert.deepEqual(t, [
      { task: 'pick the red cube', task_index: 0n },
      { task: "put it in the 'bin'", task_index: 1n },
    ]);
    const kv = await rows(
      db,
      `SELECT key::VARCHAR AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`,
    );
    const pandas = JSON.parse(String(kv.find((r) => r.k === 'pandas')?.v));
    assert.deepEqual(pandas.index_columns, ['task']);
    assert.deepEqual(
      pandas.columns.map((c: { name: string }) => c.name),
      ['task_index', 'task'],
    );
  });

  test('stats.json matches a direct computation', async () => {
    const stats = JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8'));
    for (const key of ['observation.state', 'action', 'observation.gripper', 'timestamp', 'index']) {
      assert.deepEqual(
        Object.keys(stats[key]).sort(),
        ['count', 'max', 'mean', 'min', 'q01', 'q10', 'q50', 'q90', 'q99', 'std'].sort(),
      );
    }
    const file = join(dir, 'data/chunk-000/file-000.parquet');
    for (let d = 0; d < ACTION; d++) {
      const [r] = await rows(
        db,
        `SELECT min(action[${d + 1}]) AS mn, max(action[${d + 1}]) AS mx, avg(action[${d + 1}]) AS mean,
          stddev_pop(action[${d + 1}]) AS sd FROM '${file}'`,
      );
      assert.equal(stats.action.min[d], r?.mn);
      assert.equal(stats.action.max[d], r?.mx);
      assert.ok(Math.abs(stats.action.mean[d] - Number(r?.mean)) < 1e-9);
      assert.ok(Math.abs(stats.action.std[d] - Number(r?.sd)) < 1e-6, `${stats.action.std[d]} vs ${r?.sd}`);
    }
    assert.deepEqual(stats.action.count, [3046]);
    assert.deepEqual(stats.index.min, [0]);
    assert.deepEqual(stats.index.max, [3045]);
    // Quantiles are the envelope of per-episode histogram estimates: q01 <= exact q01 <= ... roughly.
    // Per-episode quantiles come from a 5000-bin histogram: within a bin or two of the exact ones.
    const epFile = join(dir, 'meta/episodes/chunk-000/file-000.parquet');
    const [perEp] = await rows(
      db,
      `SELECT "stats/observation.state/q10" AS q10, "stats/observation.state/q90" AS q90 FROM '${epFile}' WHERE episode_index = 1`,
    );
    const [exact] = await rows(
      db,
      `SELECT quantile_cont("observation.state"[1], 0.1) AS q10, quantile_cont("observation.state"[1], 0.9) AS q90,
        max("observation.state"[1]) - min("observation.state"[1]) AS span FROM '${file}' WHERE episode_index = 1`,
    );
    const tol = (2 * Number(exact?.span)) / 5000 + 1e-3;
    const q10 = (perEp as { q10: number[] }).q10[0] as number;
    const q90 = (perEp as { q90: number[] }).q90[0] as number;
    assert.ok(Math.abs(q10 - Number(exact?.q10)) < tol, `${q10} vs ${exact?.q10} tol ${tol}`);
    assert.ok(Math.abs(q90 - Number(exact?.q90)) < tol, `${q90} vs ${exact?.q90} tol ${tol}`);
    // The dataset's q10 is the minimum over episodes, q90 the maximum (LeRobot's aggregate_feature_stats).
    const [env] = await rows(
      db,
      `SELECT min("stats/action/q10"[1]) AS lo, max("stats/action/q90"[1]) AS hi FROM '${epFile}'`,
    );
    assert.equal(stats.action.q10[0], env?.lo);
    assert.equal(stats.action.q90[0], env?.hi);
  });

  test('reader round-trips metadata and frames', async () => {
    const ds = await readLeRobotDataset(dir);
    try {
      assert.equal(ds.info.total_frames, 3046);
      assert.deepEqual(
        ds.tasks.map((t) => t.task),
        ['pick the red cube', "put it in the 'bin'"],
      );
      assert.equal(ds.episodes[3]?.datasetFromIndex, 3006);
      assert.equal(ds.tgEpisodes?.[1]?.id, episodes[1]?.meta.id);
      for (const [i, ep] of episodes.entries()) {
        const frames = await ds.readEpisodeFrames(i);
        assert.equal(frames.length, ep.length);
        assert.deepEqual(frames.columns['observation.state'], ep.columns['observation.state']);
        assert.deepEqual(frames.columns.action, ep.columns.action);
        assert.deepEqual(frames.columns['observation.gripper'], ep.columns['observation.gripper']);
        assert.equal(frames.index[0], ds.episodes[i]?.datasetFromIndex);
        assert.equal(frames.timestamp[ep.length - 1], Math.fround((ep.length - 1) / FPS));
      }
    } finally {
      ds.close();
    }
  });
});

describe('LeRobot v3.0 writer: rollover and failures', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-lerobot-f-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('data files roll over by size into chunk/file indices', async () => {
    const dir = join(root, 'roll');
    const w = await LeRobotWriter.create(dir, {
      fps: FPS,
      robotType: 'r',
      features: FEATURES,
      dataFilesSizeInMb: 0.05,
      chunksSize: 2,
    });
    for (let i = 0; i < 6; i++) await w.addEpisode(makeEpisode(i, 2000));
    await w.close();
    const ds = await readLeRobotDataset(dir);
    try {
      const files = ds.episodes.map((e) => `${e.dataChunkIndex}/${e.dataFileIndex}`);
      assert.ok(new Set(files).size > 1, `expected several files, got ${files}`);
      assert.ok(
        ds.episodes.some((e) => e.dataChunkIndex >= 1),
        'chunks_size 2 must move on to chunk 1',
      );
      for (let i = 0; i < 6; i++) assert.equal((await ds.readEpisodeFrames(i)).length, 2000);
    } finally {
      ds.close();
    }
  });

  test('several batches in flight, episodes at the 2048-frame chunk boundary: one row group each, in order', async () => {
    const dir = join(root, 'batches');
    // Enough episodes for three COPY batches; 2048 fits one DuckDB chunk, 2049 does not.
    const lengths = Array.from({ length: 300 }, (_, i) =>
      i === 7 ? 2048 : i === 8 ? 2049 : i === 200 ? 4100 : 1 + ((i * 37) % 60),
    );
    const w = await LeRobotWriter.create(dir, {
      fps: FPS,
      robotType: 'r',
      features: FEATURES,
      dataFilesSizeInMb: 0.5,
    });
    for (let i = 0; i < lengths.length; i++) await w.addEpisode(makeEpisode(i, lengths[i] as number));
    await w.close();
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    const ds = await readLeRobotDataset(dir);
    try {
      const files = [...new Set(ds.episodes.map((e) => `${e.dataChunkIndex}/${e.dataFileIndex}`))];
      assert.ok(files.length > 1, 'a 0.5 MB limit must roll over');
      const groups: number[] = [];
      for (const f of files) {
        const [c, n] = f.split('/').map(Number) as [number, number];
        const path = join(
          dir,
          `data/chunk-${String(c).padStart(3, '0')}/file-${String(n).padStart(3, '0')}.parquet`,
        );
        const rg = await rows(
          db,
          `SELECT row_group_num_rows AS n FROM parquet_metadata('${path}') WHERE column_id = 0 ORDER BY row_group_id`,
        );
        groups.push(...rg.map((r) => Number(r.n)));
        const [order] = await rows(
          db,
          `SELECT count(*) AS bad FROM (SELECT "index" - lag("index") OVER () AS step, frame_index,
             frame_index - lag(frame_index) OVER () AS fstep FROM '${path}')
           WHERE step <> 1 OR (fstep <> 1 AND frame_index <> 0)`,
        );
        assert.equal(order?.bad, 0n, `${path}: rows out of order`);
      }
      assert.deepEqual(groups, lengths);
      for (const i of [7, 8, 200, 299]) {
        const frames = await ds.readEpisodeFrames(i);
        assert.equal(frames.length, lengths[i]);
        assert.equal(frames.columns['observation.state']?.[STATE], Math.fround(Math.sin(0.01 + i)));
      }
    } finally {
      ds.close();
      db.closeSync();
      instance.closeSync();
    }
  });

  test('episodes streamed to the worker: files roll over mid-stream, a long episode between streams keeps file order', async () => {
    const dir = join(root, 'streamed');
    const lengths = Array.from({ length: 60 }, (_, i) => (i === 30 ? 3000 : 50 + ((i * 17) % 40)));
    const w = await LeRobotWriter.create(dir, {
      fps: FPS,
      robotType: 'r',
      features: FEATURES,
      dataFilesSizeInMb: 0.02,
    });
    for (let i = 0; i < lengths.length; i++) {
      await w.addEpisode(makeEpisode(i, lengths[i] as number));
      // Past 8 pending episodes the worker starts; give it time to come up, so the rest is streamed.
      if (i === 9) await new Promise((r) => setTimeout(r, 1500));
    }
    await w.close();
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    const ds = await readLeRobotDataset(dir);
    try {
      const files = ds.episodes.map((e) => e.dataChunkIndex * 1000 + e.dataFileIndex);
      assert.ok(new Set(files).size > 5, `a 0.02 MB limit must roll over often, got ${files}`);
      assert.deepEqual(
        files,
        [...files].sort((a, b) => a - b),
        'data files follow episode order',
      );
      const groups: number[] = [];
      for (const f of [...new Set(files)]) {
        const path = join(dir, `data/chunk-000/file-${String(f).padStart(3, '0')}.parquet`);
        const rg = await rows(
          db,
          `SELECT row_group_num_rows AS n FROM parquet_metadata('${path}') WHERE column_id = 0 ORDER BY row_group_id`,
        );
        groups.push(...rg.map((r) => Number(r.n)));
      }
      assert.deepEqual(groups, lengths, 'one row group per episode, in order');
      for (let i = 0; i < lengths.length; i++) {
        const frames = await ds.readEpisodeFrames(i);
        assert.equal(frames.length, lengths[i]);
        assert.equal(frames.columns['observation.state']?.[0], Math.fround(Math.sin(i)));
      }
      assert.equal(
        ds.info.total_frames,
        lengths.reduce((a, b) => a + b, 0),
      );
    } finally {
      ds.close();
      db.closeSync();
      instance.closeSync();
    }
  });

  test('episodes metadata: stats as raw doubles give the same table as through JSON; non-finite stats stay on JSON', async () => {
    const rowsOf = (nan: boolean): EpisodeRow[] =>
      Array.from({ length: 5 }, (_, e) => {
        const frames = 20 + e;
        const v = Float32Array.from({ length: frames * 3 }, (_, i) => Math.sin(i * 0.3 + e) * 10 ** (i % 3));
        if (nan && e === 2) v[4] = Number.NaN;
        const one = Float64Array.from({ length: frames }, (_, i) => i + e);
        return {
          episode_index: e,
          tasks: [`task ${e % 2}`],
          length: frames,
          'data/chunk_index': 0,
          'data/file_index': e >> 1,
          dataset_from_index: 100 * e,
          dataset_to_index: 100 * e + frames,
          stats: { v: computeFeatureStats(v, frames, 3), t: computeFeatureStats(one, frames, 1) },
        };
      });
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const file = (dir: string) => `'${join(dir, 'meta/episodes/chunk-000/file-000.parquet')}'`;
      const make = async (name: string, nan: boolean, textOnly: boolean) => {
        const dir = join(root, name);
        mkdirSync(join(dir, '.work'), { recursive: true });
        await writeEpisodesParquet(db, dir, ['v', 't'], rowsOf(nan), [], textOnly);
        return file(dir);
      };
      const raw = await make('meta-raw', false, false);
      const text = await make('meta-text', false, true);
      const schema = (f: string) =>
        rows(db, `SELECT name, type, converted_type, repetition_type FROM parquet_schema(${f})`);
      assert.deepEqual(await schema(raw), await schema(text));
      for (const [a, b] of [
        [raw, text],
        [text, raw],
      ])
        assert.deepEqual(await rows(db, `SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}`), []);
      const [first] = await rows(
        db,
        `SELECT "stats/v/q50" AS q, "stats/t/count" AS c FROM ${raw} WHERE episode_index = 1`,
      );
      assert.deepEqual(first?.c, [21n]);
      assert.equal((first as { q: number[] }).q.length, 3);
      // A NaN mean goes through JSON as null, as before.
      const withNan = await make('meta-nan', true, false);
      const [nan] = await rows(db, `SELECT "stats/v/mean"[2] AS m FROM ${withNan} WHERE episode_index = 2`);
      assert.equal(nan?.m, null);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });

  test('bad features are refused with INPUT_INVALID', async () => {
    const bads = [
      { x: { dtype: 'float64', shape: [2], names: ['a', 'b'] } },
      { x: { dtype: 'float32', shape: [2], names: ['a'] } },
      { 'a/b': { dtype: 'float32', shape: [1], names: ['a'] } },
      { index: { dtype: 'float32', shape: [1], names: ['a'] } },
      {},
    ];
    for (const features of bads) {
      await assert.rejects(
        // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
        LeRobotWriter.create(join(root, 'bad'), { fps: FPS, robotType: 'r', features: features as any }),
        (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
      );
    }
    const w = await LeRobotWriter.create(join(root, 'bad2'), {
      fps: FPS,
      robotType: 'r',
      features: FEATURES,
    });
    const ep = makeEpisode(0, 10);
    ep.columns.action = new Float32Array(3);
    await assert.rejects(w.addEpisode(ep), (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID');
    await w.abort();
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('bad')),
      [],
    );
  });

  test('a crash before close leaves nothing at the target path', () => {
    const dir = join(root, 'crash');
    const script = `
      import { LeRobotWriter } from ${JSON.stringify(new URL('../../src/data/lerobot/writer.ts', import.meta.url).href)};
      const f = { a: { dtype: 'float32', shape: [2], names: ['x', 'y'] } };
      const w = await LeRobotWriter.create(${JSON.stringify(dir)}, { fps: 10, robotType: 'r', features: f });
      const meta = { id: '0'.repeat(64), robot: 'r', embodimentHash: 'e', vendor: '', field: '', operator: '', task: 't',
        instruction: 'go', source: 'scripted', phase: 'drill', success: null, seed: 0, fps: 10, length: 3, events: [] };
      await w.addEpisode({ meta, length: 3, timestampsSec: new Float64Array(3), columns: { a: new Float32Array(6) } });
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(existsSync(dir), false);
  });
});
