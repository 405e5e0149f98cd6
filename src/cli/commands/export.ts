import type { Command } from 'commander';
import { exportDatasetToMcap, exportEpisodeToMcap } from '../../data/mcap/index.ts';
import { TgError } from '../../errors/index.ts';
import { intArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';

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

export function registerExportCommand(program: Command): void {
  const exp = program.command('export').description('export datasets to other formats');
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
