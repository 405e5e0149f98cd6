/**
 * LeRobot dataset format v3.0, as LeRobot (>= v0.4.0) reads it. The layout on disk:
 *
 *   meta/info.json                                  DatasetInfo (below): counts, fps, paths, features
 *   meta/stats.json                                 {feature: {min,max,mean,std,count,q01,q10,q50,q90,q99}}
 *   meta/tasks.parquet                              pandas frame: index "task" (string), column task_index
 *   meta/episodes/chunk-000/file-000.parquet        one row per episode (columns: EPISODE_COLUMNS + stats/*)
 *   data/chunk-{c:03d}/file-{f:03d}.parquet         frames; a file holds whole episodes, one row group each
 *   meta/tg_episodes.jsonl                          Training Ground's own episode metadata (LeRobot ignores it)
 *
 * Sources: lerobot/datasets/utils.py (paths, DEFAULT_CHUNK_SIZE=1000, DEFAULT_DATA_FILE_SIZE_IN_MB=100,
 * DEFAULT_VIDEO_FILE_SIZE_IN_MB=200, update_chunk_file_indices), lerobot/utils/constants.py (DEFAULT_FEATURES),
 * feature_utils.py (create_empty_dataset_info, get_hf_features_from_features), dataset_metadata.py
 * (save_episode, save_episode_tasks, _save_episode_metadata), dataset_writer.py (_save_episode_data),
 * compute_stats.py (RunningQuantileStats, aggregate_stats).
 *
 * Data parquet columns are exactly the non-video features in info.json order (LeRobot casts the table to
 * its declared features and refuses any other column set). A shape-[1] feature is a scalar column
 * (datasets.Value); a shape-[n] feature is a list of n float32 (datasets.List with length n).
 */

export const CODEBASE_VERSION = 'v3.0';
export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_DATA_FILE_SIZE_IN_MB = 100;
export const DEFAULT_VIDEO_FILE_SIZE_IN_MB = 200;

export const INFO_PATH = 'meta/info.json';
export const STATS_PATH = 'meta/stats.json';
export const TASKS_PATH = 'meta/tasks.parquet';
export const EPISODES_DIR = 'meta/episodes';
export const DATA_DIR = 'data';
/** Training Ground's per-episode metadata, one JSON object per line in episode_index order. */
export const TG_EPISODES_PATH = 'meta/tg_episodes.jsonl';

export const DEFAULT_DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const DEFAULT_EPISODES_PATH = 'meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const DEFAULT_VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';

export const MIB = 1024 * 1024;

export type FeatureDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string' | 'image' | 'video';

export interface FeatureSpec {
  dtype: FeatureDtype | string;
  shape: number[];
  names: string[] | null | Record<string, unknown>;
  info?: Record<string, unknown>;
}

/** The features a Training Ground writer accepts from its caller: float32 vectors. */
export interface VectorFeatureSpec {
  dtype: 'float32';
  shape: [number];
  names: string[];
}

/** An `image` feature (see ./image.ts depthFeatureSpec): one encoded image per frame, shape [h, w, c]. */
export interface ImageFeatureSpec {
  dtype: 'image';
  shape: [number, number, number];
  names: string[];
  info?: Record<string, unknown>;
}

/** What a Training Ground writer accepts as a feature. */
export type WriterFeatureSpec = VectorFeatureSpec | ImageFeatureSpec;

/** HF `datasets` feature description of an image column (struct {bytes, path}). */
export const HF_IMAGE_FEATURE = { _type: 'Image' } as const;

/** Added to every dataset's features, after the caller's, exactly as LeRobot declares them. */
export const DEFAULT_FEATURES = {
  timestamp: { dtype: 'float32', shape: [1], names: null },
  frame_index: { dtype: 'int64', shape: [1], names: null },
  episode_index: { dtype: 'int64', shape: [1], names: null },
  index: { dtype: 'int64', shape: [1], names: null },
  task_index: { dtype: 'int64', shape: [1], names: null },
} as const satisfies Record<string, FeatureSpec>;

export type DefaultFeatureName = keyof typeof DEFAULT_FEATURES;
export const DEFAULT_FEATURE_NAMES = Object.keys(DEFAULT_FEATURES) as DefaultFeatureName[];

/** meta/info.json (key order as LeRobot v0.4's create_empty_dataset_info writes it). */
export interface DatasetInfo {
  codebase_version: string;
  robot_type: string | null;
  total_episodes: number;
  total_frames: number;
  total_tasks: number;
  chunks_size: number;
  data_files_size_in_mb: number;
  video_files_size_in_mb: number;
  fps: number;
  splits: Record<string, string>;
  data_path: string;
  video_path: string | null;
  features: Record<string, FeatureSpec>;
}

/** Stat names in the order compute_stats.py produces them. */
export const STAT_NAMES = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'] as const;
export type StatName = (typeof STAT_NAMES)[number];
export type FeatureStats = Record<StatName, number[]>;

/** Fixed columns of meta/episodes/*.parquet before the stats/<feature>/<stat> columns. */
export const EPISODE_COLUMNS = [
  'episode_index',
  'tasks',
  'length',
  'data/chunk_index',
  'data/file_index',
  'dataset_from_index',
  'dataset_to_index',
] as const;

/** Expands a LeRobot path template ('{chunk_index:03d}' style). */
export function formatPath(template: string, values: Record<string, number | string>): string {
  return template.replace(/\{(\w+)(?::0(\d+)d)?\}/g, (match, key: string, width: string | undefined) => {
    const value = values[key];
    if (value === undefined) return match;
    return width === undefined ? String(value) : String(value).padStart(Number(width), '0');
  });
}

/** lerobot/datasets/utils.py update_chunk_file_indices: files fill a chunk, then the next chunk starts. */
export function nextChunkFile(chunk: number, file: number, chunksSize: number): [number, number] {
  return file === chunksSize - 1 ? [chunk + 1, 0] : [chunk, file + 1];
}

/** True when the feature is stored as one scalar column per frame (shape [1]). */
export function isScalarFeature(spec: { shape: readonly number[] }): boolean {
  return spec.shape.length === 1 && spec.shape[0] === 1;
}

/** Hugging Face `datasets` feature description (what datasets >= 4 writes in the "huggingface" metadata). */
export function hfFeature(spec: { dtype: string; shape: readonly number[] }): Record<string, unknown> {
  if (spec.dtype === 'image') return { ...HF_IMAGE_FEATURE };
  const value = { dtype: spec.dtype, _type: 'Value' };
  if (isScalarFeature(spec)) return value;
  return { feature: value, length: spec.shape[0], _type: 'List' };
}
