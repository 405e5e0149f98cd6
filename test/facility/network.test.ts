import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { JobBoard } from '../../src/hub/ingest/index.ts';
import { runTg, tempDir } from '../cli/run-cli.ts';

const TG = path.resolve(import.meta.dirname, '../../bin/tg.js');

interface Summary {
  episodes: number;
  planned: number;
  interrupted: boolean;
  fields: Array<{ name: string; robots: string[]; planned: number; stored: number; spooled: number }>;
}

async function withCatalog<T>(home: string, fn: (c: Catalog) => Promise<T>): Promise<T> {
  const catalog = await Catalog.open({ dataDir: path.join(home, 'catalog') });
  try {
    return await fn(catalog);
  } finally {
    await catalog.close();
  }
}

describe('tg up --fields N', () => {
  // Both tests use one home: the second is the next run after the interrupted first one.
  const home = tempDir();

  it('Ctrl-C cancels the open jobs and shuts down cleanly; the catalog holds what the summary says', async () => {
    const child = spawn(process.execPath, [TG, 'up', '--fields', '2', '--episodes', '400', '--port', '0'], {
      env: { ...process.env, TG_HOME: home },
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
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /console at (http:\/\/\S+),/.exec(stderr);
        if (m?.[1]) {
          clearInterval(timer);
          resolve(m[1]);
        }
      }, 50);
      void exited.then(() => {
        clearInterval(timer);
        reject(new Error(`tg up exited early:\n${stderr}`));
      });
    });
    for (;;) {
      const body = (await (await fetch(`${url}/api/episodes?limit=1`)).json()) as { total: number };
      if (body.total >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const m = /^interrupted after (\d+) of 400 episode\(s\) from 2 field\(s\)/m.exec(stdout);
    assert.ok(m, stdout);
    const stored = Number(m[1]);
    assert.ok(stored >= 4 && stored < 400, `${stored} episodes`);
    assert.match(stdout, /^ {2}field-1: 1 robot\(s\), \d+\/200 stored/m);
    assert.match(stdout, /^ {2}field-2: 1 robot\(s\), \d+\/200 stored/m);
    await withCatalog(home, async (catalog) => {
      assert.equal(await catalog.countEpisodes(), stored, 'the catalog holds what the summary says');
      const jobs = await new JobBoard(catalog).list();
      assert.deepEqual(
        jobs.map((j) => j.state),
        ['cancelled', 'cancelled'],
        'the next tg up does not inherit them',
      );
    });
    assert.ok(!existsSync(path.join(home, 'tg.lock')), 'the home lock is released');
    assert.deepEqual(readdirSync(path.join(home, 'fields')).sort(), ['field-1', 'field-2']);
  });

  it('the next tg up in the same home runs the hub and N fields, each with its own robots and spool, the drill split across them', async () => {
    const run = await runTg(
      [
        'up',
        '--fields',
        '2',
        '--robots',
        '2',
        '--episodes',
        '5',
        '--seed',
        '1000',
        '--exit',
        '--json',
        '--port',
        '0',
      ],
      { env: { TG_HOME: home } },
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as Summary;
    assert.equal(summary.interrupted, false);
    assert.equal(summary.episodes, 5);
    assert.deepEqual(
      summary.fields.map((f) => [f.name, f.planned, f.stored, f.spooled, f.robots.length]),
      [
        ['field-1', 3, 3, 0, 2],
        ['field-2', 2, 2, 0, 2],
      ],
    );
    for (const f of ['field-1', 'field-2']) {
      assert.ok(existsSync(path.join(home, 'fields', f, 'spool')), `${f} has its own spool`);
    }
    await withCatalog(home, async (catalog) => {
      const rows = (await catalog.selectEpisodes()).filter((r) => r.seed >= 1000);
      const seeds = (field: string) =>
        rows
          .filter((r) => r.field === field)
          .map((r) => r.seed)
          .sort((a, b) => a - b);
      assert.deepEqual(seeds('field-1'), [1000, 1001, 1002]);
      assert.deepEqual(seeds('field-2'), [1003, 1004]);
      assert.deepEqual([...new Set(rows.map((r) => r.robotId))].sort(), [
        'field-1-arm7-0',
        'field-1-arm7-1',
        'field-2-arm7-0',
        'field-2-arm7-1',
      ]);
      const jobs = await new JobBoard(catalog).list();
      assert.deepEqual(
        jobs.map((j) => [j.field, j.state]),
        [
          ['field-1', 'cancelled'],
          ['field-2', 'cancelled'],
          ['field-1', 'done'],
          ['field-2', 'done'],
        ],
        'the interrupted run left its jobs cancelled',
      );
    });
    assert.ok(!existsSync(path.join(home, 'tg.lock')), 'the home lock is released');
  });
});
