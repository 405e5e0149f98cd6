import type { Command } from 'commander';
import { type AgibotEpisodeReport, importAgibot } from '../../data/agibot/index.ts';
import { TgError } from '../../errors/index.ts';
import { intArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';

interface AgibotFlags {
  out: string;
  task: number[];
  limit?: number;
  fps?: number;
}

export function registerImportCommand(program: Command): void {
  const imp = program.command('import').description('import datasets from other formats');
  imp
    .command('agibot <src>')
    .description('import AgiBot World (task_info/ + proprio_stats/) into a new LeRobot v3 dataset')
    .requiredOption('--out <dataset>', 'dataset directory to create (must not exist)')
    .option(
      '--task <id>',
      'only this task id (repeatable)',
      (v: string, acc: number[]) => [...acc, intArg(0)(v)],
      [] as number[],
    )
    .option('--limit <n>', 'stop after n imported episodes', intArg(0))
    .option('--fps <n>', 'source frame rate (default 30)', intArg(1))
    .action(async (src: string, flags: AgibotFlags, cmd: Command) => {
      const ctx = commandContext(cmd);
      const report = await importAgibot(src, flags.out, {
        ...(flags.task.length > 0 ? { taskIds: flags.task } : {}),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        ...(flags.fps !== undefined ? { fps: flags.fps } : {}),
      });
      const skipped = report.episodes.filter(
        (e): e is Extract<AgibotEpisodeReport, { status: 'skipped' }> => e.status === 'skipped',
      );
      printResult(ctx, report, () =>
        [
          report.outDir
            ? `imported ${report.imported} episode(s) into ${report.outDir}, skipped ${report.skipped}`
            : `nothing imported (${report.skipped} skipped)`,
          ...(skipped.length > 0
            ? [
                formatTable(
                  ['task', 'episode', 'reason'],
                  skipped.map((e) => [e.taskId, e.episodeId, e.reason]),
                ),
              ]
            : []),
        ].join('\n'),
      );
      if (report.outDir === null)
        throw new TgError(
          'INPUT_INVALID',
          `${src}: no episode could be imported (${report.skipped} skipped)`,
        );
    });
}
