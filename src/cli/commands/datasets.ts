import path from 'node:path';
import type { Command } from 'commander';
import { TgError } from '../../errors/index.ts';
import { lockHome } from '../../facility/home-lock.ts';
import { Catalog, type EpisodeFilterInput } from '../../hub/catalog/index.ts';
import { Datasets, DEFAULT_VAL_FRACTION } from '../../hub/datasets/index.ts';
import { intArg, numberArg } from '../args.ts';
import { type CommandContext, commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';

interface CreateFlags {
  robot?: string[];
  vendor?: string[];
  task?: string[];
  phase?: string[];
  field?: string[];
  success?: boolean;
  failed?: boolean;
  from?: string;
  to?: string;
}

/**
 * `tg datasets list|create|freeze|export`: thin shells over src/hub/datasets. They open the hub's catalog
 * directly: TG_DATABASE_URL when set, else the embedded one under TG_HOME (which a running `tg up` holds;
 * stop it first or use the hub's /api/datasets).
 */
export function registerDatasetsCommand(program: Command): void {
  const datasets = program
    .command('datasets')
    .description(
      'datasets: saved queries over the catalog, frozen into immutable versions, exported as LeRobot v3',
    );

  datasets
    .command('list')
    .description('list datasets with their queries and number of versions')
    .action(async (_opts, cmd: Command) => {
      const ctx = commandContext(cmd);
      const rows = await withDatasets(ctx, (d) => d.list());
      printResult(ctx, { datasets: rows }, () =>
        rows.length === 0
          ? 'no datasets (create one with tg datasets create <name>)'
          : formatTable(
              ['name', 'versions', 'query', 'created'],
              rows.map((r) => [r.name, r.versions, JSON.stringify(r.query), r.createdAt]),
            ),
      );
    });

  datasets
    .command('create')
    .description(
      'save a dataset: the episodes matching every given filter (repeat a flag for any of several)',
    )
    .argument('<name>', 'dataset name: a-z, 0-9, ".", "_", "-"; up to 63 characters')
    .option('--robot <id...>', 'robot id(s)')
    .option('--vendor <name...>', 'robot vendor(s)')
    .option('--task <task...>', 'task id(s)')
    .option('--phase <phase...>', 'curriculum phase(s): orientation, drill, autonomy')
    .option('--field <id...>', 'training field id(s)')
    .option('--success', 'only successful episodes')
    .option('--failed', 'only failed episodes')
    .option('--from <iso>', 'recorded at or after this ISO 8601 instant')
    .option('--to <iso>', 'recorded before this ISO 8601 instant')
    .action(async (name: string, opts: CreateFlags, cmd: Command) => {
      const ctx = commandContext(cmd);
      if (opts.success && opts.failed)
        throw new TgError('USAGE', 'datasets create: give --success or --failed, not both');
      const query: Record<string, unknown> = {};
      for (const key of ['robot', 'vendor', 'task', 'phase', 'field'] as const) {
        if (opts[key]) query[key] = opts[key];
      }
      if (opts.success) query.success = true;
      if (opts.failed) query.success = false;
      if (opts.from) query.recordedFrom = opts.from;
      if (opts.to) query.recordedTo = opts.to;
      const row = await withDatasets(ctx, (d) => d.create(name, query as EpisodeFilterInput));
      printResult(ctx, { dataset: row }, () => `created dataset ${row.name}: ${JSON.stringify(row.query)}`);
    });

  datasets
    .command('freeze')
    .description('record the episodes the dataset matches now as its next immutable version')
    .argument('<name>', 'dataset name')
    .option('--val-fraction <f>', 'share of episodes in the val split', numberArg(0, 1), DEFAULT_VAL_FRACTION)
    .action(async (name: string, opts: { valFraction: number }, cmd: Command) => {
      const ctx = commandContext(cmd);
      const { manifest, ...version } = await withDatasets(ctx, (d) =>
        d.freeze(name, { valFraction: opts.valFraction }),
      );
      printResult(ctx, { version }, () =>
        [
          `froze ${version.name} v${version.version}: ${version.episodeCount} episodes, ${version.frameCount} frames`,
          `  train ${manifest.counts.train.episodes} / val ${manifest.counts.val.episodes} episodes; ` +
            `${manifest.counts.successes} successful; from ${manifest.sources.map((s) => s.dataset).join(', ')}`,
          `  manifest sha256 ${version.manifestSha256}`,
        ].join('\n'),
      );
    });

  datasets
    .command('export')
    .description('write a frozen version as a LeRobot v3.0 dataset (train episodes first, then val)')
    .argument('<name>', 'dataset name')
    .option('--version <n>', 'version to export (default: the newest)', intArg(1))
    .requiredOption('--out <dir>', 'new dataset directory (must not exist)')
    .action(async (name: string, opts: { version?: number; out: string }, cmd: Command) => {
      const ctx = commandContext(cmd);
      const r = await withDatasets(ctx, (d) => d.export(name, opts.version, opts.out));
      printResult(
        ctx,
        r,
        () =>
          `exported ${r.name} v${r.version} to ${r.dir}: ${r.episodes} episodes, ${r.frames} frames, splits ${JSON.stringify(r.splits)}`,
      );
    });
}

async function withDatasets<T>(ctx: CommandContext, fn: (d: Datasets) => Promise<T>): Promise<T> {
  const { home, databaseUrl } = ctx.config;
  const unlock = databaseUrl ? () => {} : lockHome(home);
  try {
    const catalog = await Catalog.open(
      databaseUrl ? { databaseUrl } : { dataDir: path.join(home, 'catalog') },
    );
    try {
      return await fn(new Datasets(catalog));
    } finally {
      await catalog.close();
    }
  } finally {
    unlock();
  }
}
