import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Catalog } from '../../catalog/index.ts';
import type { RobotsResponse } from '../api-types.ts';
import type { RouteDoc } from './docs.ts';

export interface RobotsRoutesOptions {
  catalog: Catalog;
}

/** A catalog robot as the API returns it (`RobotRow`). */
export const robotRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  embodiment: z.string(),
  embodimentHash: z.string(),
  vendor: z.string(),
  field: z.string(),
  episodeCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const ROBOTS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/robots',
    summary: 'Every robot with its episode count',
    tags: ['robots'],
    responses: {
      200: { description: 'robots by id', schema: z.object({ robots: z.array(robotRowSchema) }) },
    },
  },
];

/** GET /api/robots: every robot with its episode count. */
export const robotsRoutes: FastifyPluginAsync<RobotsRoutesOptions> = async (app, { catalog }) => {
  app.get('/api/robots', async (): Promise<RobotsResponse> => ({ robots: await catalog.listRobots() }));
};
