import type { FastifyPluginAsync } from 'fastify';
import { TgError } from '../../../errors/index.ts';
import { type DrillJob, DrillJobSpecSchema, type JobQueue } from '../../ingest/index.ts';

export interface JobsRoutesOptions {
  jobs: JobQueue;
}

/** POST /api/jobs {field, episodes, seed?, robots?, fps?, maxSimSec?}: queue a drill job for a field (201). */
export const jobsRoutes: FastifyPluginAsync<JobsRoutesOptions> = async (app, { jobs }) => {
  app.post('/api/jobs', async (request, reply): Promise<DrillJob> => {
    const parsed = DrillJobSpecSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((i) => `${i.path.join('.') || 'job'}: ${i.message}`).join('; ');
      throw new TgError('INPUT_INVALID', `bad job: ${reasons}`);
    }
    reply.status(201);
    return jobs.submit(parsed.data);
  });
};
