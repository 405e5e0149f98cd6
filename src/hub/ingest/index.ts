export {
  type BundleUpload,
  datasetName,
  EpisodeIngest,
  type EpisodeIngestOptions,
  type IngestResult,
  type IngestStatus,
  type StoredEpisode,
} from './episode-ingest.ts';
export {
  type FieldRegistration,
  FieldRegistrationSchema,
  FieldRegistry,
  type FieldStatus,
  type Heartbeat,
  HeartbeatSchema,
} from './field-registry.ts';
export {
  DEFAULT_JOB_LEASE_MS,
  type DrillJob,
  DrillJobSchema,
  type DrillJobSpec,
  DrillJobSpecSchema,
  JobBoard,
  type JobLease,
  type JobQueue,
  type JobStatus,
  MAX_LEASE_WAIT_MS,
  newDrillJob,
} from './job-board.ts';

import type { EpisodeIngest } from './episode-ingest.ts';
import type { FieldRegistry } from './field-registry.ts';
import type { JobBoard, JobQueue } from './job-board.ts';

/** What the hub needs to serve fields: ingest, registry, and where jobs go (board, or NATS). */
export interface HubNetwork {
  ingest: EpisodeIngest;
  fields: FieldRegistry;
  /** Jobs polled over HTTP. */
  board: JobBoard;
  /** Where `POST /api/jobs` puts jobs: `board`, or the NATS work queue. */
  jobs: JobQueue;
}
