import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Catalog } from '../../catalog/index.ts';
import type { RunStatus } from '../api-types.ts';
import type { RouteDoc } from './docs.ts';

export interface StatusRoutesOptions {
  catalog: Catalog;
  /** Live run summary (normally a `RunStatus`); without it the catalog's totals are reported as idle. */
  status?: () => unknown;
}

/** `RunStatus` (api-types.ts); a live run may add keys (e.g. `fields` under `tg up --fields N`). */
const runStatusSchema = z.looseObject({
  state: z.enum(['idle', 'starting', 'running', 'done', 'failed', 'stopped']),
  episodesDone: z.number().int(),
  episodesPlanned: z.number().int(),
  successes: z.number().int(),
  robots: z.number().int().optional(),
  startedAt: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
});

export const STATUS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/status',
    summary: "The live run summary the console polls (the catalog's totals when no run is going)",
    tags: ['status'],
    responses: { 200: { description: 'run summary', schema: runStatusSchema } },
  },
  {
    method: 'get',
    path: '/api/health',
    summary: 'Liveness',
    tags: ['status'],
    responses: { 200: { description: 'the hub answers', schema: z.object({ ok: z.literal(true) }) } },
  },
];

/** GET /api/status (the console's live summary) and GET /api/health (liveness). */
export const statusRoutes: FastifyPluginAsync<StatusRoutesOptions> = async (app, { catalog, status }) => {
  app.get('/api/status', async () => (await status?.()) ?? (await catalogStatus(catalog)));
  app.get('/api/health', async () => ({ ok: true }));
};

async function catalogStatus(catalog: Catalog): Promise<RunStatus> {
  const counts = await catalog.counts();
  return {
    state: 'idle',
    episodesDone: counts.episodes,
    episodesPlanned: counts.episodes,
    successes: counts.successfulEpisodes,
    robots: counts.robots,
    startedAt: null,
    message: null,
  };
}
