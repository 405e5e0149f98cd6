import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { buildHubApp } from '../../src/hub/server/app.ts';
import { type EpisodeFramesResponse, thin } from '../../src/hub/server/routes/episode-frames.ts';
import { FPS, specs, writeRecordedDataset } from './recorded-datasets.ts';

let catalog: Catalog;
let app: FastifyInstance;
let ids: string[];

before(async () => {
  catalog = await Catalog.open({ dataDir: 'memory://' });
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'tg-frames-')), 'ds');
  // Episode lengths 5, 6 and 7 + 1200 frames: short ones come back whole, the long one thinned.
  const s = specs(3);
  s[2] = { ...(s[2] as (typeof s)[number]), length: 1207 };
  ids = await writeRecordedDataset(catalog, 'recorded', dir, s);
  app = await buildHubApp({ catalog });
});

after(async () => {
  await app?.close();
  await catalog?.close();
});

const get = (url: string) => app.inject({ method: 'GET', url });

test('thin keeps the first and last frame and at most `points`', () => {
  assert.deepEqual(thin(0, 10), { stride: 1, frames: [] });
  assert.deepEqual(thin(3, 10).frames, [0, 1, 2]);
  for (const [length, points] of [
    [1000, 500],
    [1001, 500],
    [501, 500],
    [7, 2],
  ] as const) {
    const { frames } = thin(length, points);
    assert.ok(frames.length <= points, `${length}/${points}: ${frames.length} frames`);
    assert.equal(frames[0], 0);
    assert.equal(frames[frames.length - 1], length - 1);
  }
});

test('an episode: its state and action as recorded, its checks and verdict', async () => {
  const res = await get(`/api/episodes/${ids[0]}/frames`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as EpisodeFramesResponse;
  assert.equal(body.episode.id, ids[0]);
  assert.equal(body.fps, FPS);
  assert.equal(body.length, 5);
  assert.equal(body.stride, 1);
  assert.deepEqual(body.frames, [0, 1, 2, 3, 4]);
  assert.deepEqual(body.timeSec, [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(
    body.series.map((s) => [s.feature, s.names]),
    [
      ['observation.state', ['a', 'b']],
      ['action', ['g']],
    ],
  );
  // recorded-datasets.ts: state = [seed + f/100, -f/100], action = sin(seed + f/10); seed 0.
  const state = body.series[0]?.values;
  assert.deepEqual(state?.[0], [0, 0.01, 0.02, 0.03, 0.04]);
  assert.deepEqual(state?.[1], [0, -0.01, -0.02, -0.03, -0.04]);
  assert.equal(body.series[1]?.values[0]?.[4], Number(Math.fround(Math.sin(0.4)).toPrecision(6)));
  assert.ok(['pass', 'warn', 'fail'].includes(body.quality.verdict));
  assert.ok(body.quality.checks.some((c) => c.check.startsWith('timestamps')));
  assert.deepEqual(
    body.quality.failed,
    body.quality.checks.filter((c) => c.verdict === 'fail').map((c) => c.check),
  );
});

test('a long episode is thinned to at most `points` per series', async () => {
  const body = (await get(`/api/episodes/${ids[2]}/frames`)).json() as EpisodeFramesResponse;
  assert.equal(body.length, 1207);
  assert.ok(body.frames.length <= 500 && body.frames.length > 250, `${body.frames.length} points`);
  assert.equal(body.frames.at(-1), 1206);
  for (const s of body.series) for (const v of s.values) assert.equal(v.length, body.frames.length);
  const few = (await get(`/api/episodes/${ids[2]}/frames?points=50`)).json() as EpisodeFramesResponse;
  assert.ok(few.frames.length <= 50);
  assert.equal(few.timeSec.at(-1), Number(Math.fround(1206 / FPS).toPrecision(6)));
});

test('bad ids and parameters are 400, unknown ids 404, lost files 500', async () => {
  const bad = await get('/api/episodes/not-an-id/frames');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /64 lowercase hex/);
  const badPoints = await get(`/api/episodes/${ids[0]}/frames?points=1`);
  assert.equal(badPoints.statusCode, 400);
  const unknownParam = await get(`/api/episodes/${ids[0]}/frames?limit=3`);
  assert.equal(unknownParam.statusCode, 400);
  const unknown = await get(`/api/episodes/${'0'.repeat(64)}/frames`);
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'NOT_FOUND');

  // An episode whose dataset is not on disk any more.
  await catalog.registerDataset({ name: 'gone', path: '/nonexistent/tg', fps: FPS, robotType: 'sim-arm' });
  const lost = 'f'.repeat(64);
  await catalog.insertEpisodes('gone', [
    {
      id: lost,
      robotId: 'arm-a',
      episodeIndex: 0,
      task: 'pick',
      instruction: 'pick',
      source: 'scripted',
      phase: 'drill',
      success: true,
      seed: 1,
      length: 3,
      durationSec: 0.3,
      recordedAt: new Date().toISOString(),
    },
  ]);
  const res = await get(`/api/episodes/${lost}/frames`);
  assert.equal(res.statusCode, 500);
  assert.equal(res.json().error.code, 'STORAGE_FAILED');
  assert.match(res.json().error.message, /cannot be read/);
});
