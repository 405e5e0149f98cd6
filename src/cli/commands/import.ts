import path from 'node:path';
import type { Command } from 'commander';
import { type AgibotEpisodeReport, importAgibot } from '../../data/agibot/index.ts';
import { stageLeRobotImport } from '../../data/lerobot/import.ts';
import { TgError } from '../../errors/index.ts';
import { lockHome } from '../../facility/home-lock.ts';
import { Catalog, datasetNameSchema } from '../../hub/catalog/index.ts';
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
    .command('lerobot <dir>')
    .description(
      'copy a LeRobot v3.0 dataset into TG_HOME/datasets/<name> and register it and its episodes in the catalog',
    )
    .option('--name <name>', 'dataset name (default: the directory name)')
    .action(async (dir: string, flags: { name?: string }, cmd: Command) => {
      const ctx = commandContext(cmd);
      const result = await importLeRobot(ctx.config, dir, flags.name);
      printResult(ctx, result, () =>
        [
          `imported ${result.episodes} episode(s), ${result.frames} frames into ${result.name} (${result.path})`,
          ...(result.videos.length > 0
            ? [`video features ${result.videos.join(', ')}: mp4 files copied as-is, not decoded or checked`]
            : []),
          ...(result.skipped > 0
            ? [`${result.skipped} episode id(s) already in the catalog (left under their first dataset)`]
            : []),
        ].join('\n'),
      );
    });
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

interface LeRobotImportResult {
  name: string;
  path: string;
  episodes: number;
  frames: number;
  /** Episodes added to the catalog, and those whose id (a content hash) it already had. */
  inserted: number;
  skipped: number;
  /** Video feature keys: their files are copied as-is, not decoded or checked. */
  videos: string[];
}

/**
 * Validate, copy to a staging directory under the home, rename into place, register; any failure removes
 * the copy and the dataset row, so a refused import leaves nothing behind.
 */
async function importLeRobot(
  config: { home: string; databaseUrl: string | null },
  dir: string,
  nameFlag: string | undefined,
): Promise<LeRobotImportResult> {
  const src = path.resolve(dir);
  const rawName =
    nameFlag ??
    path
      .basename(src)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-');
  const parsedName = datasetNameSchema.safeParse(rawName);
  if (!parsedName.success)
    throw new TgError('USAGE', `import lerobot: bad dataset name ${JSON.stringify(rawName)} (give --name)`);
  const name = parsedName.data;
  const dest = path.join(config.home, 'datasets', name);
  const { databaseUrl } = config;
  const unlock = databaseUrl ? () => {} : lockHome(config.home);
  try {
    const catalog = await Catalog.open(
      databaseUrl ? { databaseUrl } : { dataDir: path.join(config.home, 'catalog') },
    );
    try {
      if ((await catalog.listDatasets()).some((d) => d.name === name))
        throw new TgError('USAGE', `import lerobot: dataset ${name} is already registered (give --name)`);
      const staged = await stageLeRobotImport(src, dest);
      let registered = false;
      try {
        await staged.commit();
        for (const e of new Map(staged.episodes.map((e) => [e.robot, e])).values()) {
          await catalog.upsertRobot({
            id: e.robot,
            name: e.robot,
            embodiment: staged.robotType,
            embodimentHash: e.embodimentHash,
            vendor: e.vendor.length > 0 ? e.vendor : 'unknown',
            field: e.field.length > 0 ? e.field : 'import',
          });
        }
        await catalog.registerDataset({ name, path: dest, fps: staged.fps, robotType: staged.robotType });
        registered = true;
        const recordedAt = new Date();
        const { inserted, skipped } = await catalog.insertEpisodes(
          name,
          staged.episodes.map((e) => ({
            id: e.id,
            robotId: e.robot,
            episodeIndex: e.episodeIndex,
            task: e.task,
            instruction: e.instruction,
            source: e.source,
            phase: e.phase,
            success: e.success === true,
            seed: e.seed,
            length: e.length,
            durationSec: e.length / staged.fps,
            recordedAt,
          })),
        );
        return {
          name,
          path: dest,
          episodes: staged.episodes.length,
          frames: staged.totalFrames,
          inserted,
          skipped,
          videos: staged.videoKeys,
        };
      } catch (err) {
        await staged.discard();
        // insertEpisodes is one transaction: a failed one left no episode, so the new row goes alone
        if (registered)
          await catalog.database.query('DELETE FROM datasets WHERE name = $1', [name]).catch(() => {});
        throw err;
      }
    } finally {
      await catalog.close();
    }
  } finally {
    unlock();
  }
}
