/** Runs `tg hub ...` / `tg field ...` the way main.ts will once the lead registers them. */
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
