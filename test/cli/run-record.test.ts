/**
 * `tg run --out`: the episode recorded as a LeRobot v3 dataset (frames of measured state and actuated
 * command, the task's success label, the safety events as episode events), read back with the project's
 * reader; an existing directory is refused before anything runs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EpisodeOutcome } from '../../src/control/stack/index.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { tgRun } from './run.child.ts';

const ARM7 = loadEmbodiment('arm7');

test('--out writes the episode as a LeRobot v3 dataset', async () => {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'tg-run-')), 'dataset');
  const run = await tgRun([
    '--json',
    '--robot',
    'arm7',
    '--task',
    'put the cube in the bin',
    '--seed',
    '2',
    '--out',
    dir,
    '--fps',
    '25',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const o = JSON.parse(run.stdout) as EpisodeOutcome & {
    recorded: { dir: string; episodeId: string; frames: number; fps: number };
  };
  assert.equal(o.success, true, o.reason);
  // Frame k at k / 25 s, for every k whose time the episode reached.
  assert.equal(o.recorded.frames, Math.ceil(o.simSec * 25 - 1e-9));
  const ds = await readLeRobotDataset(dir);
  try {
    assert.equal(ds.info.fps, 25);
    assert.equal(ds.episodes.length, 1);
    assert.equal(ds.episodes[0]!.length, o.recorded.frames);
    assert.deepEqual(
      ds.tasks.map((t) => t.task),
      ['put the cube in the bin'],
    );
    const meta = ds.tgEpisodes![0]!;
    assert.equal(meta.success, true);
    assert.equal(meta.seed, 2);
    assert.equal(meta.task, 'factory/pick-place');
    assert.equal((meta.events as unknown[]).length, Math.min(o.safetyEventCount, o.safetyEvents.length));
    const frames = await ds.readEpisodeFrames(0);
    const n = ARM7.actionNames.length;
    const action = frames.columns.action!;
    const state = frames.columns['observation.state']!;
    assert.equal(action.length, frames.length * n);
    // The first frame is the initial state held; the gripper opened and closed on the cube along the way.
    for (let i = 0; i < n; i++) assert.ok(Math.abs(action[i]! - state[i]!) < 1e-3, `channel ${i}`);
    const gripper = Array.from({ length: frames.length }, (_, k) => action[k * n + n - 1]!);
    assert.ok(Math.min(...gripper) < 0.06, 'the gripper closed on the 45 mm cube');
    assert.ok(Math.abs(frames.timestamp[1]! - 0.04) < 1e-6);
  } finally {
    ds.close();
  }
});

test('--out into an existing directory is refused before the episode runs', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tg-run-'));
  mkdirSync(path.join(dir, 'taken'));
  const run = await tgRun([
    '--robot',
    'arm7',
    '--task',
    'put the cube in the bin',
    '--out',
    path.join(dir, 'taken'),
  ]);
  assert.equal(run.code, 1);
  assert.match(run.stderr.trim(), /^tg: lerobot writer: .*taken already exists \[STORAGE_FAILED\]$/);
  assert.equal(run.stdout, '');
  assert.deepEqual(readdirSync(dir), ['taken'], 'no staging directory left behind');
});
