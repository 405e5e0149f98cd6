/**
 * The fields of a 1+N network (src/hub/ingest/field-registry.ts) and how they take drill jobs over HTTP
 * (src/hub/ingest/job-board.ts):
 *
 *   POST /api/fields/:name/register         {robots}: the field and its robots into the catalog
 *   POST /api/fields/:name/heartbeat        {state, spoolEntries, spoolBytes, ...}: liveness and backlog
 *   GET  /api/fields                        the fields this hub process has heard from
 *   POST /api/fields/:name/jobs/lease       the field's oldest open job with a lease (200), or 204
 *   POST /api/fields/:name/jobs/:id/renew   {token}: extend the lease while drilling (409: lease lost)
 *   POST /api/fields/:name/jobs/:id/ack     {token}: every episode is recorded, the job is done (409: lost)
 *   POST /api/fields/:name/jobs/release     {keep}: a restarted field frees the leases it has no record of
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  DrillJobSchema,
  FieldRegistrationSchema,
  type FieldRegistry,
  HeartbeatSchema,
  type JobBoard,
  MAX_LEASE_WAIT_MS,
} from '../../ingest/index.ts';
import { parseInput } from '../input.ts';
import { parseQuery } from '../query.ts';
import type { RouteDoc } from './docs.ts';
import { robotRowSchema } from './robots.ts';

export interface FieldsRoutesOptions {
  fields: FieldRegistry;
  board: JobBoard;
}

export const fieldParamsSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, . _ - only'),
});
const jobParamsSchema = fieldParamsSchema.extend({ id: z.string().min(1).max(200) });
export const leaseTokenBodySchema = z.object({ token: z.string().min(1).max(200) }).strict();
export const leaseQuerySchema = z
  .object({
    /** Long poll: wait this long for a job when there is none. */
    waitMs: z
      .string()
      .regex(/^\d{1,6}$/, 'waitMs must be a whole number of milliseconds')
      .transform(Number)
      .pipe(z.number().max(MAX_LEASE_WAIT_MS, `waitMs must be at most ${MAX_LEASE_WAIT_MS}`))
      .optional(),
  })
  .strict();

const fieldStatusSchema = z.object({
  name: z.string(),
  robots: z.array(z.string()),
  registeredAt: z.string(),
  lastHeartbeatAt: z.string().nullable(),
  heartbeat: HeartbeatSchema.nullable(),
});
export const releaseBodySchema = z
  .object({ keep: z.string().min(1).max(200).nullable().default(null) })
  .strict();
export const jobLeaseSchema = z.object({ job: DrillJobSchema, token: z.string(), expiresAt: z.string() });

const LEASE_LOST = { description: 'the lease is lost: the job was taken again, finished or cancelled' };

export const FIELDS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/fields/{name}/register',
    summary: 'Register a field and its robots (idempotent; again after a hub restart)',
    tags: ['fields'],
    params: fieldParamsSchema,
    body: FieldRegistrationSchema,
    responses: {
      200: {
        description: 'the field and its robots as the catalog holds them',
        schema: z.object({ field: z.string(), robots: z.array(robotRowSchema) }),
      },
    },
  },
  {
    method: 'post',
    path: '/api/fields/{name}/heartbeat',
    summary: "A field's liveness and spool backlog",
    tags: ['fields'],
    params: fieldParamsSchema,
    body: HeartbeatSchema,
    responses: {
      200: { description: 'recorded', schema: z.object({ ok: z.literal(true) }) },
      409: { description: 'the field has not registered with this hub process: register again' },
    },
  },
  {
    method: 'get',
    path: '/api/fields',
    summary: 'The fields this hub process has heard from, with their last heartbeat',
    tags: ['fields'],
    responses: {
      200: { description: 'fields by name', schema: z.object({ fields: z.array(fieldStatusSchema) }) },
    },
  },
  {
    method: 'post',
    path: '/api/fields/{name}/jobs/lease',
    summary: "Lease the field's oldest open drill job (with waitMs: wait that long for one)",
    tags: ['fields', 'jobs'],
    params: fieldParamsSchema,
    query: leaseQuerySchema,
    responses: {
      200: { description: 'the job and its lease', schema: jobLeaseSchema },
      204: { description: 'no job for this field (within waitMs)' },
    },
  },
  {
    method: 'post',
    path: '/api/fields/{name}/jobs/{id}/renew',
    summary: 'Extend the lease of a job being drilled',
    tags: ['fields', 'jobs'],
    params: jobParamsSchema,
    body: leaseTokenBodySchema,
    responses: {
      200: { description: 'the lease now ends at expiresAt', schema: z.object({ expiresAt: z.string() }) },
      409: LEASE_LOST,
    },
  },
  {
    method: 'post',
    path: '/api/fields/{name}/jobs/{id}/ack',
    summary: 'Every episode of the job is recorded: the job is done and never handed out again',
    tags: ['fields', 'jobs'],
    params: jobParamsSchema,
    body: leaseTokenBodySchema,
    responses: {
      200: {
        description: 'done (acknowledging twice is harmless)',
        schema: z.object({ state: z.literal('done') }),
      },
      409: LEASE_LOST,
    },
  },
  {
    method: 'post',
    path: '/api/fields/{name}/jobs/release',
    summary:
      'A restarted field frees the jobs it holds leases on but has no record of (all but keep, the job it resumes)',
    tags: ['fields', 'jobs'],
    params: fieldParamsSchema,
    body: releaseBodySchema,
    responses: {
      200: {
        description: 'the jobs put back in the queue',
        schema: z.object({ released: z.array(z.string()) }),
      },
    },
  },
];

export const fieldsRoutes: FastifyPluginAsync<FieldsRoutesOptions> = async (app, { fields, board }) => {
  // Long polls end when the hub closes, so that closing does not wait for them.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  app.post('/api/fields/:name/register', async (request) => {
    const { name } = parseInput(fieldParamsSchema, request.params, 'field name');
    const reg = parseInput(FieldRegistrationSchema, request.body ?? {}, 'registration');
    return { field: name, robots: await fields.register(name, reg) };
  });

  app.post('/api/fields/:name/heartbeat', async (request, reply) => {
    const { name } = parseInput(fieldParamsSchema, request.params, 'field name');
    const beat = parseInput(HeartbeatSchema, request.body ?? {}, 'heartbeat');
    if (!fields.heartbeat(name, beat)) {
      // 409, not 404: the field exists for the hub only after it registers (again, after a hub restart).
      reply.status(409);
      return { error: { code: 'NOT_FOUND', message: `field ${name} is not registered with this hub` } };
    }
    return { ok: true };
  });

  app.get('/api/fields', async () => ({ fields: fields.list() }));

  app.post('/api/fields/:name/jobs/lease', async (request, reply) => {
    const { name } = parseInput(fieldParamsSchema, request.params, 'field name');
    const { waitMs } = parseQuery(leaseQuerySchema, request.query);
    const gone = new AbortController(); // the field hung up: stop waiting for it
    reply.raw.once('close', () => gone.abort());
    const lease = await board.lease(name, {
      ...(waitMs ? { waitMs } : {}),
      signal: AbortSignal.any([gone.signal, closing.signal]),
    });
    if (!lease) return reply.status(204).send();
    return lease;
  });

  app.post('/api/fields/:name/jobs/release', async (request) => {
    const { name } = parseInput(fieldParamsSchema, request.params, 'field name');
    const { keep } = parseInput(releaseBodySchema, request.body ?? {}, 'request body');
    return { released: await board.release(name, keep) };
  });

  app.post('/api/fields/:name/jobs/:id/renew', async (request, reply) => {
    const { id } = parseInput(jobParamsSchema, request.params, 'path');
    const { token } = parseInput(leaseTokenBodySchema, request.body ?? {}, 'request body');
    const expiresAt = await board.renew(id, token);
    if (!expiresAt) return leaseLost(reply, id);
    return { expiresAt };
  });

  app.post('/api/fields/:name/jobs/:id/ack', async (request, reply) => {
    const { id } = parseInput(jobParamsSchema, request.params, 'path');
    const { token } = parseInput(leaseTokenBodySchema, request.body ?? {}, 'request body');
    if ((await board.ack(id, token)) !== 'done') return leaseLost(reply, id);
    return { state: 'done' as const };
  });
};

function leaseLost(reply: { status(code: number): unknown }, id: string) {
  reply.status(409);
  return {
    error: {
      code: 'LEASE_LOST',
      message: `the lease on job ${id} is lost: the job was taken again, finished or cancelled`,
    },
  };
}
