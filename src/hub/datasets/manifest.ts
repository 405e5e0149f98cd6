/**
 * The manifest of a frozen dataset version: exactly which episodes it holds (by content hash), where each
 * one lives, its train/val split and the counts. Stored in the catalog (dataset_versions.manifest) and
 * written next to an export as meta/tg_dataset_version.json.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../data/episode.ts';
import type { DatasetStorage, EpisodeFact, EpisodeFilter } from '../catalog/types.ts';

export const MANIFEST_FORMAT = 'tg-dataset-manifest/1';
export const SPLITS = ['train', 'val'] as const;
export type SplitName = (typeof SPLITS)[number];

/** Share of episodes that go to val when the caller does not say. */
export const DEFAULT_VAL_FRACTION = 0.1;

export interface ManifestEpisode {
  /** Content hash of the episode (its catalog id). */
  id: string;
  /** Source dataset (catalog name) and the episode's index in it. */
  dataset: string;
  episodeIndex: number;
  robot: string;
  task: string;
  success: boolean;
  length: number;
  recordedAt: string;
  split: SplitName;
  /** sha256 of the episode's bundle in the blob store, for an episode a field uploaded. */
  blobSha256?: string;
}

export interface SplitCounts {
  episodes: number;
  frames: number;
}

export interface DatasetManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  version: number;
  query: EpisodeFilter;
  valFraction: number;
  /** sha256 over the sorted episode ids: equal for two versions exactly when they hold the same episodes. */
  contentSha256: string;
  counts: { episodes: number; frames: number; successes: number } & Record<SplitName, SplitCounts>;
  /** `storage` is absent in manifests frozen before the hub kept uploads in its blob store ('lerobot'). */
  sources: { dataset: string; path: string; storage?: DatasetStorage; episodes: number }[];
  splits: Record<SplitName, string[]>;
  /** In the order an export writes them: train then val, each by source dataset then episode index. */
  episodes: ManifestEpisode[];
}

/**
 * The split an episode belongs to, from its id alone: the first 32 bits of sha256("tg-split\0" + id) as a
 * fraction of 2^32, below `valFraction` -> val. The same episode lands in the same split in every dataset
 * and version, so a later, larger version never moves a training episode into validation.
 */
export function splitOf(episodeId: string, valFraction: number): SplitName {
  const h = createHash('sha256').update(`tg-split\0${episodeId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < valFraction ? 'val' : 'train';
}

/** Builds the manifest of version `version` over `facts` (the episodes the query matched). */
export function buildManifest(
  name: string,
  version: number,
  query: EpisodeFilter,
  valFraction: number,
  facts: readonly EpisodeFact[],
): DatasetManifest {
  const sourceOrder = [...new Set(facts.map((f) => f.datasetName))].sort();
  const rank = (f: EpisodeFact) => sourceOrder.indexOf(f.datasetName);
  const episodes: ManifestEpisode[] = facts
    .map((f) => ({
      id: f.id,
      dataset: f.datasetName,
      episodeIndex: f.episodeIndex,
      robot: f.robotId,
      task: f.task,
      success: f.success,
      length: f.length,
      recordedAt: f.recordedAt,
      split: splitOf(f.id, valFraction),
      ...(f.blobSha256 ? { blobSha256: f.blobSha256 } : {}),
      rank: rank(f),
    }))
    .sort(
      (a, b) =>
        SPLITS.indexOf(a.split) - SPLITS.indexOf(b.split) ||
        a.rank - b.rank ||
        a.episodeIndex - b.episodeIndex,
    )
    .map(({ rank: _rank, ...e }) => e);
  const count = (split: SplitName): SplitCounts => {
    const part = episodes.filter((e) => e.split === split);
    return { episodes: part.length, frames: part.reduce((s, e) => s + e.length, 0) };
  };
  const paths = new Map(facts.map((f) => [f.datasetName, f.datasetPath]));
  const storages = new Map(facts.map((f) => [f.datasetName, f.datasetStorage]));
  return {
    format: MANIFEST_FORMAT,
    name,
    version,
    query,
    valFraction,
    contentSha256: sha256Hex(
      episodes
        .map((e) => e.id)
        .sort()
        .join('\n'),
    ),
    counts: {
      episodes: episodes.length,
      frames: episodes.reduce((s, e) => s + e.length, 0),
      successes: episodes.filter((e) => e.success).length,
      train: count('train'),
      val: count('val'),
    },
    sources: sourceOrder.map((dataset) => ({
      dataset,
      path: paths.get(dataset) ?? '',
      storage: storages.get(dataset) ?? 'lerobot',
      episodes: episodes.filter((e) => e.dataset === dataset).length,
    })),
    splits: {
      train: episodes.filter((e) => e.split === 'train').map((e) => e.id),
      val: episodes.filter((e) => e.split === 'val').map((e) => e.id),
    },
    episodes,
  };
}

/** sha256 of the manifest's canonical JSON (keys sorted), the integrity check stored beside it. */
export function manifestSha256(manifest: DatasetManifest): string {
  return sha256Hex(canonicalJson(manifest));
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
