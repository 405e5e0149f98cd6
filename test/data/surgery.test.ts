import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { EpisodeLabels, RecordedEpisode } from '../../src/data/episode.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { computeFeatureStats } from '../../src/data/lerobot/stats.ts';
import {
  deleteEpisodes,
  exportLeRobot,
  filterEpisodes,
  mergeDatasets,
  planSplit,
  splitDataset,
} from '../../src/data/lerobot/surgery.ts';
import { LeRobotWriter, type LeRobotWriterOptions } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const FPS = 30;
const STATE = 3;
const FEATURES: LeRobotWriterOptions['features'] = {
  'observation.state': { dtype: 'float32', shape: [STATE], names: ['a', 'b', 'c'] },
  action: { dtype: 'float32', shape: [1], names: ['g'] },
};

function labels(instruction: string, seed: number): EpisodeLabels {
  return {
    robot: 'sim-arm',
    embodimentHash: 'e1',
    vendor: 'acme',
    field: 'lab',
    operator: 'op',
    task: 'pick',
    instruction,
    source: 'scripted',
    phase: 'drill',
    success: true,
    seed,
    events: [],
  };
}

/** Frame values encode (seed, frame) so a copied frame can be traced back to its source. */
function episode(seed: number, length: number, instruction: string): RecordedEpisode {
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': STATE, action: 1 } });
  const s = new Float32Array(STATE);
  const a = new Float32Array(1);
  for (let f = 0; f < length; f++) {
    for (let d = 0; d < STATE; d++) s[d] = seed * 1000 + f + d * 0.25;
    a[0] = Math.sin(seed + f * 0.1);
    rec.record(f / FPS, { 'observation.state': s, action: a });
  }
  return rec.finish(labels(instruction, seed));
}

async function writeDataset(
  dir: string,
  eps: [number, number, string][],
  opts: Partial<LeRobotWriterOptions> = {},
): Promise<void> {
  const w = await LeRobotWriter.create(dir, { fps: FPS, robotType: 'sim-arm', features: FEATURES, ...opts });
  for (const [seed, length, task] of eps) await w.addEpisode(episode(seed, length, task));
  await w.close();
}

async function rows(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

async function expectTgError(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isTgError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('LeRobot dataset surgery', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-surgery-'));
  const a = join(root, 'a');
  const b = join(root, 'b');
  const merged = join(root, 'merged');
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  const data = (dir: string) => `'${join(dir, 'data/*/*.parquet')}'`;
  const epsMeta = (dir: string) => `'${join(dir, 'meta/episodes/*/*.parquet')}'`;

  before(async () => {
    await writeDataset(a, [
      [1, 10, 'pick red'],
      [2, 7, 'pick blue'],
      [3, 12, 'pick red'],
    ]);
    // b's first task is a's second one: the merged table must match it by string.
    await writeDataset(b, [
      [4, 5, 'pick blue'],
      [5, 9, 'stack'],
    ]);
    await mergeDatasets([a, b], merged);
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
  });
  after(() => {
    db.closeSync();
    instance.closeSync();
    rmSync(root, { recursive: true, force: true });
  });

  test('merge: contiguous episode_index and index, offsets match the data', async () => {
    const info = JSON.parse(readFileSync(join(merged, 'meta/info.json'), 'utf8'));
    assert.equal(info.total_episodes, 5);
    assert.equal(info.total_frames, 43);
    assert.equal(info.total_tasks, 3);
    assert.deepEqual(info.splits, { train: '0:5' });
    const all = await rows(
      db,
      `SELECT "index" AS i, episode_index AS e, frame_index AS f, "observation.state"[1] AS s0 FROM ${data(merged)} ORDER BY i`,
    );
    assert.equal(all.length, 43);
    assert.deepEqual(
      all.map((r) => Number(r.i)),
      all.map((_, i) => i),
    );
    const meta = await rows(
      db,
      `SELECT episode_index AS e, length AS n, dataset_from_index AS a, dataset_to_index AS b, tasks, ` +
        `"data/chunk_index" AS c, "data/file_index" AS f FROM ${epsMeta(merged)} ORDER BY e`,
    );
    assert.deepEqual(
      meta.map((m) => Number(m.e)),
      [0, 1, 2, 3, 4],
    );
    const seeds = [1, 2, 3, 4, 5];
    for (const m of meta) {
      const e = Number(m.e);
      const inEp = all.filter((r) => Number(r.e) === e);
      assert.equal(inEp.length, Number(m.n));
      assert.equal(Number(inEp[0]?.i), Number(m.a));
      assert.equal(Number(inEp[inEp.length - 1]?.i) + 1, Number(m.b));
      inEp.forEach((r, f) => {
        assert.equal(Number(r.f), f);
        assert.equal(Number(r.s0), (seeds[e] as number) * 1000 + f);
      });
    }
    // One row group per episode, in episode order.
    const groups = await rows(
      db,
      `SELECT row_group_id AS g, row_group_num_rows AS n FROM parquet_metadata(${data(merged)}) WHERE column_id = 0 ORDER BY g`,
    );
    assert.deepEqual(
      groups.map((g) => Number(g.n)),
      [10, 7, 12, 5, 9],
    );
  });

  test('merge: tasks matched by string, task_index re-mapped in the data', async () => {
    const tasks = await rows(
      db,
      `SELECT task, task_index AS i FROM '${join(merged, 'meta/tasks.parquet')}' ORDER BY i`,
    );
    assert.deepEqual(
      tasks.map((t) => [t.task, Number(t.i)]),
      [
        ['pick red', 0],
        ['pick blue', 1],
        ['stack', 2],
      ],
    );
    const perEp = await rows(
      db,
      `SELECT episode_index AS e, min(task_index) AS lo, max(task_index) AS hi FROM ${data(merged)} GROUP BY e ORDER BY e`,
    );
    assert.deepEqual(
      perEp.map((r) => [Number(r.lo), Number(r.hi)]),
      [
        [0, 0],
        [1, 1],
        [0, 0],
        [1, 1],
        [2, 2],
      ],
    );
    const meta = await rows(db, `SELECT tasks FROM ${epsMeta(merged)} ORDER BY episode_index`);
    assert.deepEqual(
      meta.map((m) => m.tasks),
      [['pick red'], ['pick blue'], ['pick red'], ['pick blue'], ['stack']],
    );
  });

  test('merge: stats equal a direct computation over the merged data', async () => {
    const stats = JSON.parse(readFileSync(join(merged, 'meta/stats.json'), 'utf8'));
    const direct = await rows(
      db,
      `SELECT d, min(v) AS mn, max(v) AS mx, avg(v) AS mean, stddev_pop(v) AS sd, count(*) AS n FROM ` +
        `(SELECT unnest(range(3)) AS d, unnest("observation.state") AS v FROM ${data(merged)}) GROUP BY d ORDER BY d`,
    );
    for (const r of direct) {
      const d = Number(r.d);
      assert.equal(stats['observation.state'].min[d], r.mn);
      assert.equal(stats['observation.state'].max[d], r.mx);
      assert.ok(Math.abs(stats['observation.state'].mean[d] - Number(r.mean)) < 1e-9);
      assert.ok(Math.abs(stats['observation.state'].std[d] - Number(r.sd)) < 1e-6);
    }
    assert.deepEqual(stats.index.count, [43]);
    assert.deepEqual(stats.index.min, [0]);
    assert.deepEqual(stats.index.max, [42]);
    assert.deepEqual(stats.episode_index.max, [4]);
    assert.deepEqual(stats.task_index.max, [2]);
    // Per-episode stats of the re-indexed columns follow the new values.
    const ep = await rows(
      db,
      `SELECT "stats/index/min" AS imin, "stats/index/q50" AS iq50, "stats/episode_index/mean" AS em, ` +
        `"stats/task_index/min" AS tmin FROM ${epsMeta(merged)} WHERE episode_index = 3`,
    );
    const index = Float64Array.from({ length: 5 }, (_, f) => 29 + f);
    assert.deepEqual(ep[0]?.imin, [29]);
    assert.deepEqual(ep[0]?.iq50, computeFeatureStats(index, 5, 1).q50);
    assert.deepEqual(ep[0]?.em, [3]);
    assert.deepEqual(ep[0]?.tmin, [1]);
  });

  test('merge: the reader opens the result and round-trips frames and project metadata', async () => {
    const ds = await readLeRobotDataset(merged);
    try {
      assert.equal(ds.episodes.length, 5);
      const frames = await ds.readEpisodeFrames(4);
      assert.equal(frames.length, 9);
      assert.equal(frames.columns['observation.state']?.[0], 5000);
      assert.deepEqual(frames.taskIndex, new Array(9).fill(2));
      assert.deepEqual(
        ds.tgEpisodes?.map((e) => [e.episode_index, e.seed]),
        [
          [0, 1],
          [1, 2],
          [2, 3],
          [3, 4],
          [4, 5],
        ],
      );
    } finally {
      ds.close();
    }
  });

  test('merge refuses different fps or features, and an existing output', async () => {
    const fps = join(root, 'fps');
    await LeRobotWriter.create(fps, { fps: 10, robotType: 'sim-arm', features: FEATURES }).then(async (w) => {
      await w.addEpisode(
        (() => {
          const rec = new Recorder({ fps: 10, features: { 'observation.state': STATE, action: 1 } });
          rec.record(0, { 'observation.state': new Float32Array(STATE), action: new Float32Array(1) });
          return rec.finish(labels('x', 0));
        })(),
      );
      await w.close();
    });
    await expectTgError(mergeDatasets([a, fps], join(root, 'bad1')), 'INPUT_INVALID', /fps 10/);
    const other = join(root, 'other');
    await writeDataset(other, [[9, 3, 'x']], {
      features: { ...FEATURES, action: { dtype: 'float32', shape: [1], names: ['grip'] } },
    });
    await expectTgError(mergeDatasets([a, other], join(root, 'bad2')), 'INPUT_INVALID', /features differ/);
    await expectTgError(mergeDatasets([a, b], merged), 'STORAGE_FAILED', /already exists/);
    assert.ok(!existsSync(join(root, 'bad1')) && !existsSync(join(root, 'bad2')));
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('.')),
      [],
    );
  });

  test('filter keeps the right frames; inputs are untouched', async () => {
    const before = readFileSync(join(a, 'meta/info.json'), 'utf8');
    const out = join(root, 'filtered');
    const r = await filterEpisodes(a, out, [0, 2]);
    assert.deepEqual([r.episodes, r.frames, r.tasks], [2, 22, 1]);
    const got = await rows(
      db,
      `SELECT episode_index AS e, "index" AS i, frame_index AS f, "observation.state"[1] AS s0, task_index AS t FROM ${data(out)} ORDER BY i`,
    );
    assert.equal(got.length, 22);
    got.forEach((g, i) => {
      assert.equal(Number(g.i), i);
      const e = Number(g.e);
      const f = Number(g.f);
      assert.equal(Number(g.s0), (e === 0 ? 1 : 3) * 1000 + f);
      assert.equal(Number(g.t), 0);
    });
    const tasks = await rows(db, `SELECT task FROM '${join(out, 'meta/tasks.parquet')}'`);
    assert.deepEqual(
      tasks.map((t) => t.task),
      ['pick red'],
    );
    // A predicate over the episode's metadata selects the same way.
    const byLength = join(root, 'long');
    const r2 = await filterEpisodes(a, byLength, (ep) => ep.length >= 10 && ep.tg?.seed !== 1);
    assert.deepEqual([r2.episodes, r2.frames], [1, 12]);
    // Delete = filter with the complement.
    const deleted = join(root, 'deleted');
    const r3 = await deleteEpisodes(a, deleted, [1]);
    assert.deepEqual([r3.episodes, r3.frames], [2, 22]);
    assert.equal(readFileSync(join(a, 'meta/info.json'), 'utf8'), before);
  });

  test('deleting every episode is refused and writes nothing', async () => {
    const out = join(root, 'empty');
    await expectTgError(deleteEpisodes(a, out, [0, 1, 2]), 'INPUT_INVALID', /empty dataset/);
    await expectTgError(
      filterEpisodes(a, out, () => false),
      'INPUT_INVALID',
      /empty dataset/,
    );
    await expectTgError(filterEpisodes(a, out, [7]), 'INPUT_INVALID', /no episode 7/);
    // A delete naming an episode that does not exist is a mistake, not a no-op.
    await expectTgError(deleteEpisodes(a, out, [1, 9]), 'INPUT_INVALID', /no episode 9 \(it has 3\)/);
    assert.ok(!existsSync(out));
  });

  test('export: queries are checked against the dataset; options and paths are validated', async () => {
    const out = join(root, 'exported');
    await expectTgError(
      exportLeRobot(a, out, { tasks: ['pick green'] }),
      'INPUT_INVALID',
      /no task "pick green" \(its tasks: "pick red", "pick blue"\)/,
    );
    await expectTgError(
      exportLeRobot(a, out, { where: { sucess: 'true' } }),
      'INPUT_INVALID',
      /no episode has the label "sucess"/,
    );
    await expectTgError(
      exportLeRobot(a, out, { where: { seed: '99' } }),
      'INPUT_INVALID',
      /keeps no episodes/,
    );
    await expectTgError(
      exportLeRobot(a, out, { exclude: [0, 0] }),
      'INPUT_INVALID',
      /episode 0 listed twice/,
    );
    await expectTgError(exportLeRobot(a, out, {}, { chunksSize: 0 }), 'INPUT_INVALID', /chunks size/);
    await expectTgError(
      exportLeRobot(a, out, {}, { dataFilesSizeInMb: -1 }),
      'INPUT_INVALID',
      /data file size/,
    );
    await expectTgError(exportLeRobot(a, join(a, 'x')), 'INPUT_INVALID', /lies inside the input/);
    await expectTgError(
      exportLeRobot(join(root, 'nope'), out),
      'INPUT_INVALID',
      /meta\/info\.json: cannot read/,
    );
    await expectTgError(exportLeRobot(a, merged), 'STORAGE_FAILED', /already exists/);
    assert.ok(!existsSync(out));

    const r = await exportLeRobot(a, out, { tasks: ['pick red'], where: { seed: '3' } });
    assert.deepEqual([r.episodes, r.frames, r.sourceEpisodes], [1, 12, [2]]);
    const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8'));
    assert.deepEqual([info.chunks_size, info.data_files_size_in_mb], [1000, 100]);
  });

  test('an aborted surgery stops between episodes and leaves nothing behind', async () => {
    const out = join(root, 'aborted');
    const abort = new AbortController();
    const seen: number[] = [];
    await expectTgError(
      mergeDatasets([a, b], out, {
        signal: abort.signal,
        onProgress: (done, total) => {
          seen.push(done, total);
          if (done === 2) abort.abort();
        },
      }),
      'INTERRUPTED',
      /nothing was written/,
    );
    assert.deepEqual(seen, [1, 5, 2, 5]);
    assert.ok(!existsSync(out));
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('.')),
      [],
    );
  });

  test('split partitions the episodes', async () => {
    const outDir = join(root, 'split');
    const parts = await splitDataset(merged, { train: 0.6, val: 0.4 }, outDir);
    assert.deepEqual(
      parts.map((p) => [p.dir, p.episodes]),
      [
        [join(outDir, 'train'), 3],
        [join(outDir, 'val'), 2],
      ],
    );
    const seeds: number[] = [];
    for (const p of parts) {
      const ds = await readLeRobotDataset(p.dir);
      try {
        seeds.push(...(ds.tgEpisodes ?? []).map((e) => Number(e.seed)));
        const idx = await rows(db, `SELECT "index" AS i FROM ${data(p.dir)} ORDER BY i`);
        assert.deepEqual(
          idx.map((r) => Number(r.i)),
          idx.map((_, i) => i),
        );
      } finally {
        ds.close();
      }
    }
    assert.deepEqual(seeds, [1, 2, 3, 4, 5]);
    const explicit = await splitDataset(merged, { train: [0, 4], val: [2] }, join(root, 'split2'));
    assert.deepEqual(
      explicit.map((p) => p.frames),
      [19, 12],
    );
    await expectTgError(
      splitDataset(merged, { a: [0, 1], b: [1] }, join(root, 's3')),
      'INPUT_INVALID',
      /both/,
    );
    assert.throws(() => planSplit(2, { train: 0.9, val: 0.1 }), /val would hold no episodes/);
    assert.throws(() => planSplit(5, { train: 0.9, val: 0.2 }), /more than 1/);
    assert.deepEqual(planSplit(10, { train: 0.8, val: 0.2 }), {
      train: [0, 1, 2, 3, 4, 5, 6, 7],
      val: [8, 9],
    });
  });

  test('merged output rolls data files over by size', async () => {
    const small = join(root, 'small-a');
    await writeDataset(small, [[7, 3000, 'big']], { dataFilesSizeInMb: 0.01 });
    const out = join(root, 'rolled');
    await mergeDatasets([small, small], out);
    const meta = await rows(
      db,
      `SELECT "data/chunk_index" AS c, "data/file_index" AS f FROM ${epsMeta(out)} ORDER BY episode_index`,
    );
    assert.deepEqual(
      meta.map((m) => [Number(m.c), Number(m.f)]),
      [
        [0, 0],
        [0, 1],
      ],
    );
    const ds = await readLeRobotDataset(out);
    try {
      const f = await ds.readEpisodeFrames(1);
      assert.equal(f.index[0], 3000);
    } finally {
      ds.close();
    }
  });
});
