import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './fixtures.ts';

const CHILD = path.join(import.meta.dirname, 'cli.child.ts');

function tg(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TG_')) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { env, stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  return { child, out: () => out, err: () => err };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => c.once('exit', (code) => r(code)));

describe('tg hub start / tg field start', () => {
  it('a field drills a hub job and delivers it; both stop on SIGINT with --json summaries', async () => {
    const hub = tg(['--json', '--home', tempDir(), '--port', '0', 'hub', 'start']);
    const field = { run: null as ReturnType<typeof tg> | null };
    try {
      await until('the hub to start', () => hub.out().includes('"url"'));
      const { url } = JSON.parse(hub.out()) as { url: string };
      field.run = tg(['--json', '--home', tempDir(), 'field', 'start', '--hub', url, '--name', 'cli-field']);
      await until('the field to register', async () => {
        const body = (await (await fetch(`${url}/api/fields`)).json()) as { fields: unknown[] };
        return body.fields.length === 1;
      });
      const job = await fetch(`${url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ field: 'cli-field', episodes: 1, maxSimSec: 1 }),
      });
      assert.equal(job.status, 201);
      await until('the episode at the hub', async () => {
        const body = (await (await fetch(`${url}/api/episodes`)).json()) as { total: number };
        return body.total === 1;
      });
      const fieldDone = exited(field.run.child);
      field.run.child.kill('SIGINT');
      assert.equal(await fieldDone, 0, field.run.err());
      const stats = JSON.parse(field.run.out()) as {
        recorded: number;
        delivered: number;
        spoolEntries: number;
      };
      assert.deepEqual([stats.recorded, stats.delivered, stats.spoolEntries], [1, 1, 0]);
    } finally {
      field.run?.child.kill('SIGKILL');
      const hubDone = exited(hub.child);
      hub.child.kill('SIGINT');
      assert.equal(await hubDone, 0, hub.err());
    }
  });
});
