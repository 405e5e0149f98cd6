import { type Command, InvalidArgumentError } from 'commander';
import { lockHome } from '../../facility/home-lock.ts';
import type { NatsLayout } from '../../field/transport/nats-layout.ts';
import { Catalog } from '../../hub/catalog/index.ts';
import { ensureConsoleBuilt } from '../../hub/console-build.ts';
import { startNetworkHub } from '../../hub/ingest/network-hub.ts';
import { commandContext } from '../context.ts';
import { printResult } from '../output.ts';

interface HubStartFlags {
  nats?: string;
  natsPrefix?: string;
  console?: boolean;
}

/**
 * `--nats-prefix P`: subjects under `P.` and streams `P_EPISODES` / `P_JOBS`, so several networks (staging
 * and production, or a benchmark) share one NATS server without seeing each other's bundles and jobs.
 */
export function natsPrefixArg(text: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(text)) {
    throw new InvalidArgumentError(`expected 1-32 letters, digits, _ or -, got "${text}"`);
  }
  return text;
}

export function natsLayoutFor(prefix: string | undefined): Partial<NatsLayout> {
  return prefix ? { prefix, episodesStream: `${prefix}_EPISODES`, jobsStream: `${prefix}_JOBS` } : {};
}

/** `tg hub start`: the hub of a 1+N network (catalog, API, field ingest; NATS JetStream with --nats). */
export function registerHubCommand(program: Command): void {
  const hub = program.command('hub').description('the central hub of a 1+N training network');
  hub
    .command('start')
    .description('serve the hub: catalog, API, field registration, drill jobs and episode ingest')
    .option('--nats <url>', 'NATS server for bundles and jobs (env TG_NATS_URL)')
    .option(
      '--nats-prefix <prefix>',
      'NATS subject root and stream name prefix (default tg / TG_)',
      natsPrefixArg,
    )
    .option('--console', 'also serve the web console (built first if stale)')
    .action(async (flags: HubStartFlags, cmd: Command) => {
      const ctx = commandContext(cmd, flags.nats ? { natsUrl: flags.nats } : {});
      const log = (line: string) => {
        if (!ctx.json) process.stderr.write(`${line}\n`);
      };
      const { databaseUrl } = ctx.config;
      const unlock = lockHome(ctx.config.home);
      let catalog: Catalog | undefined;
      try {
        const consoleDir = flags.console ? await ensureConsoleBuilt() : undefined;
        // TG_DATABASE_URL: the catalog on a PostgreSQL server; blobs stay under the home.
        if (databaseUrl) catalog = await Catalog.open({ databaseUrl });
        const running = await startNetworkHub({
          home: ctx.config.home,
          host: ctx.config.host,
          port: ctx.config.port,
          natsUrl: ctx.config.natsUrl,
          nats: natsLayoutFor(flags.natsPrefix),
          ownsProcess: true,
          ...(catalog ? { catalog } : {}),
          ...(consoleDir ? { consoleDir } : {}),
        });
        const started = { url: running.url, home: ctx.config.home, nats: ctx.config.natsUrl };
        printResult(ctx, started, () => `hub at ${running.url} (data in ${ctx.config.home})`);
        if (ctx.config.natsUrl) log(`ingesting bundles and queueing jobs through NATS ${ctx.config.natsUrl}`);
        log('Ctrl-C to stop');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        log('stopping hub');
        await running.close();
      } finally {
        await catalog?.close().catch(() => {});
        unlock();
      }
    });
}
