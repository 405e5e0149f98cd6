/**
 * Facility analytics in DuckDB: the catalog's episode rows (with robot vendor and field) are appended into
 * an in-memory DuckDB table, the operator is read straight from each source dataset's
 * meta/tg_episodes.jsonl (LeRobot ignores that file; the catalog does not carry operators), and quality
 * verdicts come from the data module's checks: over the datasets' parquet frames for episodes of LeRobot
 * datasets, and as the catalog stores them for episodes the hub ingested as bundles (checked when their
 * bundle was verified, src/hub/ingest/quality.ts). Everything is then one GROUP BY.
 *
 * Data yield is accepted frames / checked frames (DESIGN.md "Quality": derived from verdicts, never typed
 * in). Episodes that cannot be checked (source dataset moved or deleted, or an upload stored before the
 * hub computed verdicts) count in episodes, frames and success, not in yield; `checkedFrames` says how
 * many frames the yield stands on.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { INFO_PATH, TG_EPISODES_PATH } from '../../data/lerobot/format.ts';
import { quoteString } from '../../data/lerobot/writer.ts';
import { UNKNOWN_LABEL, type Verdict, validateDataset } from '../../data/quality/index.ts';
import { TgError } from '../../errors/index.ts';
import type { Catalog, EpisodeFilterInput } from '../catalog/index.ts';
import type { EpisodeFact } from '../catalog/types.ts';

export const ANALYTICS_DIMENSIONS = ['robot', 'vendor', 'task', 'phase', 'operator', 'field'] as const;
export type AnalyticsDimension = (typeof ANALYTICS_DIMENSIONS)[number];
export const TIMELINE_BUCKETS = ['day', 'hour'] as const;
export type TimelineBucket = (typeof TIMELINE_BUCKETS)[number];

export interface AnalyticsRow {
  /** Value of the dimension (or the bucket start for a timeline); "unknown" when an episode lacks it. */
  key: string;
  episodes: number;
  successes: number;
  /** successes / episodes. */
  successRate: number | null;
  frames: number;
  /** Frames of episodes whose quality verdict is known. */
  checkedFrames: number;
  /** Frames of checked episodes whose verdict is not 'fail'. */
  acceptedFrames: number;
  /** acceptedFrames / checkedFrames; null when nothing could be checked. */
  yield: number | null;
}

export interface TimelineRow extends AnalyticsRow {
  /** ISO 8601 start of the bucket, UTC. */
  bucketStart: string;
}

/** Quality verdicts of a dataset's episodes by episode id (index as a fallback key, "#3"). */
export type VerdictSource = (datasetPath: string) => Promise<Map<string, Verdict> | null>;

export interface AnalyticsOptions {
  /** Where verdicts come from; default: the data module's checks, cached per dataset until it changes. */
  verdicts?: VerdictSource;
}

const COLUMN: Record<AnalyticsDimension, string> = {
  robot: 'robot',
  vendor: 'vendor',
  task: 'task',
  phase: 'phase',
  operator: 'operator',
  field: 'field',
};

export class Analytics {
  readonly #catalog: Catalog;
  readonly #verdicts: VerdictSource;

  constructor(catalog: Catalog, opts: AnalyticsOptions = {}) {
    this.#catalog = catalog;
    this.#verdicts = opts.verdicts ?? cachedQualityVerdicts();
  }

  /** Episodes, frames, success rate and yield per value of `by`, largest group first. */
  async breakdown(by: AnalyticsDimension, filter: EpisodeFilterInput = {}): Promise<AnalyticsRow[]> {
    if (!ANALYTICS_DIMENSIONS.includes(by)) {
      throw new TgError(
        'INPUT_INVALID',
        `cannot break down by ${JSON.stringify(by)}; use one of ${ANALYTICS_DIMENSIONS.join(', ')}`,
      );
    }
    return this.#withEpisodes(filter, async (db) => {
      const rows = await db.runAndReadAll(
        `SELECT coalesce(${COLUMN[by]}, ${quoteString(UNKNOWN_LABEL)}) AS key, ${AGGREGATES}
         FROM facts GROUP BY 1 ORDER BY episodes DESC, key`,
      );
      return rows.getRowObjectsJS().map(toRow);
    });
  }

  /** The same numbers per UTC day or hour of recording, oldest first (buckets without episodes omitted). */
  async timeline(bucket: TimelineBucket, filter: EpisodeFilterInput = {}): Promise<TimelineRow[]> {
    if (!TIMELINE_BUCKETS.includes(bucket)) {
      throw new TgError('INPUT_INVALID', `bucket must be one of ${TIMELINE_BUCKETS.join(', ')}`);
    }
    return this.#withEpisodes(filter, async (db) => {
      const rows = await db.runAndReadAll(
        `SELECT strftime(date_trunc('${bucket}', recorded_at), '%Y-%m-%dT%H:%M:%S.000Z') AS key, ${AGGREGATES}
         FROM facts GROUP BY 1 ORDER BY 1`,
      );
      return rows.getRowObjectsJS().map((r) => {
        const row = toRow(r);
        return { ...row, bucketStart: row.key };
      });
    });
  }

  async #withEpisodes<T>(filter: EpisodeFilterInput, fn: (db: DuckDBConnection) => Promise<T>): Promise<T> {
    const facts = await this.#catalog.selectEpisodes(filter);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await loadFacts(db, facts, this.#verdicts);
      return await fn(db);
    } catch (err) {
      if (err instanceof TgError) throw err;
      throw new TgError('STORAGE_FAILED', `analytics query failed: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  }
}

const AGGREGATES = `
  count(*)::INTEGER AS episodes,
  count(*) FILTER (WHERE success)::INTEGER AS successes,
  sum(frames)::BIGINT AS frames,
  coalesce(sum(frames) FILTER (WHERE verdict IS NOT NULL), 0)::BIGINT AS checked_frames,
  coalesce(sum(frames) FILTER (WHERE verdict IS NOT NULL AND verdict <> 'fail'), 0)::BIGINT AS accepted_frames`;

function toRow(r: Record<string, unknown>): AnalyticsRow {
  const episodes = Number(r.episodes);
  const successes = Number(r.successes);
  const checkedFrames = Number(r.checked_frames);
  const acceptedFrames = Number(r.accepted_frames);
  return {
    key: String(r.key),
    episodes,
    successes,
    successRate: episodes > 0 ? successes / episodes : null,
    frames: Number(r.frames),
    checkedFrames,
    acceptedFrames,
    yield: checkedFrames > 0 ? acceptedFrames / checkedFrames : null,
  };
}

/** Fills table `facts`: catalog rows, operators from tg_episodes.jsonl, verdicts from quality checks. */
async function loadFacts(
  db: DuckDBConnection,
  facts: readonly EpisodeFact[],
  verdicts: VerdictSource,
): Promise<void> {
  await db.run(`CREATE TABLE episodes (
    id VARCHAR, dataset_path VARCHAR, episode_index INTEGER, robot VARCHAR, vendor VARCHAR, task VARCHAR,
    phase VARCHAR, field VARCHAR, success BOOLEAN, frames BIGINT, recorded_us BIGINT, verdict VARCHAR)`);
  // Verdicts from the files only for LeRobot datasets: a blob store holds no dataset to check, and its
  // episodes carry the verdict stored when they were ingested.
  const byPath = new Map<string, Map<string, Verdict> | null>();
  for (const f of facts) {
    if (f.datasetStorage !== 'blobs' && !byPath.has(f.datasetPath)) byPath.set(f.datasetPath, null);
  }
  for (const p of byPath.keys()) byPath.set(p, await verdicts(p).catch(() => null));
  const appender = await db.createAppender('episodes');
  for (const f of facts) {
    const v = byPath.get(f.datasetPath);
    const verdict = f.qualityVerdict ?? v?.get(f.id) ?? v?.get(`#${f.episodeIndex}`) ?? null;
    appender.appendVarchar(f.id);
    appender.appendVarchar(f.datasetPath);
    appender.appendInteger(f.episodeIndex);
    appender.appendVarchar(f.robotId);
    appender.appendVarchar(f.vendor);
    appender.appendVarchar(f.task);
    appender.appendVarchar(f.phase);
    appender.appendVarchar(f.field);
    appender.appendBoolean(f.success);
    appender.appendBigInt(BigInt(f.length));
    appender.appendBigInt(BigInt(Date.parse(f.recordedAt)) * 1000n);
    if (verdict === null) appender.appendNull();
    else appender.appendVarchar(verdict);
    appender.endRow();
  }
  appender.closeSync();

  const jsonl: string[] = [];
  for (const p of byPath.keys()) {
    if (await exists(path.join(p, TG_EPISODES_PATH))) jsonl.push(path.join(p, TG_EPISODES_PATH));
  }
  const operators = jsonl.length
    ? `SELECT DISTINCT ON (id) id, operator FROM read_json([${jsonl.map(quoteString).join(', ')}],
         format = 'newline_delimited', columns = {id: 'VARCHAR', operator: 'VARCHAR'})`
    : 'SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS operator WHERE false';
  await db.run(`CREATE TABLE facts AS
    SELECT e.*, nullif(o.operator, '') AS operator, make_timestamp(e.recorded_us) AS recorded_at
    FROM episodes e LEFT JOIN (${operators}) o ON o.id = e.id`);
}

/**
 * Verdicts from `validateDataset` (src/data/quality), remembered per dataset until its info.json changes
 * (datasets are written once and renamed into place, so a new dataset means a new info.json).
 */
export function cachedQualityVerdicts(): VerdictSource {
  const cache = new Map<string, { stamp: number; verdicts: Map<string, Verdict> }>();
  return async (datasetPath) => {
    let stamp: number;
    try {
      stamp = (await stat(path.join(datasetPath, INFO_PATH))).mtimeMs;
    } catch {
      return null;
    }
    const hit = cache.get(datasetPath);
    if (hit && hit.stamp === stamp) return hit.verdicts;
    const report = await validateDataset(datasetPath);
    const verdicts = new Map<string, Verdict>();
    for (const e of report.episodes) {
      verdicts.set(`#${e.episodeIndex}`, e.verdict);
      if (e.id) verdicts.set(e.id, e.verdict);
    }
    cache.set(datasetPath, { stamp, verdicts });
    return verdicts;
  };
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );
