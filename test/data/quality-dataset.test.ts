import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerValidateCommand } from '../../src/cli/commands/validate.ts';
import type { EpisodeLabels, RecordedEpisode } from '../../src/data/episode.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
import { type DatasetQualityReport, validateDataset } from '../../src/data/quality/index.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const FPS = 30;
const NAMES = ['j1', 'j2', 'gripper'];
const FEATURES = {
  'observation.state': { dtype: 'float32' as const, shape: [3] as [number], names: NAMES },
  action: { dtype: 'float32' as const, shape: [3] as [number], names: NAMES },
};
const LIMITS = { lower: [-2, -2, 0], upper: [2, 2, 0.08] };

/** Smooth joint motion, gripper closes once halfway; the action leads the state by one frame. */
function motion(f: number, c: number, length: number): number {
  return c === 2 ? (f < length / 2 ? 0.08 : 0.03) : Math.sin((f / FPS) * (c + 1)) * 0.5;
}

function episode(length: number, labels: Partial<EpisodeLabels>, nanAt?: number): RecordedEpisode {
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': 3, action: 3 } });
  const s = new Float32Array(3);
  const a = new Float32Array(3);
  for (let f = 0; f < length; f++) {
    for (let c = 0; c < 3; c++) {
      s[c] = motion(f, c, length);
      a[c] = motion(f + 1, c, length);
    }
    if (f === nanAt) s[0] = Number.NaN;
    rec.record(f / FPS, { 'observation.state': s, action: a });
  }
  return rec.finish({
    robot: 'arm7-a',
    embodimentHash: 'e',
    vendor: 'acme',
    field: 'lab',
    operator: 'ann',
    task: 'pick-place',
    instruction: 'put the red cube in the bin',
    source: 'scripted',
    phase: 'drill',
    success: true,
    seed: 1,
    events: [],
    ...labels,
  });
}

describe('validateDataset on a dataset written by LeRobotWriter', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-quality-'));
  const dir = join(root, 'ds');
  let report: DatasetQualityReport;

  before(async () => {
    const w = await LeRobotWriter.create(dir, { fps: FPS, robotType: 'arm7', features: FEATURES });
    await w.addEpisode(episode(60, {}));
    await w.addEpisode(episode(90, { operator: 'bo' }));
    await w.addEpisode(episode(45, { operator: 'bo', robot: 'arm7-b' }, 20)); // the bad one: a NaN
    await w.addEpisode(episode(75, { robot: 'arm7-b', phase: 'autonomy' }));
    await w.addEpisode(episode(60, { vendor: 'zeta', success: null }));
    await w.close();
    report = await validateDataset(dir, { jointLimits: LIMITS });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the NaN episode is rejected by the finite check; the others are accepted', () => {
    assert.deepEqual(
      report.episodes.map((e) => e.verdict),
      ['pass', 'pass', 'fail', 'pass', 'warn'],
    );
    assert.deepEqual(report.episodes[2]?.failed, ['finite']);
    assert.deepEqual(report.episodes[4]?.warned, ['success-label']);
    assert.match(report.episodes[0]?.id ?? '', /^[0-9a-f]{64}$/);
  });

  test('yield = accepted / recorded frames, with breakdowns', () => {
    const y = report.yield;
    // Recorded 60 + 90 + 45 + 75 + 60 = 330; the 45-frame episode is rejected.
    assert.deepEqual([y.recordedFrames, y.acceptedFrames, y.yield], [330, 285, 285 / 330]);
    assert.deepEqual(Object.fromEntries(Object.entries(y.by.robot).map(([k, b]) => [k, b.yield])), {
      'arm7-a': 1,
      'arm7-b': 75 / 120,
    });
    assert.equal(y.by.operator.bo?.yield, 90 / 135);
    assert.equal(y.by.vendor.zeta?.yield, 1);
    assert.equal(y.by.phase.drill?.acceptedFrames, 210);
    assert.equal(y.by.task['pick-place']?.recordedFrames, 330);
  });

  test('thresholds override: making the success label a fail check rejects the unlabelled episode', async () => {
    const strict = await validateDataset(dir, { thresholds: { successLabel: { severity: 'fail' } } });
    assert.equal(strict.episodes[4]?.verdict, 'fail');
    assert.equal(strict.yield.acceptedFrames, 225);
    await assert.rejects(
      validateDataset(dir, { thresholds: { nope: {} } }),
      (e: unknown) => isTgError(e) && e.code === 'CONFIG_INVALID',
    );
  });

  test('a directory that is not a dataset fails with INPUT_INVALID', async () => {
    await assert.rejects(
      validateDataset(join(root, 'missing')),
      (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
    );
  });

  test('tg validate --json prints the report; --thresholds is read from a file', async () => {
    const file = join(root, 'thresholds.json');
    writeFileSync(file, JSON.stringify({ successLabel: { severity: 'fail' } }));
    const program = new Command('tg').option('--json').exitOverride();
    registerValidateCommand(program);
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    // Only strings: the test runner itself reports to stdout in binary frames while the test runs.
    process.stdout.write = ((s: unknown, ...rest: unknown[]) => {
      if (typeof s === 'string') {
        chunks.push(s);
        return true;
      }
      return (write as (...a: unknown[]) => boolean)(s, ...rest);
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['validate', dir, '--json', '--thresholds', file], { from: 'user' });
      const parsed = JSON.parse(chunks.join('')) as DatasetQualityReport;
      assert.equal(parsed.yield.acceptedFrames, 225);
      chunks.length = 0;
      await program.parseAsync(['validate', dir], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    assert.match(chunks.join(''), /data yield 86\.4%: 285 of 330 frames accepted/);
    await assert.rejects(
      program.parseAsync(['validate', join(root, 'missing')], { from: 'user' }),
      (e: unknown) => isTgError(e) && e.exitCode !== 0,
    );
  });
});
