import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import h5wasm from 'h5wasm/node';
import { importAgibot } from '../../src/data/agibot/index.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { isTgError } from '../../src/errors/index.ts';

type Data = { data: Float64Array | Float32Array | BigInt64Array; shape: number[]; dtype: string };
const f64 = (rows: number, cols: number, fill: (r: number, c: number) => number): Data => ({
  data: Float64Array.from({ length: rows * cols }, (_, i) => fill(Math.floor(i / cols), i % cols)),
  shape: [rows, cols],
  dtype: '<d',
});
const i64 = (values: number[]): Data => ({
  data: BigInt64Array.from(values, BigInt),
  shape: [values.length],
  dtype: '<q',
});

/** Writes an AgiBot-shaped proprio_stats.h5 (groups created level by level, as h5py would). */
function writeH5(file: string, datasets: Record<string, Data>): void {
  mkdirSync(dirname(file), { recursive: true });
  const f = new h5wasm.File(file, 'w');
  const groups = new Set<string>();
  for (const [path, d] of Object.entries(datasets)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const g = parts.slice(0, i).join('/');
      if (!groups.has(g)) {
        f.create_group(g);
        groups.add(g);
      }
    }
    f.create_dataset({ name: path, data: d.data, shape: d.shape, dtype: d.dtype });
  }
  f.close();
}

/** A full G1 episode of n frames; `override` replaces or (undefined) removes datasets. */
function g1(n: number, override: Record<string, Data | undefined> = {}): Record<string, Data> {
  const base: Record<string, Data> = {
    timestamp: i64(Array.from({ length: n }, (_, t) => 1_700_000_000_000_000_000 + t * 33_333_333)),
    'state/joint/position': f64(n, 14, (r, c) => r + c / 100),
    'state/joint/velocity': f64(n, 14, () => 0),
    'state/effector/position': f64(n, 2, (r, c) => 50 + r + c),
    'state/end/position': f64(n, 6, () => 0),
    'state/head/position': f64(n, 2, () => 0),
    'state/waist/position': f64(n, 2, () => 0),
    'state/robot/position': f64(n, 3, () => 0),
    'action/joint/position': f64(n, 14, (r, c) => 100 + r + c / 100),
    'action/effector/position': f64(n, 2, (r) => r / 10),
  };
  const out = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

const episode = (id: number) => ({
  episode_id: id,
  task_id: 327,
  task_name: 'Pickup items in the supermarket',
  init_scene_text: 'The robot stands in front of a shelf.',
  label_info: {
    action_config: [
      { start_frame: 0, end_frame: 2, action_text: 'Reach for the bag', skill: 'Reach' },
      { start_frame: 2, end_frame: 5, action_text: 'Grasp the bag', skill: 'Grasp' },
      { start_frame: 40, end_frame: 50, action_text: 'beyond the end', skill: 'Place' },
    ],
  },
});

describe('AgiBot World import', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-agibot-'));
  const src = join(root, 'agibot');
  const h5 = (task: number, ep: number) =>
    join(src, 'proprio_stats', String(task), String(ep), 'proprio_stats.h5');
  before(async () => {
    await h5wasm.ready;
    mkdirSync(join(src, 'task_info'), { recursive: true });
    writeFileSync(
      join(src, 'task_info', 'task_327.json'),
      JSON.stringify([1001, 1002, 1003, 1004, 1005, 1006, 1007].map(episode)),
    );
    writeFileSync(
      join(src, 'task_info', 'task_328.json'),
      JSON.stringify([{ ...episode(2001), task_name: 'Fold the towel' }]),
    );
    writeFileSync(join(src, 'task_info', 'README.txt'), 'not a task file');
    // short action stream with index: rows belong to state frames 1, 2, 4
    writeH5(
      h5(327, 1001),
      g1(5, {
        'action/joint/position': f64(3, 14, (r) => 100 + r),
        'action/joint/index': i64([1, 2, 4]),
      }),
    );
    writeH5(h5(327, 1002), g1(0)); // empty arrays
    writeH5(h5(327, 1003), g1(5, { 'action/joint/position': f64(4, 14, () => 0) })); // mismatched length
    writeH5(h5(327, 1004), g1(5, { 'state/effector/position': undefined })); // missing group
    // 1005: listed, no file
    mkdirSync(dirname(h5(327, 1006)), { recursive: true });
    writeFileSync(h5(327, 1006), 'this is not HDF5');
    writeH5(
      h5(327, 1007),
      g1(5, { 'action/effector/position': f64(2, 2, () => 1), 'action/effector/index': i64([0, 7]) }),
    );
    writeH5(h5(328, 2001), g1(3));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('imports good episodes and reports every skip with its reason', async () => {
    const out = join(root, 'ds');
    const seen: number[] = [];
    const report = await importAgibot(src, out, { onEpisode: (r) => seen.push(r.episodeId) });
    assert.equal(report.outDir, out);
    assert.equal(report.imported, 2);
    assert.equal(report.skipped, 6);
    assert.deepEqual(seen, [1001, 1002, 1003, 1004, 1005, 1006, 1007, 2001]);
    const byId = new Map(report.episodes.map((e) => [e.episodeId, e]));
    const reason = (id: number) => {
      const e = byId.get(id);
      return e?.status === 'skipped' ? e.reason : `imported ${JSON.stringify(e)}`;
    };
    assert.match(reason(1002), /^empty array state\/joint\/position/);
    assert.match(reason(1003), /^length mismatch: action\/joint\/position has 4 rows, state has 5/);
    assert.match(reason(1004), /^missing group state\/effector\/position/);
    assert.match(reason(1005), /^unreadable file \(missing\)/);
    assert.match(reason(1006), /^unreadable file \(not HDF5/);
    assert.match(reason(1007), /^index out of range: action\/effector\/index\[1\] = 7/);
    assert.deepEqual(byId.get(1001), {
      taskId: 327,
      episodeId: 1001,
      file: 'proprio_stats/327/1001/proprio_stats.h5',
      status: 'imported',
      episodeIndex: 0,
      frames: 5,
    });

    const ds = await readLeRobotDataset(out);
    try {
      assert.equal(ds.info.robot_type, 'agibot_g1');
      assert.equal(ds.info.fps, 30);
      assert.deepEqual(ds.info.features['observation.state']?.shape, [16]);
      const names = ds.info.features['observation.state']?.names as string[];
      assert.equal(names[0], 'left_arm_joint1');
      assert.equal(names[13], 'right_arm_joint7');
      assert.deepEqual(names.slice(14), ['left_effector', 'right_effector']);
      assert.deepEqual(
        ds.tasks.map((t) => t.task),
        ['Pickup items in the supermarket', 'Fold the towel'],
      );
      assert.deepEqual(
        ds.episodes.map((e) => e.length),
        [5, 3],
      );

      const ep = await ds.readEpisodeFrames(0);
      const state = ep.columns['observation.state'] as Float32Array;
      const action = ep.columns.action as Float32Array;
      // state frame 3: joint c = 3 + c/100, effector = 50 + 3 + c
      assert.ok(Math.abs((state[3 * 16 + 5] as number) - 3.05) < 1e-5);
      assert.equal(state[3 * 16 + 15], 54);
      // action joint rows at frames 1, 2, 4; frame 0 takes the first row, frame 3 holds frame 2's
      assert.deepEqual(
        [0, 1, 2, 3, 4].map((t) => action[t * 16]),
        [100, 100, 101, 101, 102],
      );
      // effector action has no index and N rows: copied through
      assert.ok(Math.abs((action[4 * 16 + 14] as number) - 0.4) < 1e-6);

      const meta = ds.tgEpisodes?.[0] as { events: unknown[]; task: string; source: string; id: string };
      assert.equal(meta.task, 'agibot-task-327');
      assert.equal(meta.source, 'teleop');
      assert.match(meta.id, /^[0-9a-f]{64}$/);
      assert.deepEqual(meta.events, [
        { frame: 0, kind: 'segment', detail: 'Reach for the bag' },
        { frame: 2, kind: 'segment', detail: 'Grasp the bag' },
      ]);
    } finally {
      ds.close();
    }
  });

  test('taskIds and limit select episodes', async () => {
    const out = join(root, 'only328');
    const report = await importAgibot(src, out, { taskIds: [328] });
    assert.equal(report.imported, 1);
    assert.equal(report.episodes.length, 1);
    const limited = await importAgibot(src, join(root, 'limited'), { limit: 1 });
    assert.equal(limited.imported, 1);
    assert.equal(limited.episodes.at(-1)?.episodeId, 1001);
  });

  test('nothing importable: no dataset written', async () => {
    const out = join(root, 'none');
    const report = await importAgibot(src, out, { taskIds: [327], limit: 0 });
    assert.equal(report.outDir, null);
    assert.equal(existsSync(out), false);
  });

  test('bad source: no task_info, malformed task file', async () => {
    await assert.rejects(importAgibot(join(root, 'nowhere'), join(root, 'x')), (err: unknown) => {
      assert.ok(isTgError(err) && err.code === 'INPUT_INVALID' && err.message.includes('task_info'));
      return true;
    });
    const bad = join(root, 'bad');
    mkdirSync(join(bad, 'task_info'), { recursive: true });
    writeFileSync(join(bad, 'task_info', 'task_1.json'), JSON.stringify({ not: 'a list' }));
    await assert.rejects(importAgibot(bad, join(root, 'y')), (err: unknown) => {
      assert.ok(isTgError(err) && err.code === 'INPUT_INVALID' && err.message.includes('task_1.json'));
      return true;
    });
  });
});
