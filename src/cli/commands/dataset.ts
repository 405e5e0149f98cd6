import { type Command, InvalidArgumentError } from 'commander';
import {
  deleteEpisodes,
  filterEpisodes,
  mergeDatasets,
  type SurgeryOptions,
  type SurgeryResult,
  splitDataset,
} from '../../data/lerobot/surgery.ts';
import { TgError } from '../../errors/index.ts';
import { numberArg } from '../args.ts';
import { type CommandContext, commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';
import { createProgress } from '../progress.ts';

/** "0,2,5" or "0-3,7" -> [0, 2, 5] / [0, 1, 2, 3, 7]. */
export function parseEpisodeList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidArgumentError(`expected episode indices like 0,2,5 or 0-3, got "${text}"`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new InvalidArgumentError(`range ${part.trim()} runs backwards`);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

/**
 * Runs a surgery with a progress bar (TTY, not --json) and Ctrl-C wired to its abort signal: an
 * interrupted run stops before the next episode and removes everything it wrote.
 */
export async function runSurgery<T>(
  ctx: CommandContext,
  label: string,
  op: (opts: Pick<SurgeryOptions, 'onProgress' | 'signal'>) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  let bar: ReturnType<typeof createProgress> | undefined;
  try {
    return await op({
      signal: abort.signal,
      onProgress: (done, total) => {
        bar ??= createProgress({ total, label, json: ctx.json });
        bar.update(done, { detail: 'episodes' });
      },
    });
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
}

function table(results: SurgeryResult[]): string {
  return formatTable(
    ['dataset', 'episodes', 'frames', 'tasks'],
    results.map((r) => [r.dir, r.episodes, r.frames, r.tasks]),
  );
}

/** `tg dataset merge|filter|split`: thin shells over src/data/lerobot/surgery.ts. */
export function registerDatasetCommand(program: Command): void {
  const dataset = program
    .command('dataset')
    .description(
      'LeRobot v3.0 dataset surgery; every command writes a new dataset and never touches its inputs',
    );

  dataset
    .command('merge')
    .description('merge datasets with the same fps and features into a new one (episodes in input order)')
    .argument('<out>', 'new dataset directory (must not exist)')
    .argument('<in...>', 'input dataset directories')
    .action(async (out: string, inputs: string[], _opts, cmd: Command) => {
      const ctx = commandContext(cmd);
      const r = await runSurgery(ctx, 'merge', (opts) => mergeDatasets(inputs, out, opts));
      printResult(ctx, r, () => table([r]));
    });

  dataset
    .command('filter')
    .description('write a new dataset with only some episodes (--episodes keeps, --exclude drops)')
    .argument('<in>', 'input dataset directory')
    .argument('<out>', 'new dataset directory (must not exist)')
    .option('--episodes <list>', 'episode indices to keep, e.g. 0,2,5 or 0-9', parseEpisodeList)
    .option('--exclude <list>', 'episode indices to drop, e.g. 3,4', parseEpisodeList)
    .action(
      async (input: string, out: string, opts: { episodes?: number[]; exclude?: number[] }, cmd: Command) => {
        const ctx = commandContext(cmd);
        if ((opts.episodes === undefined) === (opts.exclude === undefined))
          throw new TgError('USAGE', 'dataset filter: give exactly one of --episodes or --exclude');
        const { episodes, exclude } = opts;
        const r = await runSurgery(ctx, 'filter', (o) =>
          episodes ? filterEpisodes(input, out, episodes, o) : deleteEpisodes(input, out, exclude ?? [], o),
        );
        printResult(ctx, r, () => table([r]));
      },
    );

  dataset
    .command('split')
    .description(
      'split a dataset into <outDir>/train and <outDir>/val by fractions of its episodes (in order)',
    )
    .argument('<in>', 'input dataset directory')
    .argument('<outDir>', 'new directory for the parts (must not exist)')
    .option('--train <fraction>', 'fraction of episodes for train', numberArg(0, 1), 0.8)
    .option('--val <fraction>', 'fraction of episodes for val', numberArg(0, 1), 0.2)
    .option('--test <fraction>', 'fraction of episodes for test', numberArg(0, 1))
    .action(
      async (
        input: string,
        outDir: string,
        opts: { train: number; val: number; test?: number },
        cmd: Command,
      ) => {
        const ctx = commandContext(cmd);
        const spec: Record<string, number> = {};
        for (const [name, f] of [
          ['train', opts.train],
          ['val', opts.val],
          ['test', opts.test],
        ] as const) {
          if (f !== undefined && f > 0) spec[name] = f;
        }
        const results = await runSurgery(ctx, 'split', (o) => splitDataset(input, spec, outDir, o));
        printResult(ctx, results, () => table(results));
      },
    );
}
