import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TG = path.resolve(import.meta.dirname, '../../bin/tg.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `tg` executable the way a user would, with a clean TG_* environment. */
export function runTg(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TG_')) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TG, ...args], {
      cwd: opts.cwd ?? tempDir(),
      env: { ...env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

export function tempDir(prefix = 'tg-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
