/**
 * The catalog's vocabulary: what goes in and what comes back. Rows are camelCase plain objects with
 * timestamps as ISO 8601 strings, so they serialize to JSON unchanged (the HTTP API returns them as is and
 * the console imports these types).
 */

// The episode vocabulary is the data module's (DESIGN.md, "Episode"); the catalog stores the same values.
import { CURRICULUM_PHASES, EPISODE_SOURCES } from '../../data/episode.ts';

export { CURRICULUM_PHASES, EPISODE_SOURCES };
export type EpisodeSource = (typeof EPISODE_SOURCES)[number];
export type CurriculumPhase = (typeof CURRICULUM_PHASES)[number];

export interface FieldInput {
  id: string;
  name: string;
}

export interface FieldRow extends FieldInput {
  createdAt: string;
  updatedAt: string;
}

export interface RobotInput {
  id: string;
  name: string;
  /** Embodiment (robot model) name, e.g. "so100-arm". */
  embodiment: string;
  /** Content hash of the embodiment description the robot ran with. */
  embodimentHash: string;
  vendor: string;
  /** Id of the training field the robot belongs to; the field row is created if it does not exist. */
  field: string;
}

export interface RobotRow extends RobotInput {
  /** Episodes of this robot in the catalog. */
  episodeCount: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Where a dataset's episodes are: 'lerobot', a LeRobot v3 directory at the dataset's path; 'blobs', transfer
 * bundles in the hub's content-addressed blob store rooted at the path (episodes that fields uploaded).
 */
export const DATASET_STORAGES = ['lerobot', 'blobs'] as const;
export type DatasetStorage = (typeof DATASET_STORAGES)[number];

export interface DatasetInput {
  name: string;
  /** Dataset root on disk: the LeRobot v3 directory, or the blob store's root for storage 'blobs'. */
  path: string;
  fps: number;
  /** LeRobot `robot_type` of the dataset. */
  robotType: string;
  /** Default 'lerobot'. */
  storage?: DatasetStorage;
}

export interface DatasetRow extends DatasetInput {
  storage: DatasetStorage;
  createdAt: string;
}

export interface EpisodeInput {
  /** Content hash of the episode; the primary key. */
  id: string;
  robotId: string;
  /** Index of the episode inside its dataset (LeRobot `episode_index`). */
  episodeIndex: number;
  task: string;
  /** Natural-language instruction given to the robot. */
  instruction: string;
  source: EpisodeSource;
  phase: CurriculumPhase;
  success: boolean;
  seed: number;
  /** Number of frames. */
  length: number;
  durationSec: number;
  /** When recording started: ISO 8601 string or Date. */
  recordedAt: string | Date;
  /** sha256 of the episode's transfer bundle in the blob store (with `blobBytes`; storage 'blobs' only). */
  blobSha256?: string;
  blobBytes?: number;
  /**
   * Quality verdict computed when the hub verified the episode's bundle (src/hub/ingest/quality.ts); absent
   * for episodes of LeRobot datasets, whose verdicts analytics compute from the dataset on disk.
   */
  qualityVerdict?: QualityVerdict;
  /** Names of the quality checks that failed (with `qualityVerdict`). */
  qualityFailed?: string[];
}

export const QUALITY_VERDICTS = ['pass', 'warn', 'fail'] as const;
export type QualityVerdict = (typeof QUALITY_VERDICTS)[number];

export interface EpisodeRow extends Omit<EpisodeInput, 'recordedAt' | 'qualityVerdict' | 'qualityFailed'> {
  datasetName: string;
  recordedAt: string;
}

export interface ListEpisodesOptions {
  limit: number;
  offset: number;
  robotId?: string;
}

/** Episodes for one dataset, for inserting several datasets' episodes in one transaction. */
export interface EpisodeGroup {
  dataset: string;
  episodes: EpisodeInput[];
}

export interface InsertEpisodesOptions {
  /**
   * false: the episodes are independent of each other (as the hub ingest's are: each is its own upload,
   * idempotent by id), so they need not commit all or none. On the embedded database, where a read waits
   * for the statement running, they then go in short statements each committed on its own, and reads get
   * in between; on PostgreSQL nothing changes. Default true.
   */
  atomic?: boolean;
}

export interface InsertEpisodesResult {
  /** Episodes newly added. */
  inserted: number;
  /** Episodes whose id was already in the catalog (or repeated in the batch): left as they were. */
  skipped: number;
}

export interface CatalogCounts {
  fields: number;
  robots: number;
  datasets: number;
  episodes: number;
  successfulEpisodes: number;
}

/**
 * Which episodes a dataset holds: every given condition must hold (AND); a list matches any of its values
 * (OR). The recorded range is half-open: recordedFrom <= recorded_at < recordedTo.
 */
export interface EpisodeFilter {
  robot?: string[];
  vendor?: string[];
  task?: string[];
  phase?: CurriculumPhase[];
  field?: string[];
  success?: boolean;
  /** ISO 8601 instant. */
  recordedFrom?: string;
  /** ISO 8601 instant. */
  recordedTo?: string;
}

/** An episode with what its robot and source dataset add: what analytics and dataset freezing work on. */
export interface EpisodeFact extends EpisodeRow {
  vendor: string;
  field: string;
  /** Root of the source dataset on disk that holds the episode (see `datasetStorage`). */
  datasetPath: string;
  datasetStorage: DatasetStorage;
  /** Stored quality verdict (episodes the hub ingested as bundles; see `EpisodeInput`), or absent. */
  qualityVerdict?: QualityVerdict;
  qualityFailed?: string[];
}

/** A dataset: a named, saved query over the catalog's episodes. */
export interface DatasetDefinitionRow {
  name: string;
  query: EpisodeFilter;
  createdAt: string;
  /** Frozen versions so far (the newest is number `versions`). */
  versions: number;
}

/** One frozen, immutable version of a dataset; `manifest` is the datasets module's manifest document. */
export interface DatasetVersionRow<M = unknown> {
  name: string;
  version: number;
  manifestSha256: string;
  episodeCount: number;
  frameCount: number;
  createdAt: string;
  manifest: M;
}
