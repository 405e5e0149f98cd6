import { Command, CommanderError } from 'commander';
import { isTgError } from '../errors/index.ts';
import { intArg } from './args.ts';
import { registerBenchCommand } from './commands/bench.ts';
import { registerConfigCommand } from './commands/config.ts';
import { registerDatasetCommand } from './commands/dataset.ts';
import { registerDatasetsCommand } from './commands/datasets.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerFieldCommand } from './commands/field.ts';
import { registerHubCommand } from './commands/hub.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerRobotsCommand } from './commands/robots.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerSimCommand } from './commands/sim.ts';
import { registerUpCommand } from './commands/up.ts';
import { registerValidateCommand } from './commands/validate.ts';

function buildProgram(): Command {
  const program = new Command('tg')
    .description('Training Ground: drill robots, record episodes, serve the data')
    .option('--json', 'machine-readable JSON output')
    .option('--debug', 'show stack traces on errors')
    .option('--config <file>', 'config file (default ./tg.config.json if present)')
    .option('--home <dir>', 'data directory (env TG_HOME, default ./.tg)')
    .option('--port <port>', 'hub HTTP port (env TG_PORT, default 7800)', intArg(0, 65535))
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) =>
        write(
          `tg: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    });
  registerUpCommand(program);
  registerHubCommand(program);
  registerFieldCommand(program);
  registerRobotsCommand(program);
  registerRunCommand(program);
  registerSimCommand(program);
  registerValidateCommand(program);
  registerDatasetCommand(program);
  registerDatasetsCommand(program);
  registerExportCommand(program);
  registerImportCommand(program);
  registerConfigCommand(program);
  registerBenchCommand(program);
  for (const cmd of program.commands) cmd.exitOverride().showSuggestionAfterError();
  return program;
}

/** Runs the CLI and returns the exit status. User errors print one line; --debug adds the stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help text).
      return err.exitCode === 0 ? 0 : 2;
    }
    const debug = argv.includes('--debug');
    if (isTgError(err)) {
      process.stderr.write(`tg: ${err.message} [${err.code}]\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    process.stderr.write(`tg: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    if (debug) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    else process.stderr.write('tg: run again with --debug for the stack trace\n');
    return 1;
  }
}
