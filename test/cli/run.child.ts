/**
 * `tg run ...` as main.ts will run it once the lead registers the command: the global flags, then a
 * TgError as one line on stderr with its exit status (as src/cli/main.ts prints it). Tests import
 * `tgRun`, which runs this file as a child process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerRunCommand } from '../../src/cli/commands/run.ts';
import { isTgError } from '../../src/errors/index.ts';

const SELF = fileURLToPath(import.meta.url);

/** Runs `tg run <args>` in a child process. */
export function tgRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'run', ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

if (process.argv[1] === SELF) {
  const program = new Command('tg')
    .option('--json')
    .option('--debug')
    .option('--config <file>')
    .option('--home <dir>');
  program.exitOverride();
  registerRunCommand(program);
  try {
    await program.parseAsync(process.argv.slice(2), { from: 'user' });
  } catch (err) {
    if (!isTgError(err)) throw err;
    process.stderr.write(`tg: ${err.message} [${err.code}]\n`);
    process.exitCode = err.exitCode;
  }
}
