import type { Command } from 'commander';
import { commandContext } from '../context.ts';
import { printResult } from '../output.ts';

export function registerConfigCommand(program: Command): void {
  program
    .command('config')
    .description('print the effective configuration (defaults < tg.config.json < TG_* env < flags)')
    .action((_opts, cmd: Command) => {
      const ctx = commandContext(cmd);
      printResult(ctx, { config: ctx.config, sources: ctx.loaded.sources }, () =>
        [
          `# sources: ${ctx.loaded.sources.join(' < ')}`,
          ...flatten(ctx.config).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
        ].join('\n'),
      );
    });
}

function flatten(obj: object, prefix = ''): Array<[string, unknown]> {
  return Object.entries(obj).flatMap(
    ([k, v]): Array<[string, unknown]> =>
      v !== null && typeof v === 'object' ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}
