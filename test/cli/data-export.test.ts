import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EpisodeLabels } from '../../src/data/episode.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { runTg, tempDir } from './run-cli.ts';

const FPS = 30;
const DIM = 3;
const names = ['a', 'b', 'c'];

function labels(e: number): EpisodeLabels {
  return {
    robot: e % 2 === 0 ? 'arm-1' : 'arm-2',
    embodimentHash: 'e1',
    vendor: 'acme',
    field: 'lab',
    operator: `op${e % 3}`,
    task: 'pick',
    instruction: `task ${e % 3}`,
    source: 'scripted',
    phase: 'drill',
    success: e % 2 === 0,
    seed: e,
    events: [],
  };
}

/** Frame values encode (episode, frame) so an exported frame can be traced to its source. */
async function writeDataset(dir: string, episodes: number, length: (e: number) => number): Promise<void> {
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': DIM, action: DIM } });
  const s = new Float32Array(DIM);
  const w = await LeRobotWriter.create(dir, {
    fps: FPS,
    robotType: 'sim-arm',
    features: {
      'observation.state': { dtype: 'float32', shape: [DIM], names },
      action: { dtype: 'float32', shape: [DIM], names },
    },
  });
  for (let e = 0; e < episodes; e++) {
    for (let f = 0; f < length(e); f++) {
      for (let d = 0; d < DIM; d++) s[d] = e * 1000 + f + d * 0.25;
      rec.record(f / FPS, { 'observation.state': s, action: s });
    }
    await w.addEpisode(rec.finish(labels(e)));
  }
  await w.close();
}

/** A user error: one line on stderr naming the problem, nothing on stdout, nothing left at `out`. */
function assertRefused(
  run: { code: number | null; stdout: string; stderr: string },
  pattern: RegExp,
  out: string,
): void {
  assert.notEqual(run.code, 0);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? '', pattern);
  assert.equal(run.stdout, '');
  assert.equal(existsSync(out), false, `${out} must not exist`);
  const parent = path.dirname(out);
  if (existsSync(parent)) {
    const leftovers = readdirSync(parent).filter((n) => n.startsWith(`.${path.basename(out)}.tmp`));
    assert.deepEqual(leftovers, [], 'no staging directory left behind');
  }
}

describe('tg export lerobot', () => {
  const root = tempDir('tg-export-');
  const src = path.join(root, 'src');
  const lengths = (e: number) => 5 + ((e * 7) % 11);

  before(async () => {
    await writeDataset(src, 12, lengths);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('exports every episode into a fresh dataset LeRobot can read, with --json', async () => {
    const out = path.join(root, 'all');
    const run = await runTg(['--json', 'export', 'lerobot', src, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const res = JSON.parse(run.stdout);
    const frames = Array.from({ length: 12 }, (_, e) => lengths(e)).reduce((a, b) => a + b, 0);
    assert.deepEqual(
      { episodes: res.episodes, frames: res.frames, tasks: res.tasks, dataFiles: res.dataFiles },
      { episodes: 12, frames, tasks: 3, dataFiles: 1 },
    );
    assert.deepEqual(
      res.sourceEpisodes,
      Array.from({ length: 12 }, (_, e) => e),
    );
    assert.equal(res.chunksSize, 1000);
    assert.equal(res.dataFilesSizeInMb, 100);
    const ds = await readLeRobotDataset(out);
    try {
      assert.equal(ds.info.total_frames, frames);
      const ep = await ds.readEpisodeFrames(5);
      assert.equal(ep.columns['observation.state']?.[0], 5000);
      assert.equal(ds.tgEpisodes?.length, 12);
      const stats = JSON.parse(readFileSync(path.join(out, 'meta/stats.json'), 'utf8'));
      assert.deepEqual(stats.index.count, [frames]);
      assert.deepEqual(stats.index.max, [frames - 1]);
    } finally {
      ds.close();
    }
  });

  it('keeps a selection by index, task and label, re-indexed and re-chunked', async () => {
    const out = path.join(root, 'some');
    const run = await runTg([
      '--json',
      'export',
      'lerobot',
      src,
      '--out',
      out,
      '--exclude',
      '0',
      '--task',
      'task 0',
      '--task',
      'task 2',
      '--where',
      'success=true',
      '--chunks-size',
      '2',
      '--data-file-size-mb',
      '0.0001',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const res = JSON.parse(run.stdout);
    // Even episodes (success) with e % 3 in {0, 2}, episode 0 excluded: 2, 6, 8.
    assert.deepEqual(res.sourceEpisodes, [2, 6, 8]);
    assert.equal(res.tasks, 2);
    assert.equal(res.dataFiles, 3, 'each episode alone reaches the tiny file limit');
    const ds = await readLeRobotDataset(out);
    try {
      assert.deepEqual(
        ds.episodes.map((e) => [e.episodeIndex, e.dataChunkIndex, e.dataFileIndex, e.datasetFromIndex]),
        [
          [0, 0, 0, 0],
          [1, 0, 1, lengths(2)],
          [2, 1, 0, lengths(2) + lengths(6)],
        ],
      );
      assert.deepEqual(ds.info.chunks_size, 2);
      assert.deepEqual(
        ds.tasks.map((t) => t.task),
        ['task 2', 'task 0'],
      );
      const third = await ds.readEpisodeFrames(2);
      assert.equal(third.columns.action?.[0], 8000);
      assert.deepEqual(third.index[0], lengths(2) + lengths(6));
      assert.deepEqual(
        ds.tgEpisodes?.map((t) => [t.episode_index, t.seed]),
        [
          [0, 2],
          [1, 6],
          [2, 8],
        ],
      );
    } finally {
      ds.close();
    }
  });

  it('--no-tg-meta writes only what LeRobot defines; the human output names the mapping', async () => {
    const out = path.join(root, 'plain');
    const run = await runTg(['export', 'lerobot', src, '--out', out, '--episodes', '1,3-4', '--no-tg-meta']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^exported 3 episode\(s\), \d+ frames, \d task\(s\) from /);
    assert.match(run.stdout, /^2\s+4\s*$/m);
    assert.deepEqual(readdirSync(path.join(out, 'meta')).sort(), [
      'episodes',
      'info.json',
      'stats.json',
      'tasks.parquet',
    ]);
  });

  it('refuses bad arguments with one clear line and writes nothing', async () => {
    // A flag's value, a missing episode and an output inside the input; the library's other refusals are
    // covered in test/data/surgery.test.ts without a process each.
    const out = path.join(root, 'bad');
    const inside = path.join(src, 'copy');
    const [missing, where, nested] = await Promise.all([
      runTg(['export', 'lerobot', src, '--out', out, '--episodes', '3,40']),
      runTg(['export', 'lerobot', src, '--out', out, '--where', 'success']),
      runTg(['export', 'lerobot', src, '--out', inside]),
    ]);
    assertRefused(missing, /no episode 40 \(it has 12\) \[INPUT_INVALID\]$/, out);
    assert.equal(missing.code, 1);
    assertRefused(where, /--where.*expected label=value/, out);
    assert.equal(where.code, 2);
    assertRefused(nested, /lies inside the input/, inside);
  });

  it('Ctrl-C stops the export and leaves nothing behind', async () => {
    const big = path.join(root, 'big');
    await writeDataset(big, 400, () => 3);
    const out = path.join(root, 'interrupted');
    const child = spawn(
      process.execPath,
      [path.resolve(import.meta.dirname, '../../bin/tg.js'), 'export', 'lerobot', big, '--out', out],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Interrupt once the export has started writing (its staging directory exists).
    const started = Date.now();
    while (!readdirSync(root).some((n) => n.startsWith('.interrupted.tmp'))) {
      assert.ok(Date.now() - started < 60_000, 'the export never started');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted; nothing was written \[INTERRUPTED\]/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('.interrupted')),
      [],
    );
  });
});
