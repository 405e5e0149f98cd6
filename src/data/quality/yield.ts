/**
 * Data yield: accepted frames / recorded frames, from episode verdicts (an episode is accepted unless its
 * verdict is 'fail'). Always computed from the verdicts, never stored or typed in.
 */
import type { Verdict } from './checks.ts';

export const YIELD_DIMENSIONS = ['robot', 'vendor', 'task', 'phase', 'operator'] as const;
export type YieldDimension = (typeof YIELD_DIMENSIONS)[number];

/** Label used when an episode does not carry a dimension's value. */
export const UNKNOWN_LABEL = 'unknown';

export interface EpisodeVerdictRecord {
  lengthFrames: number;
  verdict: Verdict;
  labels: Partial<Record<YieldDimension, string | null | undefined>>;
}

export interface YieldBucket {
  episodes: number;
  acceptedEpisodes: number;
  recordedFrames: number;
  acceptedFrames: number;
  /** acceptedFrames / recordedFrames; null when nothing was recorded. */
  yield: number | null;
}

export interface DataYield extends YieldBucket {
  /** The same numbers per value of each dimension (e.g. by.robot['arm7-a']). */
  by: Record<YieldDimension, Record<string, YieldBucket>>;
}

function emptyBucket(): YieldBucket {
  return { episodes: 0, acceptedEpisodes: 0, recordedFrames: 0, acceptedFrames: 0, yield: null };
}

function add(bucket: YieldBucket, r: EpisodeVerdictRecord): void {
  const accepted = r.verdict !== 'fail';
  bucket.episodes++;
  bucket.recordedFrames += r.lengthFrames;
  if (accepted) {
    bucket.acceptedEpisodes++;
    bucket.acceptedFrames += r.lengthFrames;
  }
}

function finish(bucket: YieldBucket): void {
  bucket.yield = bucket.recordedFrames > 0 ? bucket.acceptedFrames / bucket.recordedFrames : null;
}

export function computeYield(records: readonly EpisodeVerdictRecord[]): DataYield {
  const total = emptyBucket();
  const by = Object.fromEntries(YIELD_DIMENSIONS.map((d) => [d, {}])) as DataYield['by'];
  for (const r of records) {
    add(total, r);
    for (const d of YIELD_DIMENSIONS) {
      const raw = r.labels[d];
      const key = typeof raw === 'string' && raw.length > 0 ? raw : UNKNOWN_LABEL;
      const buckets = by[d];
      const bucket = buckets[key] ?? emptyBucket();
      buckets[key] = bucket;
      add(bucket, r);
    }
  }
  finish(total);
  for (const d of YIELD_DIMENSIONS) for (const b of Object.values(by[d])) finish(b);
  return { ...total, by };
}
