/**
 * `tg run --out`: the episode recorded as a LeRobot v3 dataset (frames of measured state and actuated
 * command, the task's success label, the safety events as episode events), read back with the project's
 * reader and `tg validate`, for the arm and for the humanoid; an existing directory is refused before
 * anything runs. In process: the humanoid's frame tap records the canonical state and exactly what the
 * spine wrote to the actuators.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type EpisodeOutcome, LOCOMOTION_SCENES, RobotStack } from '../../src/control/stack/index.ts';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.ts';
import type { DatasetQualityReport } from '../../src/data/quality/index.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { tgRun } from './run.child.ts';
import { runTg } from './run-cli.ts';

const ARM7 = loadEmbodiment('arm7');
const HUMANOID = loadEmbodiment('humanoid');

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

test('--out records a humanoid walk: canonical state and actuated command, readable by tg validate', async () => {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'tg-run-')), 'walk');
  const run = await tgRun([
    '--json',
    '--robot',
    'humanoid',
    '--task',
    'walk to (0.5, 0)',
    '--out',
    dir,
    '--fps',
    '25',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const o = JSON.parse(run.stdout) as EpisodeOutcome & { recorded: { frames: number; fps: number } };
  assert.equal(o.success, true, o.reason);
  assert.equal(o.scene, 'locomotion/walk-route');
  assert.equal(o.recorded.frames, Math.ceil(o.simSec * 25 - 1e-9));
  const ds = await readLeRobotDataset(dir);
  try {
    assert.equal(ds.info.robot_type, 'humanoid');
    const features = ds.info.features as Record<string, { shape: number[]; names: string[] }>;
    assert.deepEqual(features['observation.state']!.names, HUMANOID.stateNames);
    assert.deepEqual(features.action!.names, HUMANOID.actionNames);
    const meta = ds.tgEpisodes![0]!;
    assert.equal(meta.task, 'locomotion/walk-route');
    assert.equal(meta.success, true);
    assert.equal((meta.events as unknown[]).length, Math.min(o.safetyEventCount, o.safetyEvents.length));
    const frames = await ds.readEpisodeFrames(0);
    const n = HUMANOID.stateNames.length;
    assert.equal(n, 27);
    const state = frames.columns['observation.state']!;
    const action = frames.columns.action!;
    assert.equal(state.length, frames.length * n);
    assert.equal(action.length, frames.length * n);
    const channel = (col: Float32Array, name: string) => {
      const i = HUMANOID.stateNames.indexOf(name);
      return Array.from({ length: frames.length }, (_, k) => col[k * n + i]!);
    };
    const span = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    // A walk swings both legs: the hips and knees move by tenths of a radian (not a recorded zero vector).
    for (const joint of ['left_hip_pitch', 'right_hip_pitch', 'left_knee', 'right_knee']) {
      assert.ok(span(channel(state, joint)) > 0.1, `${joint} state moves`);
      assert.ok(span(channel(action, joint)) > 0.1, `${joint} command moves`);
    }
    // Units and order: every value inside the channel's limits (grippers: openings in metres), and the
    // state follows the command (position servos).
    for (let k = 0; k < frames.length; k++) {
      for (let i = 0; i < n; i++) {
        const lo = HUMANOID.jointLimits.lower[i]! - 1e-3;
        const hi = HUMANOID.jointLimits.upper[i]! + 1e-3;
        assert.ok(action[k * n + i]! >= lo && action[k * n + i]! <= hi, `action ${k}/${i} in limits`);
        assert.ok(
          state[k * n + i]! >= lo - 0.05 && state[k * n + i]! <= hi + 0.05,
          `state ${k}/${i} in limits`,
        );
      }
    }
    const gripper = channel(state, 'left_gripper');
    assert.ok(Math.min(...gripper) > 0.01, 'the gripper opening is measured, not a constant 0');
  } finally {
    ds.close();
  }
  const validate = await runTg(['--json', 'validate', dir]);
  assert.equal(validate.code, 0, validate.stderr);
  const report = JSON.parse(validate.stdout) as DatasetQualityReport;
  assert.equal(report.robotType, 'humanoid');
  assert.equal(report.episodes.length, 1);
  assert.equal(report.episodes[0]!.lengthFrames, o.recorded.frames);
  const check = (name: string) => report.episodes[0]!.checks.find((c) => c.check === name);
  for (const name of ['finite', 'action-state-length', 'static-state', 'tracking-error']) {
    assert.equal(check(name)?.verdict, 'pass', `${name}: ${JSON.stringify(check(name))}`);
  }
});

test('the humanoid frame tap records qpos in canonical order and what the spine wrote to ctrl', async () => {
  const stack = await RobotStack.create({
    robot: HUMANOID,
    scene: LOCOMOTION_SCENES['locomotion/walk-route']!,
    frames: {
      hz: 50,
      sink: (_t, state, action) => {
        frames++;
        const w = stack.world;
        for (let i = 0; i < HUMANOID.jointNames.length; i++) {
          const q = w.qpos[w.qposAdr(HUMANOID.jointNames[i]!)]!;
          if (Math.abs(state[i]! - Math.fround(q)) > 1e-6) stateMismatch++;
        }
        for (let i = 0; i < HUMANOID.actionNames.length; i++) {
          const ctrl = w.ctrl[w.id('actuator', HUMANOID.actionNames[i]!)]!;
          if (action[i] !== Math.fround(ctrl)) actionMismatch++;
          if (action[i] !== Math.fround(stack.spine.output[i]!)) actionMismatch++;
        }
        const opening = w.qpos[w.qposAdr('left_finger_a')]! + w.qpos[w.qposAdr('left_finger_b')]!;
        if (Math.abs(state[25]! - Math.fround(opening)) > 1e-6) stateMismatch++;
        if (frames === 1) first.set(state);
        legSpan = Math.max(legSpan, Math.abs(state[3]! - first[3]!));
      },
    },
    maxSimSec: 2,
  });
  let frames = 0;
  let stateMismatch = 0;
  let actionMismatch = 0;
  let legSpan = 0;
  const first = new Float32Array(HUMANOID.stateNames.length);
  try {
    const o = await stack.run('walk to (0.5, 0)', 3);
    assert.ok(frames >= Math.floor(o.simSec * 50), `${frames} frames over ${o.simSec} s`);
    assert.equal(stateMismatch, 0);
    assert.equal(actionMismatch, 0);
    assert.ok(legSpan > 0.05, `the left knee moved (${legSpan} rad)`);
  } finally {
    stack.dispose();
  }
});
