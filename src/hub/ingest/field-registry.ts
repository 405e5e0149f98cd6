/**
 * The fields the hub has heard from: registration puts a field and its robots in the catalog; heartbeats
 * keep its liveness and spool backlog, in memory (a restarted hub learns them again within a heartbeat).
 */
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import type { Catalog, RobotRow } from '../catalog/index.ts';

const name = z.string().trim().min(1).max(200);

export const FieldRobotSchema = z
  .object({
    id: name,
    name: name.optional(),
    embodiment: name,
    embodimentHash: name,
    vendor: name,
  })
  .strict();

export const FieldRegistrationSchema = z.object({ robots: z.array(FieldRobotSchema).max(10_000) }).strict();
export type FieldRegistration = z.infer<typeof FieldRegistrationSchema>;

export const HeartbeatSchema = z
  .object({
    state: z.enum(['idle', 'drilling', 'stopping']),
    spoolEntries: z.number().int().min(0),
    spoolBytes: z.number().int().min(0),
    /** Whether the field's last upload attempt reached the hub. */
    uploading: z.boolean().optional(),
    jobId: z.string().max(200).nullable().optional(),
  })
  .strict();
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export interface FieldStatus {
  name: string;
  robots: string[];
  registeredAt: string;
  lastHeartbeatAt: string | null;
  heartbeat: Heartbeat | null;
}

export class FieldRegistry {
  private readonly fields = new Map<string, FieldStatus>();

  /** Runs after each registration (the ingest's robot cache, the NATS link's stream subjects). */
  readonly onRegistered: Array<(field: string) => void | Promise<void>> = [];

  constructor(private readonly catalog: Catalog) {}

  async register(field: string, reg: FieldRegistration): Promise<RobotRow[]> {
    if (field === 'jobs')
      throw new TgError('INPUT_INVALID', 'field name "jobs" is reserved (NATS subject tg.jobs.*)');
    await this.catalog.upsertField({ id: field, name: field });
    const robots: RobotRow[] = [];
    for (const r of reg.robots) {
      robots.push(
        await this.catalog.upsertRobot({
          id: r.id,
          name: r.name ?? r.id,
          embodiment: r.embodiment,
          embodimentHash: r.embodimentHash,
          vendor: r.vendor,
          field,
        }),
      );
    }
    for (const hook of this.onRegistered) await hook(field);
    const prior = this.fields.get(field);
    this.fields.set(field, {
      name: field,
      robots: reg.robots.map((r) => r.id),
      registeredAt: new Date().toISOString(),
      lastHeartbeatAt: prior?.lastHeartbeatAt ?? null,
      heartbeat: prior?.heartbeat ?? null,
    });
    return robots;
  }

  /** Records a heartbeat; false when the field has not registered with this hub process. */
  heartbeat(field: string, beat: Heartbeat): boolean {
    const status = this.fields.get(field);
    if (!status) return false;
    status.lastHeartbeatAt = new Date().toISOString();
    status.heartbeat = beat;
    return true;
  }

  list(): FieldStatus[] {
    return [...this.fields.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
