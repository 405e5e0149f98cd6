import path from 'node:path';
import type { Command } from 'commander';
import { lockHome } from '../../facility/home-lock.ts';
import { FieldAgent, type FieldEvent } from '../../field/agent.ts';
import { intArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { printResult } from '../output.ts';
import { natsLayoutFor, natsPrefixArg } from './hub.ts';

interface FieldStartFlags {
  hub: string;
  name: string;
  robots: number;
  nats?: string;
  natsPrefix?: string;
  maxSpoolMb?: number;
}

/** `tg field start`: a training field at the edge (thin shell over src/field/agent.ts). */
export function registerFieldCommand(program: Command): void {
  const field = program.command('field').description('a training field at the edge of a 1+N network');
  field
    .command('start')
    .description('register with the hub, take drill jobs, record into the spool, upload in order')
    .requiredOption('--hub <url>', 'hub base URL, e.g. http://hub:7800')
    .requiredOption('--name <field>', 'field name (letters, digits, . _ -)')
    .option('--robots <n>', 'simulated robots, one thread each', intArg(1, 1000), 1)
    .option('--nats <url>', 'send bundles and take jobs through NATS JetStream (env TG_NATS_URL)')
    .option('--nats-prefix <prefix>', "the hub's NATS subject root and stream prefix", natsPrefixArg)
    .option('--max-spool-mb <n>', 'drilling pauses while the spool holds this much', intArg(1))
    .action(async (flags: FieldStartFlags, cmd: Command) => {
      const ctx = commandContext(cmd, flags.nats ? { natsUrl: flags.nats } : {});
      const log = (line: string) => {
        if (!ctx.json) process.stderr.write(`${line}\n`);
      };
      const spoolDir = path.join(ctx.config.home, 'spool');
      const unlock = lockHome(spoolDir);
      try {
        const agent = await FieldAgent.start({
          hubUrl: flags.hub,
          name: flags.name,
          home: ctx.config.home,
          robots: flags.robots,
          natsUrl: ctx.config.natsUrl,
          nats: natsLayoutFor(flags.natsPrefix),
          ...(flags.maxSpoolMb ? { maxSpoolBytes: flags.maxSpoolMb * 1024 * 1024 } : {}),
          onEvent: (e) => log(describe(e)),
        });
        log(
          `field ${flags.name}: ${flags.robots} robot(s), spool ${spoolDir} (${agent.stats.spoolEntries} waiting), ` +
            `hub ${flags.hub}${ctx.config.natsUrl ? ` via NATS ${ctx.config.natsUrl}` : ''}; Ctrl-C to stop`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        log('stopping field (spooled episodes stay for the next start)');
        await agent.stop();
        const stats = agent.stats;
        printResult(
          ctx,
          stats,
          () =>
            `recorded ${stats.recorded}, delivered ${stats.delivered} (${stats.duplicates} already at the hub), ` +
            `${stats.spoolEntries} still spooled`,
        );
      } finally {
        unlock();
      }
    });
}

function describe(e: FieldEvent): string {
  switch (e.type) {
    case 'registered':
      return `registered robots ${e.robots.join(', ')}`;
    case 'job-started':
      return `job ${e.job.id}: ${e.job.episodes} episode(s) from seed ${e.job.seed}`;
    case 'job-done':
      return `job ${e.job.id} done: ${e.episodes} episode(s) spooled`;
    case 'job-failed':
      return `job ${e.job.id} failed: ${e.message}`;
    case 'job-resumed':
      return `job ${e.job.id} resumed: ${e.recorded} of ${e.job.episodes} episode(s) spooled before`;
    case 'job-lost':
      return `job ${e.job.id} is no longer this field's (cancelled, or taken again): stopped drilling it`;
    // Full episode ids: the log is a record of what this field recorded and delivered.
    case 'spooled':
      return `spooled ${e.entry.id} (#${e.entry.seq})`;
    case 'delivered':
      return `delivered ${e.entry.id} (#${e.entry.seq}, ${e.result})`;
    case 'rejected':
      return `hub rejected ${e.entry.id.slice(0, 12)}: ${e.reason} (moved to spool/rejected)`;
    case 'retry':
      return `upload of #${e.entry.seq} failed (${e.reason}); retrying in ${e.delayMs} ms`;
  }
}
