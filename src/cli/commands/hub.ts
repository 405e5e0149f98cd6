import type { Command } from 'commander';
import { lockHome } from '../../facility/home-lock.ts';
import { ensureConsoleBuilt } from '../../hub/console-build.ts';
import { startNetworkHub } from '../../hub/ingest/network-hub.ts';
import { commandContext } from '../context.ts';
import { printResult } from '../output.ts';

interface HubStartFlags {
  nats?: string;
  console?: boolean;
}

/** `tg hub start`: the hub of a 1+N network (catalog, API, field ingest; NATS JetStream with --nats). */
export function registerHubCommand(program: Command): void {
  const hub = program.command('hub').description('the central hub of a 1+N training network');
  hub
    .command('start')
    .description('serve the hub: catalog, API, field registration, drill jobs and episode ingest')
    .option('--nats <url>', 'NATS server for bundles and jobs (env TG_NATS_URL)')
    .option('--console', 'also serve the web console (built first if stale)')
    .action(async (flags: HubStartFlags, cmd: Command) => {
      const ctx = commandContext(cmd, flags.nats ? { natsUrl: flags.nats } : {});
      const log = (line: string) => {
        if (!ctx.json) process.stderr.write(`${line}\n`);
      };
      const unlock = lockHome(ctx.config.home);
      try {
        const consoleDir = flags.console ? await ensureConsoleBuilt() : undefined;
        const running = await startNetworkHub({
          home: ctx.config.home,
          host: ctx.config.host,
          port: ctx.config.port,
          natsUrl: ctx.config.natsUrl,
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
        unlock();
      }
    });
}
