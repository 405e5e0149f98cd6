import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Catalog } from '../../catalog/index.ts';
import type { EpisodesResponse } from '../api-types.ts';
import { parseQuery } from '../query.ts';
import type { RouteDoc } from './docs.ts';

export interface EpisodesRoutesOptions {
  catalog: Catalog;
}

export const EPISODES_DEFAULT_LIMIT = 50;
export const EPISODES_MAX_LIMIT = 500;

/** Query strings arrive as text; digits only, so "1e3", "-0" or "5.5" are rejected rather than coerced. */
const integerText = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));

export const episodesQuerySchema = z
  .object({
    limit: integerText('limit', 1, EPISODES_MAX_LIMIT).default(EPISODES_DEFAULT_LIMIT),
    offset: integerText('offset', 0, Number.MAX_SAFE_INTEGER).default(0),
    robot: z.string().trim().min(1, 'robot must not be empty').max(200).optional(),
  })
  .strict();

/**
 * Counting the matching episodes scans them: the page's costly query, and the console polls it while
 * fields stream episodes in. A total is reused for up to this long (the page itself is always fresh).
 */
export const EPISODES_TOTAL_MAX_AGE_MS = 1000;

/** A catalog episode as the API returns it (`EpisodeRow`; storage details may add keys). */
const episodeRowSchema = z.looseObject({
  id: z.string(),
  datasetName: z.string(),
  robotId: z.string(),
  episodeIndex: z.number().int(),
  task: z.string(),
  instruction: z.string(),
  source: z.string(),
  phase: z.string(),
  success: z.boolean(),
  seed: z.number().int(),
  length: z.number().int(),
  durationSec: z.number(),
  recordedAt: z.string(),
});

export const EPISODES_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/episodes',
    summary: 'A page of episodes, newest recording first',
    tags: ['episodes'],
    query: episodesQuerySchema,
    responses: {
      200: {
        description: 'the page and the number of episodes matching the filter',
        schema: z.object({
          episodes: z.array(episodeRowSchema),
          total: z.number().int(),
          limit: z.number().int(),
          offset: z.number().int(),
        }),
      },
    },
  },
];

/** GET /api/episodes?limit&offset&robot: a page of episodes, newest first. */
export const episodesRoutes: FastifyPluginAsync<EpisodesRoutesOptions> = async (app, { catalog }) => {
  const totals = new Map<string, { at: number; total: Promise<number> }>();
  const countOf = (robot: string | undefined): Promise<number> => {
    const key = robot ?? '';
    const now = Date.now();
    const cached = totals.get(key);
    if (cached && now - cached.at < EPISODES_TOTAL_MAX_AGE_MS) return cached.total;
    if (totals.size >= 1000) totals.clear();
    const total = catalog.countEpisodes(robot === undefined ? {} : { robotId: robot });
    totals.set(key, { at: now, total });
    total.catch(() => totals.delete(key));
    return total;
  };
  app.get('/api/episodes', async (request): Promise<EpisodesResponse> => {
    const q = parseQuery(episodesQuerySchema, request.query);
    const filter = q.robot === undefined ? {} : { robotId: q.robot };
    const [episodes, total] = await Promise.all([
      catalog.listEpisodes({ limit: q.limit, offset: q.offset, ...filter }),
      countOf(q.robot),
    ]);
    return { episodes, total, limit: q.limit, offset: q.offset };
  });
};
