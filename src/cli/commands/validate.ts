import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { DatasetQualityReport, YieldBucket } from '../../data/quality/index.ts';
import { validateDataset, YIELD_DIMENSIONS } from '../../data/quality/index.ts';
import { TgError } from '../../errors/index.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('run the quality checks over a LeRobot v3 dataset and report verdicts and data yield')
    .argument('<dataset>', 'dataset directory')
    .option('--thresholds <file.json>', 'JSON file overriding quality thresholds (any subset)')
    .action(async (dataset: string, opts: { thresholds?: string }, cmd: Command) => {
      const ctx = commandContext(cmd);
      const thresholds = opts.thresholds === undefined ? undefined : await readThresholds(opts.thresholds);
      const report = await validateDataset(dataset, { thresholds });
      printResult(ctx, report, () => renderReport(report));
    });
}

async function readThresholds(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TgError('CONFIG_UNREADABLE', `${file}: cannot read (${(cause as Error).message})`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TgError('CONFIG_UNREADABLE', `${file}: not valid JSON`, { cause });
  }
}

const percent = (y: number | null) => (y === null ? '-' : `${(y * 100).toFixed(1)}%`);

function bucketRow(name: string, b: YieldBucket): Array<string | number> {
  return [name, b.episodes, b.acceptedEpisodes, b.recordedFrames, b.acceptedFrames, percent(b.yield)];
}

export function renderReport(report: DatasetQualityReport): string {
  const y = report.yield;
  const episodes = formatTable(
    ['episode', 'frames', 'verdict', 'failed', 'warned'],
    report.episodes.map((e) => [
      e.episodeIndex,
      e.lengthFrames,
      e.verdict,
      e.failed.join(',') || '-',
      e.warned.join(',') || '-',
    ]),
  );
  const breakdown = formatTable(
    ['group', 'episodes', 'accepted', 'frames', 'accepted frames', 'yield'],
    YIELD_DIMENSIONS.flatMap((d) =>
      Object.entries(y.by[d])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, b]) => bucketRow(`${d}=${k}`, b)),
    ),
  );
  return [
    `# ${report.dir}: ${report.episodes.length} episodes at ${report.fps} fps`,
    episodes,
    '',
    `data yield ${percent(y.yield)}: ${y.acceptedFrames} of ${y.recordedFrames} frames accepted ` +
      `(${y.acceptedEpisodes} of ${y.episodes} episodes)`,
    '',
    breakdown,
  ].join('\n');
}
