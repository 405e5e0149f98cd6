/**
 * Subjects and streams of the 1+N network on NATS JetStream. Every subject a field publishes starts with
 * `<prefix>.<field>.`, so a field can run a leaf node whose permissions are `<prefix>.<field>.>` plus
 * `<prefix>.jobs.<field>`:
 *
 *   <prefix>.<field>.episodes   bundles, stream EPISODES (file storage, dedup by Nats-Msg-Id = episode id)
 *   <prefix>.<field>.events     heartbeats and drill events, core NATS (not stored)
 *   <prefix>.jobs.<field>       drill jobs, stream JOBS (work queue: each job is delivered to one taker)
 *
 * JetStream refuses streams whose subjects overlap, and `<prefix>.*.episodes` would overlap
 * `<prefix>.jobs.*` (at `<prefix>.jobs.episodes`), so the EPISODES stream lists each registered field's
 * subject explicitly (the hub adds it when the field registers) and no field may be named "jobs".
 */
export interface NatsLayout {
  /** Subject root (default 'tg'). */
  prefix: string;
  /** Stream of episode bundles (default 'TG_EPISODES'). */
  episodesStream: string;
  /** Work-queue stream of drill jobs (default 'TG_JOBS'). */
  jobsStream: string;
  /** Durable consumer through which the hub ingests bundles (default 'tg-hub-ingest'). */
  ingestConsumer: string;
}

export const DEFAULT_NATS_LAYOUT: NatsLayout = {
  prefix: 'tg',
  episodesStream: 'TG_EPISODES',
  jobsStream: 'TG_JOBS',
  ingestConsumer: 'tg-hub-ingest',
};

export function natsLayout(overrides: Partial<NatsLayout> = {}): NatsLayout {
  return { ...DEFAULT_NATS_LAYOUT, ...overrides };
}

export const episodesSubject = (l: NatsLayout, field: string) => `${l.prefix}.${field}.episodes`;
export const eventsSubject = (l: NatsLayout, field: string) => `${l.prefix}.${field}.events`;
export const jobsSubject = (l: NatsLayout, field: string) => `${l.prefix}.jobs.${field}`;

/** Headers of a bundle message. A bundle over the server's max payload travels as numbered chunks. */
export const HDR_EPISODE_ID = 'Tg-Episode-Id';
export const HDR_SHA256 = 'Tg-Content-Sha256';
export const HDR_CHUNK = 'Tg-Chunk';
export const HDR_CHUNKS = 'Tg-Chunks';

/** Room left in each message for headers and protocol framing. */
export const CHUNK_HEADROOM_BYTES = 16 * 1024;
