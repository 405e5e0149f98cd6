/**
 * Drill jobs (src/hub/ingest/job-board.ts):
 *
 *   POST /api/jobs              {field, episodes, seed?, robots?, fps?, maxSimSec?}: queue a job (201)
 *   GET  /api/jobs?field&state  the jobs of the HTTP board, oldest first (with NATS, jobs live on the
 *                               work-queue stream and are not listed here)
 *   POST /api/jobs/:id/cancel   withdraw a job that is not done (a field drilling it stops at its next renew)
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { TgError } from '../../../errors/index.ts';
import { DRILL_JOB_STATES } from '../../catalog/index.ts';
import { DrillJobSchema, DrillJobSpecSchema, type JobBoard, type JobQueue } from '../../ingest/index.ts';
import { parseInput } from '../input.ts';
import { parseQuery } from '../query.ts';
import type { RouteDoc } from './docs.ts';

export interface JobsRoutesOptions {
  /** Where new jobs go: the board, or the NATS work queue. */
  jobs: JobQueue;
  board: JobBoard;
}

export const jobsQuerySchema = z
  .object({
    field: z.string().trim().min(1).max(200).optional(),
    state: z.enum(DRILL_JOB_STATES).optional(),
  })
  .strict();
const jobIdParamsSchema = z.object({ id: z.string().min(1).max(200) });
export const jobStatusSchema = DrillJobSchema.extend({
  state: z.enum(DRILL_JOB_STATES),
  leases: z.number().int(),
  leaseExpiresAt: z.string().nullable(),
  updatedAt: z.string(),
});

export const JOBS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/jobs',
    summary: 'Queue a drill job for a field',
    tags: ['jobs'],
    body: DrillJobSpecSchema,
    responses: { 201: { description: 'queued', schema: DrillJobSchema } },
  },
  {
    method: 'get',
    path: '/api/jobs',
    summary: 'Drill jobs on the HTTP board with their state and lease, oldest first',
    tags: ['jobs'],
    query: jobsQuerySchema,
    responses: { 200: { description: 'jobs', schema: z.object({ jobs: z.array(jobStatusSchema) }) } },
  },
  {
    method: 'post',
    path: '/api/jobs/{id}/cancel',
    summary: 'Withdraw a job that is not done',
    tags: ['jobs'],
    params: jobIdParamsSchema,
    responses: {
      200: { description: 'cancelled', schema: z.object({ job: jobStatusSchema }) },
      404: { description: 'no such job' },
      409: { description: 'the job is done or cancelled already' },
    },
  },
];

export const jobsRoutes: FastifyPluginAsync<JobsRoutesOptions> = async (app, { jobs, board }) => {
  app.post('/api/jobs', async (request, reply) => {
    const spec = parseInput(DrillJobSpecSchema, request.body ?? {}, 'job');
    reply.status(201);
    return jobs.submit(spec);
  });

  app.get('/api/jobs', async (request) => {
    const q = parseQuery(jobsQuerySchema, request.query);
    return {
      jobs: await board.list({
        ...(q.field ? { field: q.field } : {}),
        ...(q.state ? { states: [q.state] } : {}),
      }),
    };
  });

  app.post('/api/jobs/:id/cancel', async (request, reply) => {
    const { id } = parseInput(jobIdParamsSchema, request.params, 'path');
    if (await board.cancel(id)) return { job: await board.get(id) };
    const job = await board.get(id);
    if (!job) throw new TgError('NOT_FOUND', `no drill job ${id}`);
    reply.status(409);
    return { error: { code: 'INPUT_INVALID', message: `drill job ${id} is ${job.state} already` } };
  });
};
