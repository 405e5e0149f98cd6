import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { runTg, tempDir } from '../cli/run-cli.ts';

const TG = path.resolve(import.meta.dirname, '../../bin/tg.js');

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('tg up', () => {
  it('drills 3 episodes into a LeRobot v3 dataset that DuckDB reads, registered in the catalog', async () => {
    const home = tempDir();
    const run = await runTg(['up', '--episodes', '3', '--exit', '--json', '--port', '0'], {
      env: { TG_HOME: home },
    });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.episodes, 3);
    assert.ok(summary.successRate >= 0 && summary.successRate <= 1);
    assert.ok(summary.durationSec > 0);
    const dir: string = summary.datasetPath;
    assert.ok(dir.startsWith(path.join(home, 'datasets')));

    const info = JSON.parse(readFileSync(path.join(dir, 'meta/info.json'), 'utf8'));
    assert.equal(info.codebase_version, 'v3.0');
    assert.equal(info.total_episodes, 3);
    assert.equal(info.fps, 30);
    assert.deepEqual(info.features['observation.state'].shape, [8]);

    const data = path.join(dir, 'data/*/*.parquet');
    const [counts] = await query(
      `SELECT count(*) AS n, count(DISTINCT episode_index) AS eps, min("index") AS lo, max("index") AS hi,
              max(abs(timestamp - frame_index / 30.0)) AS ts_err, max(len("observation.state")) AS dim
       FROM read_parquet('${data}')`,
    );
    assert.equal(Number(counts?.n), info.total_frames);
    assert.equal(Number(counts?.eps), 3);
    assert.equal(Number(counts?.lo), 0);
    assert.equal(Number(counts?.hi), info.total_frames - 1, 'global index is contiguous');
    assert.ok(Number(counts?.ts_err) < 1e-4, 'timestamp = frame_index / fps');
    assert.equal(Number(counts?.dim), 8);

    const episodes = await query(
      `SELECT episode_index, length, dataset_from_index, dataset_to_index
       FROM read_parquet('${path.join(dir, 'meta/episodes/*/*.parquet')}') ORDER BY episode_index`,
    );
    assert.equal(episodes.length, 3);
    assert.equal(Number(episodes[0]?.dataset_from_index), 0);
    assert.equal(Number(episodes[2]?.dataset_to_index), info.total_frames);
    const [success] = await query(
      `SELECT max(abs(s[8])) AS max_grip FROM (SELECT "observation.state" AS s FROM read_parquet('${data}'))`,
    );
    assert.ok(Number(success?.max_grip) > 0.01, 'the gripper opened during the drill');

    const catalog = await Catalog.open({ dataDir: path.join(home, 'catalog') });
    try {
      const rows = await catalog.listEpisodes({ limit: 10, offset: 0 });
      assert.equal(rows.length, 3);
      const tgEpisodes = readFileSync(path.join(dir, 'meta/tg_episodes.jsonl'), 'utf8').trim().split('\n');
      const ids = new Set(tgEpisodes.map((l) => JSON.parse(l).id));
      for (const row of rows) assert.ok(ids.has(row.id), 'catalog ids are the dataset episode ids');
      assert.equal((await catalog.listRobots()).length, 1);
    } finally {
      await catalog.close();
    }
    assert.deepEqual(readdirSync(home).sort(), ['catalog', 'datasets'], 'lock released, no stray files');
  });

  it('Ctrl-C mid-drill leaves a consistent dataset and catalog', async () => {
    const home = tempDir();
    const child = spawn(process.execPath, [TG, 'up', '--episodes', '500', '--port', '0'], {
      env: { ...process.env, TG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /console at (http:\/\/\S+)/.exec(stderr);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`tg up exited early:\n${stderr}`)));
    });
    // Wait until a few episodes are done, as seen through the live status API.
    for (;;) {
      const status = (await (await fetch(`${url}/api/status`)).json()) as { episodesDone: number };
      if (status.episodesDone >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /interrupted after \d+ episode/);

    const datasets = readdirSync(path.join(home, 'datasets'));
    assert.equal(datasets.length, 1, `only the finished dataset, no temp dirs: ${datasets}`);
    const info = JSON.parse(
      readFileSync(path.join(home, 'datasets', datasets[0]!, 'meta/info.json'), 'utf8'),
    );
    assert.ok(info.total_episodes >= 3 && info.total_episodes < 500);
    const [rows] = await query(
      `SELECT count(*) AS n FROM read_parquet('${path.join(home, 'datasets', datasets[0]!, 'data/*/*.parquet')}')`,
    );
    assert.equal(Number(rows?.n), info.total_frames);
    const catalog = await Catalog.open({ dataDir: path.join(home, 'catalog') });
    try {
      assert.equal(await catalog.countEpisodes(), info.total_episodes, 'catalog lists exactly the dataset');
    } finally {
      await catalog.close();
    }
  });
});
