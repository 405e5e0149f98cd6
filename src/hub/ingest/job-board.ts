/**
 * Drill jobs the hub hands to fields. Over HTTP, fields poll `next(field)`; the board is in memory, so
 * jobs not yet taken are lost when the hub restarts. With NATS the jobs go to the durable work-queue
 * stream instead (src/hub/ingest/nats-ingest.ts), and survive.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const DrillJobSpecSchema = z
  .object({
    field: z.string().trim().min(1).max(200),
    episodes: z.number().int().min(1).max(100_000),
    seed: z.number().int().min(0).default(0),
    /** Robots to drill with; default: every robot the field runs. */
    robots: z.number().int().min(1).max(1000).optional(),
    fps: z.number().int().min(1).max(1000).default(30),
    /** Simulated-time cap per episode. */
    maxSimSec: z.number().positive().max(600).optional(),
  })
  .strict();
export type DrillJobSpec = z.input<typeof DrillJobSpecSchema>;

export const DrillJobSchema = DrillJobSpecSchema.extend({
  id: z.string().min(1).max(200),
  createdAt: z.string(),
});
export type DrillJob = z.infer<typeof DrillJobSchema>;

export function newDrillJob(spec: DrillJobSpec): DrillJob {
  return { ...DrillJobSpecSchema.parse(spec), id: randomUUID(), createdAt: new Date().toISOString() };
}

/** Where the hub puts jobs: the in-memory board (HTTP) or the NATS work queue. */
export interface JobQueue {
  submit(spec: DrillJobSpec): Promise<DrillJob>;
}

export class JobBoard implements JobQueue {
  private readonly queued: DrillJob[] = [];
  private readonly taken = new Map<string, DrillJob>();

  async submit(spec: DrillJobSpec): Promise<DrillJob> {
    const job = newDrillJob(spec);
    this.queued.push(job);
    return job;
  }

  /** The oldest job queued for `field`, now taken by it; null when there is none. */
  next(field: string): DrillJob | null {
    const i = this.queued.findIndex((j) => j.field === field);
    if (i < 0) return null;
    const [job] = this.queued.splice(i, 1) as [DrillJob];
    this.taken.set(job.id, job);
    return job;
  }

  get pending(): number {
    return this.queued.length;
  }
}
