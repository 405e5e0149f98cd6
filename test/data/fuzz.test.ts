/**
 * Deterministic fuzzing of the dataset readers with mutated real files: parquet files of a LeRobot v3 dataset
 * written by LeRobotWriter, its JSON metadata, an AgiBot World task_info file and proprio_stats.h5 files.
 * Every mutant must either be accepted or rejected with a TgError whose message names the mutated file; a
 * failed AgiBot import must leave no output (nor a staging directory) behind.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import h5wasm from 'h5wasm/node';
import { importAgibot } from '../../src/data/agibot/index.ts';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
import { validateDataset } from '../../src/data/quality/index.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

/** mulberry32: a small seeded PRNG, so every run fuzzes the same mutants. */
function prng(seed: number): { next(): number; int(n: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}
type Rng = ReturnType<typeof prng>;

// ---- byte mutations -------------------------------------------------------------------------------------

function truncate(buf: Buffer, rng: Rng): Buffer {
  return buf.subarray(0, rng.int(buf.length));
}
function flip(buf: Buffer, rng: Rng): Buffer {
  const out = Buffer.from(buf);
  const n = 1 + rng.int(8);
  for (let i = 0; i < n; i++) {
    const at = rng.int(out.length);
    out[at] = (out[at] as number) ^ (1 + rng.int(255));
  }
  return out;
}
function zeroRange(buf: Buffer, rng: Rng): Buffer {
  const out = Buffer.from(buf);
  const start = rng.int(out.length);
  out.fill(0, start, Math.min(out.length, start + 1 + rng.int(64)));
  return out;
}

// ---- JSON mutations -------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** Every (container, key) pair in a JSON value, depth first. */
function slots(v: Json, out: [Json[] | { [k: string]: Json }, string | number][] = []) {
  if (Array.isArray(v))
    v.forEach((c, i) => {
      out.push([v, i]);
      slots(c, out);
    });
  else if (v !== null && typeof v === 'object')
    for (const [k, c] of Object.entries(v)) {
      out.push([v, k]);
      slots(c, out);
    }
  return out;
}
const WRONG: Json[] = [null, true, -1, 0, 1.5, 1e308, '', 'x', [], {}, [1, 'a'], { a: 1 }];
function wrongType(buf: Buffer, rng: Rng): Buffer {
  const root = JSON.parse(buf.toString('utf8')) as Json;
  const all = slots(root);
  const [parent, key] = all[rng.int(all.length)] as [Record<string | number, Json>, string | number];
  const old = parent[key];
  let v = WRONG[rng.int(WRONG.length)] as Json;
  for (let i = 0; i < 5 && JSON.stringify(v) === JSON.stringify(old); i++)
    v = WRONG[rng.int(WRONG.length)] as Json;
  parent[key] = v;
  return Buffer.from(JSON.stringify(root));
}
function deleteKey(buf: Buffer, rng: Rng): Buffer {
  const root = JSON.parse(buf.toString('utf8')) as Json;
  const all = slots(root);
  const [parent, key] = all[rng.int(all.length)] as [Json[] | Record<string, Json>, string | number];
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key as string];
  return Buffer.from(JSON.stringify(root));
}

type Mutation = (buf: Buffer, rng: Rng) => Buffer;
const BYTES: Record<string, Mutation> = { truncate, flip, zeroRange };
const JSONS: Record<string, Mutation> = { truncate, flip, wrongType, deleteKey };
const H5S: Record<string, Mutation> = { truncate, flip };

// ---- fixtures -------------------------------------------------------------------------------------------

const NAMES = ['j1', 'j2', 'gripper'];
function episode(length: number, phase: number): RecordedEpisode {
  const rec = new Recorder({ fps: 30, features: { 'observation.state': 3, action: 3 } });
  const s = new Float32Array(3);
  const a = new Float32Array(3);
  for (let f = 0; f < length; f++) {
    for (let c = 0; c < 3; c++) {
      s[c] = Math.sin(f / 30 + phase + c) * 0.5;
      a[c] = Math.sin((f + 1) / 30 + phase + c) * 0.5;
    }
    rec.record(f / 30, { 'observation.state': s, action: a });
  }
  return rec.finish({
    robot: 'arm7',
    embodimentHash: 'e',
    vendor: 'acme',
    field: 'lab',
    operator: 'ann',
    task: phase === 2 ? 'stack' : 'pick-place',
    instruction: phase === 2 ? 'stack the blocks' : 'put the cube in the bin',
    source: 'scripted',
    phase: 'drill',
    success: true,
    seed: 1,
    events: [],
  });
}

function writeH5(file: string, n: number, seed: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const f = new h5wasm.File(file, 'w');
  for (const g of ['state', 'state/joint', 'state/effector', 'action', 'action/joint', 'action/effector'])
    f.create_group(g);
  const mat = (rows: number, cols: number, fn: (r: number, c: number) => number) =>
    Float64Array.from({ length: rows * cols }, (_, i) => fn(Math.floor(i / cols), i % cols));
  f.create_dataset({
    name: 'timestamp',
    data: BigInt64Array.from({ length: n }, (_, t) => 1_700_000_000_000_000_000n + BigInt(t) * 33_333_333n),
    shape: [n],
    dtype: '<q',
  });
  f.create_dataset({
    name: 'state/joint/position',
    data: mat(n, 14, (r, c) => seed + r + c / 100),
    shape: [n, 14],
    dtype: '<d',
  });
  f.create_dataset({
    name: 'state/effector/position',
    data: mat(n, 2, (r, c) => 50 + r + c),
    shape: [n, 2],
    dtype: '<d',
  });
  const m = Math.ceil(n / 2);
  f.create_dataset({
    name: 'action/joint/position',
    data: mat(m, 14, (r) => 100 + r),
    shape: [m, 14],
    dtype: '<d',
  });
  f.create_dataset({
    name: 'action/joint/index',
    data: BigInt64Array.from({ length: m }, (_, k) => BigInt(k * 2)),
    shape: [m],
    dtype: '<q',
  });
  f.create_dataset({
    name: 'action/effector/position',
    data: mat(n, 2, (r) => r / 10),
    shape: [n, 2],
    dtype: '<d',
  });
  f.close();
}

const taskEpisode = (id: number) => ({
  episode_id: id,
  task_id: 7,
  task_name: 'Pick up the bag',
  init_scene_text: 'A shelf.',
  label_info: {
    action_config: [
      { start_frame: 0, end_frame: 5, action_text: 'Reach', skill: 'Reach' },
      { start_frame: 5, end_frame: 19, action_text: 'Grasp', skill: 'Grasp' },
    ],
  },
});

// ---- the harness ----------------------------------------------------------------------------------------

interface Tally {
  mutants: number;
  accepted: number;
  rejected: number;
}
const tallies: Record<string, Tally> = {};
/** Problems of the current test (reset by each test). */
let problems: string[] = [];
const MAX_PROBLEMS = Number(process.env.FUZZ_MAX_PROBLEMS ?? 20);

function tally(kind: string): Tally {
  tallies[kind] ??= { mutants: 0, accepted: 0, rejected: 0 };
  return tallies[kind];
}

/** Runs `fn` on a mutant of `file` (restored afterwards); checks the outcome. */
async function fuzzFile(
  kind: string,
  file: string,
  /** What the error message must contain (the file's basename or its dataset-relative path). */
  mustName: string,
  mutations: Record<string, Mutation>,
  perMutation: number,
  rng: Rng,
  fn: () => Promise<void>,
  afterFailure?: () => string | null,
): Promise<void> {
  const pristine = readFileSync(file);
  const t = tally(kind);
  try {
    for (const [name, mutate] of Object.entries(mutations)) {
      for (let i = 0; i < perMutation; i++) {
        const mutant = mutate(pristine, rng);
        writeFileSync(file, mutant);
        t.mutants++;
        const label = `${kind} ${basename(file)} ${name}#${i}`;
        try {
          await fn();
          t.accepted++;
        } catch (err) {
          t.rejected++;
          if (!isTgError(err))
            problems.push(`${label}: not a TgError: ${(err as Error)?.stack ?? String(err)}`.slice(0, 600));
          else if (!err.message.includes(mustName))
            problems.push(`${label}: message does not name ${mustName}: ${err.message}`.slice(0, 600));
          const leftover = afterFailure?.();
          if (leftover) problems.push(`${label}: ${leftover}`);
        }
        if (problems.length > MAX_PROBLEMS) return;
      }
    }
  } finally {
    writeFileSync(file, pristine);
  }
}

describe('fuzz: mutated dataset files are accepted or rejected with a TgError naming the file', {
  timeout: 180_000,
}, () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-fuzz-'));
  const pristineDs = join(root, 'pristine');
  const ds = join(root, 'ds');
  const agibot = join(root, 'agibot');
  const outs = join(root, 'outs');

  before(async () => {
    await h5wasm.ready;
    const w = await LeRobotWriter.create(pristineDs, {
      fps: 30,
      robotType: 'arm7',
      features: {
        'observation.state': { dtype: 'float32', shape: [3], names: NAMES },
        action: { dtype: 'float32', shape: [3], names: NAMES },
      },
    });
    await w.addEpisode(episode(20, 0));
    await w.addEpisode(episode(22, 1));
    await w.addEpisode(episode(18, 2));
    await w.close();
    cpSync(pristineDs, ds, { recursive: true });

    mkdirSync(join(agibot, 'task_info'), { recursive: true });
    writeFileSync(
      join(agibot, 'task_info', 'task_7.json'),
      JSON.stringify([taskEpisode(70), taskEpisode(71)], null, 2),
    );
    writeH5(join(agibot, 'proprio_stats/7/70/proprio_stats.h5'), 20, 0);
    writeH5(join(agibot, 'proprio_stats/7/71/proprio_stats.h5'), 20, 1);
    mkdirSync(outs);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    const lines = Object.entries(tallies).map(
      ([k, t]) => `${k}: ${t.mutants} mutants, ${t.accepted} accepted, ${t.rejected} rejected`,
    );
    lines.push(`imports that skipped an episode: ${skippedImports}`);
    console.log(`fuzz summary\n  ${lines.join('\n  ')}`);
  });

  /** readLeRobotDataset + readEpisodeFrames on every episode; validateDataset on every `validateEvery`th. */
  let readCount = 0;
  const readAll = (validateEvery: number) => async () => {
    const d = await readLeRobotDataset(ds);
    try {
      for (const ep of d.episodes) await d.readEpisodeFrames(ep.episodeIndex);
    } finally {
      d.close();
    }
    if (readCount++ % validateEvery === 0) await validateDataset(ds);
  };

  test('LeRobot parquet files', async () => {
    problems = [];
    const rng = prng(0x5eed1);
    const dataFile = readdirSync(join(ds, 'data/chunk-000'))[0] as string;
    const epFile = readdirSync(join(ds, 'meta/episodes/chunk-000'))[0] as string;
    for (const rel of [
      `data/chunk-000/${dataFile}`,
      'meta/tasks.parquet',
      `meta/episodes/chunk-000/${epFile}`,
    ])
      await fuzzFile('parquet', join(ds, rel), rel, BYTES, 50, rng, readAll(3));
    assert.deepEqual(problems, []);
  });

  test('LeRobot JSON metadata', async () => {
    problems = [];
    const rng = prng(0x5eed2);
    for (const rel of ['meta/info.json', 'meta/stats.json'])
      await fuzzFile('json', join(ds, rel), basename(rel), JSONS, 40, rng, readAll(2));
    assert.deepEqual(problems, []);
  });

  let outN = 0;
  /** Imports that went through with at least one episode skipped (a corrupt h5 is skipped, not fatal). */
  let skippedImports = 0;
  const importFresh = () => {
    const out = join(outs, `out-${outN++}`);
    return {
      out,
      run: async () => {
        const report = await importAgibot(agibot, out);
        if (report.skipped > 0) skippedImports++;
        if (report.outDir === null)
          assert.equal(existsSync(out), false, 'no dataset, yet an output directory');
        else (await readLeRobotDataset(out)).close();
        rmSync(out, { recursive: true, force: true });
      },
      leftover: () => {
        const left = readdirSync(outs);
        if (left.length === 0) return null;
        for (const l of left) rmSync(join(outs, l), { recursive: true, force: true });
        return `failed import left ${left.join(', ')}`;
      },
    };
  };

  test('AgiBot task_info JSON', async () => {
    problems = [];
    const rng = prng(0x5eed3);
    const file = join(agibot, 'task_info', 'task_7.json');
    let current = importFresh();
    await fuzzFile(
      'agibot-json',
      file,
      'task_7.json',
      JSONS,
      50,
      rng,
      async () => {
        current = importFresh();
        await current.run();
      },
      () => current.leftover(),
    );
    assert.deepEqual(problems, []);
  });

  test('AgiBot proprio_stats.h5', async () => {
    problems = [];
    const rng = prng(0x5eed4);
    let current = importFresh();
    for (const ep of [70, 71]) {
      await fuzzFile(
        'agibot-h5',
        join(agibot, `proprio_stats/7/${ep}/proprio_stats.h5`),
        'proprio_stats.h5',
        H5S,
        75,
        rng,
        async () => {
          current = importFresh();
          await current.run();
        },
        () => current.leftover(),
      );
    }
    assert.deepEqual(problems, []);
    const total = Object.values(tallies).reduce((a, t) => a + t.mutants, 0);
    assert.ok(total >= 1000, `${total} mutants`);
  });
});
