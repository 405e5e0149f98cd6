import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/index.ts';
import type { RobotsResponse } from '../api-types.ts';

export interface RobotsRoutesOptions {
  catalog: Catalog;
}

/** GET /api/robots: every robot with its episode count. */
export const robotsRoutes: FastifyPluginAsync<RobotsRoutesOptions> = async (app, { catalog }) => {
  app.get('/api/robots', async (): Promise<RobotsResponse> => ({ robots: await catalog.listRobots() }));
};
