import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_CHUNK_SIZE, DEFAULT_DATA_FILE_SIZE_IN_MB } from '../../data/lerobot/format.ts';
import { type EpisodeQuery, exportLeRobot } from '../../data/lerobot/surgery.ts';
import { exportDatasetToMcap, exportEpisodeToMcap } from '../../data/mcap/index.ts';
import { TgError } from '../../errors/index.ts';
import { intArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';
import { parseEpisodeList, runSurgery } from './dataset.ts';

interface McapFlags {
  episode?: number;
  out: string;
  rootFrame?: string;
  depthSize: string[];
}

/** "head=640x480" -> ['head', {width: 640, height: 480}]. */
function parseDepthSize(text: string): [string, { width: number; height: number }] {
  const m = /^([^=]+)=(\d+)x(\d+)$/.exec(text);
  if (!m) throw new TgError('USAGE', `--depth-size expects camera=WIDTHxHEIGHT, got "${text}"`);
  return [m[1] as string, { width: Number(m[2]), height: Number(m[3]) }];
}

interface LeRobotFlags {
  out: string;
  episodes?: number[];
  exclude?: number[];
  task: string[];
  where: string[];
  chunksSize?: number;
  dataFileSizeMb?: number;
  tgMeta: boolean;
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** "success=true" -> ['success', 'true']. */
function parseWhere(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected label=value (e.g. success=true), got "${text}"`);
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

function positiveMb(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0)
    throw new InvalidArgumentError(`expected a size in MB above 0, got "${text}"`);
  return v;
}

export function registerExportCommand(program: Command): void {
  const exp = program.command('export').description('export datasets to other formats');
  exp
    .command('lerobot <dataset>')
    .description(
      'write a fresh LeRobot v3.0 dataset from a dataset directory: all episodes or a selection, ' +
        're-indexed from 0, re-chunked, tasks and stats made consistent; nothing appears at --out unless it completes',
    )
    .requiredOption('--out <dir>', 'new dataset directory (must not exist)')
    .option('--episodes <list>', 'keep only these episode indices, e.g. 0,2,5-9', parseEpisodeList)
    .option('--exclude <list>', 'leave these episode indices out, e.g. 3,4', parseEpisodeList)
    .option('--task <text>', 'keep episodes with this LeRobot task (repeatable: any of them)', collect, [])
    .option(
      '--where <label=value>',
      'keep episodes whose Training Ground label matches, e.g. success=true, phase=drill (repeatable: all of them)',
      (v: string, acc: string[]) => [...acc, `${parseWhere(v).join('=')}`],
      [] as string[],
    )
    .option(
      '--chunks-size <n>',
      `data files per chunk directory (default ${DEFAULT_CHUNK_SIZE}, as LeRobot)`,
      intArg(1),
    )
    .option(
      '--data-file-size-mb <mb>',
      `data file size limit (default ${DEFAULT_DATA_FILE_SIZE_IN_MB}, as LeRobot)`,
      positiveMb,
    )
    .option(
      '--no-tg-meta',
      'leave out meta/tg_episodes.jsonl (operators, seeds, labels): only what LeRobot defines',
    )
    .action(async (dataset: string, flags: LeRobotFlags, cmd: Command) => {
      const ctx = commandContext(cmd);
      const query: EpisodeQuery = {
        ...(flags.episodes ? { episodes: flags.episodes } : {}),
        ...(flags.exclude ? { exclude: flags.exclude } : {}),
        ...(flags.task.length > 0 ? { tasks: flags.task } : {}),
        ...(flags.where.length > 0 ? { where: Object.fromEntries(flags.where.map(parseWhere)) } : {}),
      };
      const chunksSize = flags.chunksSize ?? DEFAULT_CHUNK_SIZE;
      const dataFilesSizeInMb = flags.dataFileSizeMb ?? DEFAULT_DATA_FILE_SIZE_IN_MB;
      const r = await runSurgery(ctx, 'export', (o) =>
        exportLeRobot(dataset, flags.out, query, {
          ...o,
          chunksSize,
          dataFilesSizeInMb,
          tgMetadata: flags.tgMeta,
        }),
      );
      const data = { ...r, source: dataset, chunksSize, dataFilesSizeInMb, tgMetadata: flags.tgMeta };
      printResult(ctx, data, () =>
        [
          `exported ${r.episodes} episode(s), ${r.frames} frames, ${r.tasks} task(s) from ${dataset} to ${r.dir} ` +
            `(${r.dataFiles} data file(s), ${chunksSize} per chunk, ${dataFilesSizeInMb} MB each at most)`,
          formatTable(
            ['new episode', 'from episode'],
            (r.sourceEpisodes ?? []).slice(0, 20).map((src, i) => [i, src]),
          ),
          ...((r.sourceEpisodes?.length ?? 0) > 20
            ? [`... ${(r.sourceEpisodes?.length ?? 0) - 20} more`]
            : []),
        ].join('\n'),
      );
    });

  exp
    .command('mcap <dataset>')
    .description('write a LeRobot v3 episode (or all episodes) as an indexed MCAP file for Foxglove')
    .option('--episode <n>', 'episode index (default: every episode, end to end)', intArg(0))
    .requiredOption('--out <file>', 'output .mcap file')
    .option('--root-frame <frame>', 'root frame of /tf', 'base_link')
    .option(
      '--depth-size <camera=WxH>',
      'image size of observation.depth.<camera> (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(async (dataset: string, flags: McapFlags, cmd: Command) => {
      const ctx = commandContext(cmd);
      const opts = {
        rootFrame: flags.rootFrame ?? 'base_link',
        depthImageSize: Object.fromEntries(flags.depthSize.map(parseDepthSize)),
      };
      const res =
        flags.episode === undefined
          ? await exportDatasetToMcap(dataset, flags.out, opts)
          : await exportEpisodeToMcap(dataset, flags.episode, flags.out, opts);
      const data = { ...res, startTimeNs: String(res.startTimeNs), endTimeNs: String(res.endTimeNs) };
      printResult(ctx, data, () =>
        [
          `wrote ${res.file}: ${res.episodes.length} episode(s), ${res.messageCount} messages, ` +
            `chunks ${res.compression || 'uncompressed'}`,
          formatTable(
            ['topic', 'messages'],
            Object.entries(res.topics).map(([t, n]) => [t, n]),
          ),
        ].join('\n'),
      );
    });
}
