import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { EpisodeIngest, FieldRegistry, JobBoard } from '../../src/hub/ingest/index.ts';
import { buildHubApp } from '../../src/hub/server/app.ts';
import { type RegisteredRoute, registeredRoutes } from '../../src/hub/server/routes/docs.ts';

interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}
type Paths = Record<string, Record<string, Operation>>;

/** Actions whose request has no body: everything they need is in the path. */
const BODYLESS = new Set(['post /api/fields/{name}/jobs/lease', 'post /api/jobs/{id}/cancel']);

async function documentOf(app: FastifyInstance): Promise<Paths> {
  const res = await app.inject({ method: 'GET', url: '/api/docs' });
  assert.equal(res.statusCode, 200);
  const doc = res.json() as { openapi: string; paths: Paths };
  assert.equal(doc.openapi, '3.1.0');
  return doc.paths;
}

function checkCoverage(routes: RegisteredRoute[], paths: Paths): void {
  const api = routes.filter((r) => r.path.startsWith('/api/'));
  assert.ok(api.length > 0);
  for (const { method, path: p } of api) {
    const where = `${method.toUpperCase()} ${p}`;
    const op = paths[p]?.[method];
    assert.ok(op, `${where} is served but missing from /api/docs`);
    assert.ok(op.summary, `${where}: no summary`);
    for (const name of [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
      const param = op.parameters?.find((x) => x.name === name && x.in === 'path');
      assert.ok(param?.schema, `${where}: path parameter ${name} has no schema`);
    }
    if ((method === 'post' || method === 'put') && !BODYLESS.has(`${method} ${p}`)) {
      const content = op.requestBody?.content ?? {};
      assert.ok(
        Object.values(content).some((c) => c.schema),
        `${where}: no request body schema`,
      );
    }
    const ok = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
    assert.ok(ok.length > 0, `${where}: no success response`);
    if (method !== 'head') {
      assert.ok(
        ok.some(([status, r]) => status === '204' || Object.values(r.content ?? {}).some((c) => c.schema)),
        `${where}: no schema for its success response`,
      );
    }
    assert.ok(op.responses.default, `${where}: no error response`);
  }
  // And nothing documented that is not served.
  for (const [p, ops] of Object.entries(paths)) {
    for (const method of Object.keys(ops)) {
      assert.ok(
        api.some((r) => r.path === p && r.method === method),
        `/api/docs lists ${method.toUpperCase()} ${p}, which is not served`,
      );
    }
  }
}

describe('GET /api/docs covers every route', () => {
  let catalog: Catalog;
  before(async () => {
    catalog = await Catalog.open({ dataDir: 'memory://' });
  });
  after(() => catalog.close());

  test('the hub with the field network: every registered route, with its schemas', async () => {
    const ingest = await EpisodeIngest.open({
      catalog,
      dir: mkdtempSync(path.join(os.tmpdir(), 'tg-api-docs-')),
    });
    const board = new JobBoard(catalog);
    const app = await buildHubApp({
      catalog,
      network: { ingest, fields: new FieldRegistry(catalog), board, jobs: board },
    });
    try {
      const routes = registeredRoutes(app);
      for (const expected of ['/api/fields/{name}/jobs/lease', '/api/jobs', '/api/robots', '/api/docs']) {
        assert.ok(
          routes.some((r) => r.path === expected),
          `route tracking sees ${expected}`,
        );
      }
      checkCoverage(routes, await documentOf(app));
    } finally {
      await app.close();
      await ingest.close();
    }
  });

  test('the hub without a field network documents only what it serves', async () => {
    const app = await buildHubApp({ catalog });
    try {
      const paths = await documentOf(app);
      assert.equal(paths['/api/jobs'], undefined);
      checkCoverage(registeredRoutes(app), paths);
    } finally {
      await app.close();
    }
  });

  test('a route without documentation is caught', async () => {
    const app = await buildHubApp({ catalog });
    app.get('/api/undocumented', async () => ({}));
    try {
      const paths = await documentOf(app);
      assert.throws(
        () => checkCoverage(registeredRoutes(app), paths),
        /GET \/api\/undocumented is served but missing from \/api\/docs/,
      );
    } finally {
      await app.close();
    }
  });
});
