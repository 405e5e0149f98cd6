import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { TgError } from '../../src/errors/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import type {
  ApiErrorBody,
  EpisodesResponse,
  RobotsResponse,
  RunStatus,
} from '../../src/hub/server/api-types.ts';
import { buildHubApp } from '../../src/hub/server/app.ts';
import { startHub } from '../../src/hub/server/start.ts';
import { seedCatalog } from './fixtures.ts';

let catalog: Catalog;
let app: FastifyInstance;

before(async () => {
  catalog = await Catalog.open({ dataDir: 'memory://' });
  await seedCatalog(catalog, 5);
  app = await buildHubApp({ catalog });
});
after(async () => {
  await app.close();
  await catalog.close();
});

async function getJson<T>(url: string, expectedStatus = 200): Promise<T> {
  const res = await app.inject({ method: 'GET', url });
  assert.equal(res.statusCode, expectedStatus, res.body);
  assert.match(String(res.headers['content-type']), /application\/json/);
  return res.json() as T;
}

describe('GET /api/robots', () => {
  test('lists robots with episode counts', async () => {
    const body = await getJson<RobotsResponse>('/api/robots');
    assert.deepEqual(
      body.robots.map((r) => [r.id, r.episodeCount]),
      [
        ['arm-01', 3],
        ['humanoid-01', 2],
      ],
    );
  });
});

describe('GET /api/episodes', () => {
  test('defaults to the first page, newest first', async () => {
    const body = await getJson<EpisodesResponse>('/api/episodes');
    assert.equal(body.total, 5);
    assert.equal(body.limit, 50);
    assert.equal(body.offset, 0);
    assert.equal(body.episodes.length, 5);
    assert.equal(body.episodes[0]!.episodeIndex, 4);
  });

  test('pages and filters by robot', async () => {
    const body = await getJson<EpisodesResponse>('/api/episodes?limit=2&offset=1&robot=arm-01');
    assert.equal(body.total, 3);
    assert.deepEqual(
      body.episodes.map((e) => e.episodeIndex),
      [2, 0],
    );
  });

  const bad: Array<[string, RegExp]> = [
    ['limit=0', /"limit": limit must be at least 1/],
    ['limit=abc', /"limit": limit must be a whole number/],
    ['limit=100000', /"limit": limit must be at most 500/],
    ['offset=-1', /"offset": offset must be a whole number/],
    ['limit=1&limit=2', /"limit"/],
    ['robot=', /"robot": robot must not be empty/],
    ['colour=red', /unknown parameter "colour"/],
  ];
  for (const [query, reason] of bad) {
    test(`400 with a reason for ?${query}`, async () => {
      const body = await getJson<ApiErrorBody>(`/api/episodes?${query}`, 400);
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.match(body.error.message, reason);
    });
  }
});

describe('status, health and errors', () => {
  test('without a status callback, /api/status reports catalog totals as idle', async () => {
    const body = await getJson<RunStatus>('/api/status');
    assert.equal(body.state, 'idle');
    assert.equal(body.episodesDone, 5);
    assert.equal(body.robots, 2);
  });

  test('/api/status returns what the callback returns', async () => {
    const live: RunStatus = { state: 'running', episodesDone: 3, episodesPlanned: 10, successes: 2 };
    const withStatus = await buildHubApp({ catalog, status: () => live });
    try {
      const res = await withStatus.inject({ method: 'GET', url: '/api/status' });
      assert.deepEqual(res.json(), live);
    } finally {
      await withStatus.close();
    }
  });

  test('/api/health', async () => {
    assert.deepEqual(await getJson('/api/health'), { ok: true });
  });

  test('an unknown API route is a JSON 404', async () => {
    const body = await getJson<ApiErrorBody>('/api/nope', 404);
    assert.equal(body.error.code, 'NOT_FOUND');
  });
});

describe('startHub', () => {
  test('a port already in use is a USAGE error naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startHub({ catalog, host: '127.0.0.1', port, consoleDir: null }),
        (err: unknown) => {
          assert.ok(err instanceof TgError);
          assert.equal(err.code, 'USAGE');
          assert.equal(err.message, `port ${port} is already in use (set TG_PORT or --port)`);
          return true;
        },
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('serves the API on a free port', async () => {
    const hub = await startHub({ catalog, host: '127.0.0.1', port: 0, consoleDir: null });
    try {
      assert.match(hub.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${hub.url}/api/health`);
      assert.deepEqual(await res.json(), { ok: true });
    } finally {
      await hub.close();
    }
  });

  test('closing does not wait for a connection that never sent a request', async () => {
    // Regression (tg up --fields took ~70 s to exit): a field's aborted long poll left a connection
    // open that had sent nothing, and close() waited for the server's header timeout.
    const hub = await startHub({ catalog, host: '127.0.0.1', port: 0, consoleDir: null });
    const silent = connect(Number(new URL(hub.url).port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => silent.once('connect', resolve).once('error', reject));
    try {
      const closed = hub.close().then(() => 'closed');
      const stuck = new Promise((r) => setTimeout(r, 20_000, 'still open after 20 s').unref());
      assert.equal(await Promise.race([closed, stuck]), 'closed');
    } finally {
      silent.destroy();
    }
  });
});
