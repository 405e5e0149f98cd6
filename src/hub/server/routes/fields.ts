import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { TgError } from '../../../errors/index.ts';
import type { RobotRow } from '../../catalog/index.ts';
import {
  type DrillJob,
  FieldRegistrationSchema,
  type FieldRegistry,
  type FieldStatus,
  HeartbeatSchema,
  type JobBoard,
} from '../../ingest/index.ts';

export interface FieldsRoutesOptions {
  fields: FieldRegistry;
  board: JobBoard;
}

const paramsSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, . _ - only'),
});

/**
 * POST /api/fields/:name/register {robots}: the field and its robots into the catalog.
 * POST /api/fields/:name/heartbeat {state, spoolEntries, spoolBytes}: liveness and backlog.
 * GET  /api/fields: the fields this hub has heard from.
 * GET  /api/fields/:name/jobs/next: the next drill job for the field (200), or 204 when there is none.
 */
export const fieldsRoutes: FastifyPluginAsync<FieldsRoutesOptions> = async (app, { fields, board }) => {
  app.post('/api/fields/:name/register', async (request): Promise<{ field: string; robots: RobotRow[] }> => {
    const { name } = parse(paramsSchema, request.params, 'field name');
    const reg = parse(FieldRegistrationSchema, request.body, 'registration');
    return { field: name, robots: await fields.register(name, reg) };
  });

  app.post('/api/fields/:name/heartbeat', async (request, reply) => {
    const { name } = parse(paramsSchema, request.params, 'field name');
    const beat = parse(HeartbeatSchema, request.body, 'heartbeat');
    if (!fields.heartbeat(name, beat)) {
      // 409, not 404: the field exists for the hub only after it registers (again, after a hub restart).
      reply.status(409);
      return { error: { code: 'NOT_FOUND', message: `field ${name} is not registered with this hub` } };
    }
    return { ok: true };
  });

  app.get('/api/fields', async (): Promise<{ fields: FieldStatus[] }> => ({ fields: fields.list() }));

  app.get('/api/fields/:name/jobs/next', async (request, reply): Promise<DrillJob | undefined> => {
    const { name } = parse(paramsSchema, request.params, 'field name');
    const job = board.next(name);
    if (!job) {
      reply.status(204).send();
      return;
    }
    return job;
  });
};

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const reasons = result.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ');
  throw new TgError('INPUT_INVALID', `bad ${what}: ${reasons}`);
}
