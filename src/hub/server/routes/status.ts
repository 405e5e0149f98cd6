import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/index.ts';
import type { RunStatus } from '../api-types.ts';

export interface StatusRoutesOptions {
  catalog: Catalog;
  /** Live run summary (normally a `RunStatus`); without it the catalog's totals are reported as idle. */
  status?: () => unknown;
}

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
