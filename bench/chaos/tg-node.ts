/**
 * The `tg` entry point the chaos benchmark starts its hub and field processes with: the same `hub start` and
 * `field start` commands main.ts registers (src/cli/commands/{hub,field}.ts), without loading every other
 * command, so that a restart after `kill -9` takes about a second instead of several.
 */
import { Command } from 'commander';
import { intArg } from '../../src/cli/args.ts';
import { registerFieldCommand } from '../../src/cli/commands/field.ts';
import { registerHubCommand } from '../../src/cli/commands/hub.ts';

const program = new Command('tg')
  .option('--json')
  .option('--debug')
  .option('--config <file>')
  .option('--home <dir>')
  .option('--port <port>', 'port', intArg(0, 65535));
registerHubCommand(program);
registerFieldCommand(program);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
