/**
 * Dataset surgery on LeRobot v3.0 datasets (layout: ./format.ts): merge, filter (and delete), split. The
 * counterparts of lerobot/datasets/aggregate.py (aggregate_datasets) and dataset_tools.py (delete_episodes,
 * split_dataset).
 *
 * Every operation writes a NEW dataset: everything goes into a hidden sibling directory that is renamed into
 * place at the end, so the output path holds either nothing or a complete dataset. Inputs are only read.
 *
 * The output is re-indexed as LeRobot expects: episode_index 0..n-1 in output order, the global `index`
 * contiguous from 0, task_index into a merged task table (tasks are matched by their string), and
 * dataset_from/to_index, data/chunk_index and data/file_index recomputed for the new data files (one row
 * group per episode, rolled over by size like the writer). Per-episode stats are taken from the inputs'
 * episodes metadata where present (episode_index, index and task_index stats are recomputed, since their
 * values change); an episode without stored stats is recomputed from its frames. stats.json is aggregated
 * from the per-episode stats (./stats.ts).
 *
 * `image` features (depth maps, ./image.ts) are carried through: their {bytes, path} struct column is copied
 * row for row with its frames, and their stats (per channel, nested [c][1][1] in meta/episodes and
 * stats.json as LeRobot keeps them) are read flat, aggregated like any feature's (count = frames, every
 * frame the same size) and nested again on output. `video` features are refused: their frames live in mp4
 * files that surgery would have to cut and re-encode.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TgError } from '../../errors/index.ts';
import { DataFileNames, DataFiles } from './data-files.ts';
import {
  type DatasetInfo,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DATA_FILE_SIZE_IN_MB,
  DEFAULT_DATA_PATH,
  DEFAULT_FEATURE_NAMES,
  EPISODES_DIR,
  type FeatureStats,
  formatPath,
  INFO_PATH,
  isScalarFeature,
  STAT_NAMES,
  STATS_PATH,
  TG_EPISODES_PATH,
} from './format.ts';
import { decodeDepthPng, flatDepthStats, nestImageStats } from './image.ts';
import { parseParquet } from './parquet-concat.ts';
import { type LeRobotDataset, readLeRobotDataset } from './reader.ts';
import { aggregateStats, computeFeatureStats } from './stats.ts';
import {
  type EpisodeRow,
  hfMetadata,
  quoteIdent,
  quoteString,
  writeEpisodesParquet,
  writeTasksParquet,
} from './writer.ts';

/**
 * What a filter keeps: a predicate over the input's episodes, a list of episode indices to keep, or a
 * query. Listed indices must exist.
 */
export type EpisodeSelection = ((episode: EpisodeSummary) => boolean) | readonly number[] | EpisodeQuery;

/** Episodes by index, task and Training Ground label; every given condition must hold. */
export interface EpisodeQuery {
  /** Keep only these episode indices (each must exist). */
  episodes?: readonly number[];
  /** Leave these episode indices out (each must exist). */
  exclude?: readonly number[];
  /** Keep episodes with any of these LeRobot tasks (each must be one of the dataset's tasks). */
  tasks?: readonly string[];
  /**
   * Keep episodes whose meta/tg_episodes.jsonl entry has every key equal to the value, compared as text
   * (success=true, phase=drill, robot=arm-1). Each key must occur in the dataset's metadata.
   */
  where?: Readonly<Record<string, string>>;
}

/** How the output is written and watched; every field is optional. */
export interface SurgeryOptions {
  /** Files per chunk directory of the output (default: the first input's chunks_size). */
  chunksSize?: number;
  /** Data file size limit of the output in MB (default: the first input's data_files_size_in_mb). */
  dataFilesSizeInMb?: number;
  /**
   * Carry Training Ground's episode metadata (meta/tg_episodes.jsonl: operator, seed, labels) over
   * (default true); false writes only what LeRobot itself defines.
   */
  tgMetadata?: boolean;
  /** Called after each episode is copied, with the episodes done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops before the next episode with TgError('INTERRUPTED'); nothing is left behind. */
  signal?: AbortSignal;
}

/** An input episode as a filter predicate sees it. */
export interface EpisodeSummary {
  episodeIndex: number;
  length: number;
  tasks: string[];
  /** Training Ground's own metadata for the episode (meta/tg_episodes.jsonl), when the dataset has it. */
  tg: Record<string, unknown> | null;
}

/** Split by fractions of the episodes (in episode order), or by explicit episode index lists. */
export type SplitSpec = Record<string, number> | Record<string, readonly number[]>;

export interface SurgeryResult {
  dir: string;
  episodes: number;
  frames: number;
  tasks: number;
  /** Data files written (the parquet files under data/). */
  dataFiles: number;
  /** For a filter or split: the input episode index of each output episode, in order. */
  sourceEpisodes?: number[];
}

/** One input episode to copy into the output. */
interface Pick {
  source: number;
  episodeIndex: number;
}

function invalid(message: string): TgError {
  return new TgError('INPUT_INVALID', `dataset surgery: ${message}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function refuseExisting(path: string): Promise<void> {
  if (await exists(path)) throw new TgError('STORAGE_FAILED', `dataset surgery: ${path} already exists`);
}

/** The output may not land inside an input (it would become part of the dataset being read). */
function refuseNested(inputs: readonly string[], out: string): void {
  const target = resolve(out);
  for (const input of inputs) {
    const dir = resolve(input);
    if (target === dir || target.startsWith(`${dir}${sep}`))
      throw invalid(`the output ${out} lies inside the input dataset ${input}`);
  }
}

function checkOptions(opts: SurgeryOptions): void {
  const { chunksSize, dataFilesSizeInMb } = opts;
  if (chunksSize !== undefined && !(Number.isInteger(chunksSize) && chunksSize >= 1))
    throw invalid(`chunks size must be a whole number of files >= 1, got ${chunksSize}`);
  if (dataFilesSizeInMb !== undefined && !(Number.isFinite(dataFilesSizeInMb) && dataFilesSizeInMb > 0))
    throw invalid(`data file size must be a positive number of MB, got ${dataFilesSizeInMb}`);
}

function interrupted(): TgError {
  return new TgError('INTERRUPTED', 'dataset surgery: interrupted; nothing was written');
}

function stagingPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes into a hidden sibling of `target`, then renames it into place; nothing remains on failure. */
async function atomically<T>(target: string, build: (staging: string) => Promise<T>): Promise<T> {
  await refuseExisting(target);
  const staging = stagingPath(target);
  try {
    const out = await build(staging);
    if (await exists(target))
      throw new TgError('STORAGE_FAILED', `dataset surgery: ${target} appeared while writing`);
    await rename(staging, target);
    return out;
  } catch (cause) {
    await rm(staging, { recursive: true, force: true });
    if (cause instanceof TgError) throw cause;
    throw new TgError('STORAGE_FAILED', `dataset surgery: writing ${target}: ${String(cause)}`, { cause });
  }
}

async function openAll(inputs: readonly string[]): Promise<LeRobotDataset[]> {
  const out: LeRobotDataset[] = [];
  try {
    for (const dir of inputs) out.push(await readLeRobotDataset(dir));
    return out;
  } catch (err) {
    for (const ds of out) ds.close();
    throw err;
  }
}

/** The features' JSON, for comparing two datasets' declarations. */
function featuresKey(info: DatasetInfo): string {
  return JSON.stringify(
    Object.entries(info.features).map(([name, f]) => [name, f.dtype, f.shape, f.names ?? null]),
  );
}

function checkSupported(ds: LeRobotDataset): void {
  for (const [name, spec] of Object.entries(ds.info.features)) {
    if (spec.dtype === 'video')
      throw invalid(
        `${ds.dir}: feature ${name} is video; surgery handles frame data and image features only (video frames live in mp4 files it does not cut)`,
      );
  }
  for (const name of DEFAULT_FEATURE_NAMES) {
    if (!(name in ds.info.features)) throw invalid(`${ds.dir}: feature ${name} is missing from info.json`);
  }
}

function checkCompatible(datasets: readonly LeRobotDataset[]): void {
  const first = datasets[0] as LeRobotDataset;
  for (const ds of datasets.slice(1)) {
    if (ds.info.fps !== first.info.fps)
      throw invalid(`cannot merge ${ds.dir} (fps ${ds.info.fps}) into ${first.dir} (fps ${first.info.fps})`);
    if (featuresKey(ds.info) !== featuresKey(first.info)) {
      const a = Object.keys(first.info.features).join(', ');
      const b = Object.keys(ds.info.features).join(', ');
      throw invalid(
        `cannot merge ${ds.dir} into ${first.dir}: features differ (names, order, dtype, shape or names lists): [${b}] vs [${a}]`,
      );
    }
  }
}

/** The `image` features of a dataset, in info.json order. */
function imageFeatureNames(info: DatasetInfo): string[] {
  return Object.entries(info.features)
    .filter(([, spec]) => spec.dtype === 'image')
    .map(([name]) => name);
}

/**
 * Per-episode stats from meta/episodes (stats/<feature>/<stat> columns), null where an episode has none.
 * Image stats, stored per channel as [c][1][1], come back flat ([c]).
 */
async function readEpisodeStats(
  db: DuckDBConnection,
  ds: LeRobotDataset,
): Promise<(Record<string, FeatureStats> | null)[]> {
  const glob = join(ds.dir, EPISODES_DIR, '*', '*.parquet');
  const rows = (
    await db.runAndReadAll(
      `SELECT * FROM read_parquet(${quoteString(glob)}, union_by_name=true) ORDER BY episode_index`,
    )
  ).getRowObjectsJS() as Record<string, unknown>[];
  const features = Object.keys(ds.info.features);
  return rows.map((row) => {
    const out: Record<string, FeatureStats> = {};
    for (const f of features) {
      const stats = {} as FeatureStats;
      for (const s of STAT_NAMES) {
        const v = row[`stats/${f}/${s}`];
        if (!Array.isArray(v)) return null;
        stats[s] = (v as unknown[]).flat(2).map(Number);
      }
      out[f] = stats;
    }
    return out;
  });
}

/** Stats of a column holding one value (computed, so the quantiles match what the writer stores). */
function constantStats(value: number, frames: number): FeatureStats {
  return computeFeatureStats(new Float64Array(frames).fill(value), frames, 1);
}

/**
 * Copies the picked episodes, in order, into a new dataset at `staging`. `sources` must be compatible
 * (checked by the callers). Returns what the new dataset holds.
 */
async function writeSubset(
  sources: readonly LeRobotDataset[],
  picks: readonly Pick[],
  staging: string,
  db: DuckDBConnection,
  storedStats: readonly (Record<string, FeatureStats> | null)[][],
  opts: SurgeryOptions,
): Promise<Omit<SurgeryResult, 'dir'>> {
  if (picks.length === 0)
    throw invalid('no episodes selected; LeRobot cannot open an empty dataset, so none is written');
  const first = sources[0] as LeRobotDataset;
  const info = first.info;
  const features = info.features;
  const columns = Object.entries(features)
    .filter(([, spec]) => spec.dtype !== 'video')
    .map(([name]) => name);
  const work = join(staging, '.work');
  await mkdir(work, { recursive: true });

  // Tasks matched by string, numbered in order of first use.
  const tasks = new Map<string, number>();
  const taskOf = (task: string): number => {
    let i = tasks.get(task);
    if (i === undefined) {
      i = tasks.size;
      tasks.set(task, i);
    }
    return i;
  };

  const kv = quoteString(hfMetadata(features));
  const chunksSize = opts.chunksSize ?? info.chunks_size;
  const fileSizeInMb = opts.dataFilesSizeInMb ?? info.data_files_size_in_mb;
  const fileNames = new DataFileNames(staging, chunksSize);
  const dataFiles = new DataFiles(fileNames, fileSizeInMb);
  const rows: EpisodeRow[] = [];
  const tgLines: string[] = [];
  const withTg = opts.tgMetadata !== false && sources.every((s) => s.tgEpisodes !== null);
  let total = 0;
  try {
    for (let e = 0; e < picks.length; e++) {
      if (opts.signal?.aborted) throw interrupted();
      const pick = picks[e] as Pick;
      const ds = sources[pick.source] as LeRobotDataset;
      const ep = ds.episodes[pick.episodeIndex];
      if (!ep) throw invalid(`${ds.dir}: no episode ${pick.episodeIndex}`);
      // Data task_index values map through the task strings (only the episode's own tasks are carried
      // over, so tasks no kept episode uses are dropped); any other value fails the COPY.
      for (const t of ep.tasks) taskOf(t);
      const cases = ds.tasks
        .filter((t) => ep.tasks.includes(t.task))
        .map((t) => `WHEN ${t.taskIndex} THEN ${taskOf(t.task)}`);
      const taskExpr =
        `CASE task_index ${cases.join(' ')} ELSE error('episode ${pick.episodeIndex}: task_index ' || ` +
        `task_index || ' is not one of its tasks') END`;
      const shift = total - ep.datasetFromIndex;
      const src = join(
        ds.dir,
        formatPath(ds.info.data_path, { chunk_index: ep.dataChunkIndex, file_index: ep.dataFileIndex }),
      );
      const select = columns
        .map((c) => {
          if (c === 'episode_index') return `${e}::BIGINT AS episode_index`;
          if (c === 'index') return `("index" + ${shift})::BIGINT AS "index"`;
          if (c === 'task_index') return `(${taskExpr})::BIGINT AS task_index`;
          return quoteIdent(c);
        })
        .join(', ');
      const part = join(work, `episode-${e}.parquet`);
      await db.run(
        `COPY (SELECT ${select} FROM read_parquet(${quoteString(src)}) WHERE episode_index = ${pick.episodeIndex} ` +
          `ORDER BY frame_index) TO ${quoteString(part)} (FORMAT parquet, COMPRESSION snappy, ` +
          `ROW_GROUP_SIZE 2147483647, KV_METADATA {huggingface: ${kv}})`,
      );
      const parsed = parseParquet(await readFile(part));
      await rm(part, { force: true });
      if (parsed.numRows !== ep.length)
        throw invalid(
          `${src}: episode ${pick.episodeIndex} has ${parsed.numRows} frames, metadata says ${ep.length}`,
        );
      if (parsed.rowGroups.length !== 1)
        throw new Error(`DuckDB wrote ${parsed.rowGroups.length} row groups for one episode`);
      const at = await dataFiles.append(parsed, 0);

      const stats = await episodeStats(ds, pick, storedStats[pick.source]?.[pick.episodeIndex] ?? null);
      stats.episode_index = constantStats(e, ep.length);
      const index = new Float64Array(ep.length);
      for (let f = 0; f < ep.length; f++) index[f] = total + f;
      stats.index = computeFeatureStats(index, ep.length, 1);
      const taskStats = stats.task_index;
      if (taskStats && taskStats.min[0] === taskStats.max[0]) {
        const old = ds.tasks.find((t) => t.taskIndex === taskStats.min[0]);
        stats.task_index = constantStats(old ? taskOf(old.task) : (taskStats.min[0] as number), ep.length);
      } else {
        stats.task_index = await columnStats(db, src, pick.episodeIndex, taskExpr, ep.length);
      }
      rows.push({
        episode_index: e,
        tasks: ep.tasks,
        length: ep.length,
        'data/chunk_index': at.chunk,
        'data/file_index': at.file,
        dataset_from_index: total,
        dataset_to_index: total + ep.length,
        stats,
      });
      if (withTg) {
        const tg = ds.tgEpisodes?.[pick.episodeIndex] ?? {};
        tgLines.push(JSON.stringify({ ...tg, episode_index: e }));
      }
      total += ep.length;
      opts.onProgress?.(e + 1, picks.length);
    }
    await dataFiles.finish();
  } catch (err) {
    await dataFiles.abort();
    throw err;
  }

  await writeTasksParquet(db, staging, tasks);
  const imageNames = imageFeatureNames(info);
  await writeEpisodesParquet(db, staging, Object.keys(features), rows, imageNames);
  const robotTypes = new Set(sources.map((s) => s.info.robot_type));
  const outInfo: DatasetInfo = {
    ...info,
    robot_type: robotTypes.size === 1 ? info.robot_type : null,
    total_episodes: rows.length,
    total_frames: total,
    total_tasks: tasks.size,
    chunks_size: chunksSize,
    data_files_size_in_mb: fileSizeInMb,
    splits: { train: `0:${rows.length}` },
    data_path: DEFAULT_DATA_PATH,
  };
  const datasetStats: Record<string, unknown> = aggregateStats(rows.map((r) => r.stats));
  for (const name of imageNames) datasetStats[name] = nestImageStats(datasetStats[name] as FeatureStats);
  await writeFile(join(staging, STATS_PATH), `${JSON.stringify(datasetStats, null, 4)}\n`);
  await writeFile(join(staging, INFO_PATH), `${JSON.stringify(outInfo, null, 4)}\n`);
  if (withTg) await writeFile(join(staging, TG_EPISODES_PATH), `${tgLines.join('\n')}\n`);
  await rm(work, { recursive: true, force: true });
  return { episodes: rows.length, frames: total, tasks: tasks.size, dataFiles: fileNames.count };
}

/**
 * The episode's stored stats, or (where the input has none) stats computed from its frames; an image
 * feature's from its decoded depth frames as the writer computes them (one-channel 16-bit depth only).
 */
async function episodeStats(
  ds: LeRobotDataset,
  pick: Pick,
  stored: Record<string, FeatureStats> | null,
): Promise<Record<string, FeatureStats>> {
  if (stored) return { ...stored };
  const frames = await ds.readEpisodeFrames(pick.episodeIndex);
  const out: Record<string, FeatureStats> = {};
  for (const [name, spec] of Object.entries(ds.info.features)) {
    const col = frames.columns[name];
    if (col)
      out[name] = computeFeatureStats(
        col,
        frames.length,
        isScalarFeature(spec) ? 1 : col.length / frames.length,
      );
  }
  for (const [name, pngs] of Object.entries(frames.images)) {
    const spec = ds.info.features[name];
    if (spec?.shape[2] !== 1 || spec.info?.is_depth_map !== true)
      throw invalid(
        `${ds.dir}: episode ${pick.episodeIndex} has no stored stats for image feature ${name}, and only one-channel depth images can be recomputed`,
      );
    const pixels = (spec.shape[0] as number) * (spec.shape[1] as number);
    const depth = new Uint16Array(pixels * frames.length);
    pngs.forEach((png, f) => {
      const d = decodeDepthPng(png, `${ds.dir}: episode ${pick.episodeIndex} ${name} frame ${f}`);
      if (d.depthMm.length !== pixels)
        throw invalid(
          `${ds.dir}: episode ${pick.episodeIndex} ${name} frame ${f} is ${d.width}x${d.height}, expected ${spec.shape[1]}x${spec.shape[0]}`,
        );
      depth.set(d.depthMm, f * pixels);
    });
    out[name] = flatDepthStats(depth, frames.length);
  }
  out.timestamp = computeFeatureStats(frames.timestamp, frames.length, 1);
  out.frame_index = computeFeatureStats(frames.frameIndex, frames.length, 1);
  out.task_index = computeFeatureStats(frames.taskIndex, frames.length, 1);
  return out;
}

/** Stats of one scalar SQL expression over an episode's frames (used for a re-mapped task_index). */
async function columnStats(
  db: DuckDBConnection,
  file: string,
  episodeIndex: number,
  expr: string,
  length: number,
): Promise<FeatureStats> {
  const values = (
    await db.runAndReadAll(
      `SELECT (${expr})::DOUBLE AS v FROM read_parquet(${quoteString(file)}) WHERE episode_index = ${episodeIndex} ORDER BY frame_index`,
    )
  )
    .getRowObjectsJS()
    .map((r) => Number(r.v));
  return computeFeatureStats(values, length, 1);
}

/** Runs `op` with the inputs open and a private DuckDB connection; closes everything afterwards. */
async function withInputs<T>(
  inputs: readonly string[],
  op: (
    datasets: LeRobotDataset[],
    db: DuckDBConnection,
    stats: (Record<string, FeatureStats> | null)[][],
  ) => Promise<T>,
): Promise<T> {
  const datasets = await openAll(inputs);
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  await db.run('SET parquet_metadata_cache = true');
  try {
    for (const ds of datasets) checkSupported(ds);
    const stats: (Record<string, FeatureStats> | null)[][] = [];
    for (const ds of datasets) stats.push(await readEpisodeStats(db, ds));
    return await op(datasets, db, stats);
  } finally {
    db.closeSync();
    instance.closeSync();
    for (const ds of datasets) ds.close();
  }
}

/** Merges datasets (same fps and features) into a new one at `out`: every episode, inputs in order. */
export async function mergeDatasets(
  inputs: readonly string[],
  out: string,
  opts: SurgeryOptions = {},
): Promise<SurgeryResult> {
  if (inputs.length === 0) throw invalid('merge needs at least one input dataset');
  checkOptions(opts);
  refuseNested(inputs, out);
  await refuseExisting(out);
  return withInputs(inputs, async (datasets, db, stats) => {
    checkCompatible(datasets);
    const picks = datasets.flatMap((ds, source) =>
      ds.episodes.map((e) => ({ source, episodeIndex: e.episodeIndex })),
    );
    const r = await atomically(out, (staging) => writeSubset(datasets, picks, staging, db, stats, opts));
    return { dir: out, ...r };
  });
}

/** The listed indices as a set, each checked to exist and to appear once. */
function indexSet(ds: LeRobotDataset, listed: readonly number[]): Set<number> {
  const seen = new Set<number>();
  for (const i of listed) {
    if (!Number.isInteger(i) || i < 0 || i >= ds.episodes.length)
      throw invalid(`${ds.dir}: no episode ${i} (it has ${ds.episodes.length})`);
    if (seen.has(i)) throw invalid(`episode ${i} listed twice`);
    seen.add(i);
  }
  return seen;
}

/** The query as a predicate, every name in it checked against the dataset first. */
function queryPredicate(ds: LeRobotDataset, q: EpisodeQuery): (e: EpisodeSummary) => boolean {
  const keep = q.episodes ? indexSet(ds, q.episodes) : null;
  const drop = q.exclude ? indexSet(ds, q.exclude) : null;
  const known = new Set(ds.tasks.map((t) => t.task));
  for (const t of q.tasks ?? []) {
    if (!known.has(t))
      throw invalid(
        `${ds.dir}: no task ${JSON.stringify(t)} (its tasks: ${[...known].map((k) => JSON.stringify(k)).join(', ')})`,
      );
  }
  const tasks = q.tasks && q.tasks.length > 0 ? new Set(q.tasks) : null;
  const where = Object.entries(q.where ?? {});
  if (where.length > 0) {
    if (!ds.tgEpisodes)
      throw invalid(`${ds.dir}: has no ${TG_EPISODES_PATH}, so there are no labels to match`);
    const keys = new Set(ds.tgEpisodes.flatMap((line) => Object.keys(line)));
    for (const [key] of where) {
      if (!keys.has(key))
        throw invalid(
          `${ds.dir}: no episode has the label ${JSON.stringify(key)} (labels: ${[...keys].join(', ')})`,
        );
    }
  }
  return (e) =>
    (keep === null || keep.has(e.episodeIndex)) &&
    (drop === null || !drop.has(e.episodeIndex)) &&
    (tasks === null || e.tasks.some((t) => tasks.has(t))) &&
    where.every(([key, value]) => e.tg !== null && key in e.tg && String(e.tg[key]) === value);
}

function selectEpisodes(ds: LeRobotDataset, keep: EpisodeSelection): number[] {
  if (Array.isArray(keep)) return [...indexSet(ds, keep)].sort((a, b) => a - b);
  const predicate = typeof keep === 'function' ? keep : queryPredicate(ds, keep as EpisodeQuery);
  return ds.episodes
    .filter((e) =>
      predicate({
        episodeIndex: e.episodeIndex,
        length: e.length,
        tasks: [...e.tasks],
        tg: ds.tgEpisodes?.[e.episodeIndex] ?? null,
      }),
    )
    .map((e) => e.episodeIndex);
}

/** Writes a new dataset at `out` holding only the episodes `keep` selects (in their original order). */
export async function filterEpisodes(
  input: string,
  out: string,
  keep: EpisodeSelection,
  opts: SurgeryOptions = {},
): Promise<SurgeryResult> {
  checkOptions(opts);
  refuseNested([input], out);
  await refuseExisting(out);
  return withInputs([input], async ([ds], db, stats) => {
    const kept = selectEpisodes(ds as LeRobotDataset, keep);
    if (kept.length === 0)
      throw invalid('the filter keeps no episodes; LeRobot cannot open an empty dataset, so none is written');
    const picks = kept.map((episodeIndex) => ({ source: 0, episodeIndex }));
    const r = await atomically(out, (staging) =>
      writeSubset([ds as LeRobotDataset], picks, staging, db, stats, opts),
    );
    return { dir: out, ...r, sourceEpisodes: kept };
  });
}

/**
 * Writes a new dataset at `out` without the listed episodes (each must exist: a typo never silently
 * keeps everything, and dropping every episode is refused rather than leaving an empty dataset).
 */
export async function deleteEpisodes(
  input: string,
  out: string,
  remove: readonly number[],
  opts: SurgeryOptions = {},
): Promise<SurgeryResult> {
  return filterEpisodes(input, out, { exclude: remove }, opts);
}

/**
 * A fresh LeRobot v3.0 dataset from `input`: the episodes `keep` selects, re-indexed, re-chunked (LeRobot's
 * default chunk and file sizes unless `opts` says otherwise), per-episode and dataset stats carried over
 * or recomputed for the columns whose values change.
 */
export async function exportLeRobot(
  input: string,
  out: string,
  keep: EpisodeSelection = {},
  opts: SurgeryOptions = {},
): Promise<SurgeryResult> {
  return filterEpisodes(input, out, keep, {
    chunksSize: DEFAULT_CHUNK_SIZE,
    dataFilesSizeInMb: DEFAULT_DATA_FILE_SIZE_IN_MB,
    ...opts,
  });
}

const SPLIT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Episode indices per split: fractions cut the episode order at rounded cumulative boundaries. */
export function planSplit(totalEpisodes: number, spec: SplitSpec): Record<string, number[]> {
  const names = Object.keys(spec);
  if (names.length === 0) throw invalid('split needs at least one named part');
  for (const n of names)
    if (!SPLIT_NAME.test(n)) throw invalid(`split name ${JSON.stringify(n)} is not allowed`);
  const values = Object.values(spec);
  const out: Record<string, number[]> = {};
  if (values.every((v) => typeof v === 'number')) {
    const fractions = values as number[];
    if (fractions.some((f) => !(Number.isFinite(f) && f > 0)))
      throw invalid(`split fractions must be positive, got ${fractions.join(', ')}`);
    const sum = fractions.reduce((a, b) => a + b, 0);
    if (sum > 1 + 1e-9) throw invalid(`split fractions add up to ${sum}, more than 1`);
    let cum = 0;
    let start = 0;
    names.forEach((name, i) => {
      cum += fractions[i] as number;
      const end = Math.abs(cum - 1) < 1e-9 ? totalEpisodes : Math.round(cum * totalEpisodes);
      out[name] = Array.from({ length: Math.max(0, end - start) }, (_, k) => start + k);
      start = Math.max(start, end);
    });
  } else if (values.every((v) => Array.isArray(v))) {
    const seen = new Map<number, string>();
    for (const name of names) {
      const list = spec[name] as readonly number[];
      for (const i of list) {
        if (!Number.isInteger(i) || i < 0 || i >= totalEpisodes)
          throw invalid(`split ${name}: no episode ${i} (the dataset has ${totalEpisodes})`);
        const other = seen.get(i);
        if (other !== undefined) throw invalid(`episode ${i} is in both ${other} and ${name}`);
        seen.set(i, name);
      }
      out[name] = [...list].sort((a, b) => a - b);
    }
  } else {
    throw invalid('split parts must all be fractions or all be episode index lists');
  }
  for (const [name, list] of Object.entries(out)) {
    if (list.length === 0)
      throw invalid(
        `split ${name} would hold no episodes (of ${totalEpisodes}); LeRobot cannot open an empty dataset`,
      );
  }
  return out;
}

/** Splits a dataset into `outDir/<name>` datasets, one per part; `outDir` appears only when all are written. */
export async function splitDataset(
  input: string,
  spec: SplitSpec,
  outDir: string,
  opts: SurgeryOptions = {},
): Promise<SurgeryResult[]> {
  checkOptions(opts);
  refuseNested([input], outDir);
  await refuseExisting(outDir);
  return withInputs([input], async ([ds], db, stats) => {
    const plan = planSplit((ds as LeRobotDataset).episodes.length, spec);
    return atomically(outDir, async (staging) => {
      await mkdir(staging, { recursive: true });
      const results: SurgeryResult[] = [];
      // Progress over all parts together.
      const total = Object.values(plan).reduce((n, eps) => n + eps.length, 0);
      let before = 0;
      for (const [name, episodes] of Object.entries(plan)) {
        const picks = episodes.map((episodeIndex) => ({ source: 0, episodeIndex }));
        const offset = before;
        const r = await writeSubset([ds as LeRobotDataset], picks, join(staging, name), db, stats, {
          ...opts,
          onProgress: opts.onProgress && ((done) => opts.onProgress?.(offset + done, total)),
        });
        results.push({ dir: join(outDir, name), ...r, sourceEpisodes: episodes });
        before += episodes.length;
      }
      return results;
    });
  });
}
