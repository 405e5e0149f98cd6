/**
 * Analytics over HTTP (src/hub/analytics):
 *
 *   GET /api/analytics?by=robot|vendor|task|phase|operator|field   one row per value of the dimension
 *   GET /api/analytics/timeline?bucket=day|hour                    one row per UTC day or hour
 *
 * Both take the dataset query's filters as optional parameters: robot, vendor, task, phase, field,
 * success=true|false, from, to (ISO 8601).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  ANALYTICS_DIMENSIONS,
  Analytics,
  TIMELINE_BUCKETS,
  type VerdictSource,
} from '../../analytics/index.ts';
import type { Catalog, EpisodeFilterInput } from '../../catalog/index.ts';
import { CURRICULUM_PHASES } from '../../catalog/types.ts';
import { parseQuery } from '../query.ts';
import type { RouteDoc } from './docs.ts';

export interface AnalyticsRoutesOptions {
  catalog: Catalog;
  /** Quality verdicts for yield; default: the data module's checks over each source dataset. */
  verdicts?: VerdictSource;
}

const text = z.string().trim().min(1).max(500);
const filterParams = {
  robot: text.optional(),
  vendor: text.optional(),
  task: text.optional(),
  phase: z.enum(CURRICULUM_PHASES).optional(),
  field: text.optional(),
  success: z.enum(['true', 'false']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};
export const analyticsQuerySchema = z.object({ by: z.enum(ANALYTICS_DIMENSIONS), ...filterParams }).strict();
export const timelineQuerySchema = z.object({ bucket: z.enum(TIMELINE_BUCKETS), ...filterParams }).strict();

const rowSchema = z.object({
  key: z.string(),
  episodes: z.number().int(),
  successes: z.number().int(),
  successRate: z.number().nullable(),
  frames: z.number().int(),
  checkedFrames: z.number().int(),
  acceptedFrames: z.number().int(),
  yield: z.number().nullable(),
});

export const ANALYTICS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/analytics',
    summary:
      'Episodes, frames, success rate and data yield per robot, vendor, task, phase, operator or field',
    tags: ['analytics'],
    query: analyticsQuerySchema,
    responses: {
      200: {
        description: 'one row per value, largest first',
        schema: z.object({ by: z.enum(ANALYTICS_DIMENSIONS), rows: z.array(rowSchema) }),
      },
    },
  },
  {
    method: 'get',
    path: '/api/analytics/timeline',
    summary: 'Success and data yield over time',
    tags: ['analytics'],
    query: timelineQuerySchema,
    responses: {
      200: {
        description: 'one row per UTC bucket, oldest first',
        schema: z.object({
          bucket: z.enum(TIMELINE_BUCKETS),
          rows: z.array(rowSchema.extend({ bucketStart: z.string() })),
        }),
      },
    },
  },
];

export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesOptions> = async (app, opts) => {
  const analytics = new Analytics(opts.catalog, opts.verdicts ? { verdicts: opts.verdicts } : {});

  app.get('/api/analytics', async (request) => {
    const q = parseQuery(analyticsQuerySchema, request.query);
    return { by: q.by, rows: await analytics.breakdown(q.by, toFilter(q)) };
  });

  app.get('/api/analytics/timeline', async (request) => {
    const q = parseQuery(timelineQuerySchema, request.query);
    return { bucket: q.bucket, rows: await analytics.timeline(q.bucket, toFilter(q)) };
  });
};

function toFilter(q: z.output<z.ZodObject<typeof filterParams>>): EpisodeFilterInput {
  const f: EpisodeFilterInput = {};
  if (q.robot) f.robot = q.robot;
  if (q.vendor) f.vendor = q.vendor;
  if (q.task) f.task = q.task;
  if (q.phase) f.phase = q.phase;
  if (q.field) f.field = q.field;
  if (q.success) f.success = q.success === 'true';
  if (q.from) f.recordedFrom = q.from;
  if (q.to) f.recordedTo = q.to;
  return f;
}
