/**
 * Reads a LeRobot v3.0 dataset (layout: ./format.ts), whoever wrote it: this project's writer or LeRobot.
 * Every file is validated; a bad one fails with TgError('INPUT_INVALID', '<file>: <problem>').
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import {
  CODEBASE_VERSION,
  type DatasetInfo,
  EPISODES_DIR,
  formatPath,
  INFO_PATH,
  isScalarFeature,
  STATS_PATH,
  TASKS_PATH,
  TG_EPISODES_PATH,
} from './format.ts';

const FeatureSchema = z.object({
  dtype: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  names: z
    .union([z.array(z.string()), z.null(), z.record(z.string(), z.unknown())])
    .optional()
    .default(null),
  info: z.record(z.string(), z.unknown()).nullish(),
});

const InfoSchema = z.object({
  codebase_version: z.literal(CODEBASE_VERSION, { message: `codebase_version must be ${CODEBASE_VERSION}` }),
  robot_type: z.string().nullable().optional().default(null),
  total_episodes: z.number().int().nonnegative(),
  total_frames: z.number().int().nonnegative(),
  total_tasks: z.number().int().nonnegative(),
  chunks_size: z.number().int().positive(),
  data_files_size_in_mb: z.number().positive(),
  video_files_size_in_mb: z.number().positive(),
  fps: z.number().int().positive(),
  splits: z.record(z.string(), z.string()),
  data_path: z.string().min(1),
  video_path: z.string().nullable(),
  features: z.record(z.string(), FeatureSchema),
});

export interface TaskRow {
  task: string;
  taskIndex: number;
}

export interface EpisodeInfo {
  episodeIndex: number;
  tasks: string[];
  length: number;
  dataChunkIndex: number;
  dataFileIndex: number;
  datasetFromIndex: number;
  datasetToIndex: number;
}

export interface EpisodeFrames {
  length: number;
  /** Vector and scalar float features, frame-major (`length * dim`). */
  columns: Record<string, Float32Array>;
  /** `image` features: each frame's encoded image (PNG for depth, see ./image.ts decodeDepthPng). */
  images: Record<string, Uint8Array[]>;
  timestamp: Float32Array;
  frameIndex: number[];
  index: number[];
  taskIndex: number[];
}

export interface LeRobotDataset {
  dir: string;
  info: DatasetInfo;
  tasks: TaskRow[];
  episodes: EpisodeInfo[];
  stats: Record<string, Record<string, unknown>> | null;
  /** Training Ground's own per-episode metadata, when the dataset has it. */
  tgEpisodes: Record<string, unknown>[] | null;
  readEpisodeFrames(episodeIndex: number): Promise<EpisodeFrames>;
  close(): void;
}

function bad(file: string, problem: string): TgError {
  return new TgError('INPUT_INVALID', `${file}: ${problem}`);
}

/** A cause's first line: DuckDB appends the offending SQL on further lines, which a one-line error drops. */
function firstLine(cause: unknown): string {
  return String((cause as Error)?.message ?? cause).split('\n')[0] as string;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** The episodes metadata files, relative to the dataset (meta/episodes/<chunk>/<file>.parquet), sorted. */
async function listEpisodeFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const chunks = await readdir(join(dir, EPISODES_DIR)).catch(() => [] as string[]);
  for (const chunk of chunks.sort()) {
    const files = await readdir(join(dir, EPISODES_DIR, chunk)).catch(() => [] as string[]);
    for (const f of files.sort()) if (f.endsWith('.parquet')) out.push(`${EPISODES_DIR}/${chunk}/${f}`);
  }
  return out;
}

async function readJson(dir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    throw new TgError('INPUT_INVALID', `${file}: cannot read (${firstLine(cause)})`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TgError('INPUT_INVALID', `${file}: not valid JSON`, { cause });
  }
}

export async function readLeRobotDataset(dir: string): Promise<LeRobotDataset> {
  const parsed = InfoSchema.safeParse(await readJson(dir, INFO_PATH));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad(INFO_PATH, `${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const info = parsed.data as DatasetInfo;
  for (const [name, spec] of Object.entries(info.features)) {
    if ((spec.dtype === 'float32' || spec.dtype === 'float64') && !((spec.shape[0] ?? 0) >= 1))
      throw bad(INFO_PATH, `features.${name}.shape: a float feature needs a shape [n] with n >= 1`);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const close = () => {
    db.closeSync();
    instance.closeSync();
  };
  try {
    // tasks.parquet: pandas stores the index as column "task" (named index) or "__index_level_0__".
    let tasks: TaskRow[] = [];
    const tasksFile = join(dir, TASKS_PATH);
    try {
      const cols = (await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(tasksFile)})`))
        .getRowObjectsJS()
        .map((r) => String(r.column_name));
      const taskCol = cols.includes('task')
        ? 'task'
        : cols.includes('__index_level_0__')
          ? '__index_level_0__'
          : null;
      if (taskCol === null || !cols.includes('task_index'))
        throw bad(TASKS_PATH, `expected columns task and task_index, found ${cols.join(', ')}`);
      tasks = (
        await db.runAndReadAll(
          `SELECT "${taskCol}"::VARCHAR AS task, task_index::BIGINT AS ti FROM read_parquet(${sqlString(tasksFile)}) ORDER BY ti`,
        )
      )
        .getRowObjectsJS()
        .map((r) => ({ task: String(r.task), taskIndex: Number(r.ti) }));
    } catch (cause) {
      if (cause instanceof TgError) throw cause;
      if (info.total_tasks > 0) throw bad(TASKS_PATH, `cannot read (${firstLine(cause)})`);
    }
    if (tasks.length !== info.total_tasks)
      throw bad(TASKS_PATH, `${tasks.length} tasks, info.json says ${info.total_tasks}`);

    const episodeFiles = await listEpisodeFiles(dir);
    const episodesLabel = episodeFiles.length > 0 ? episodeFiles.join(', ') : EPISODES_DIR;
    const episodesQuery = (source: string) =>
      `SELECT episode_index, tasks, length, "data/chunk_index" AS c, "data/file_index" AS f, ` +
      `dataset_from_index AS a, dataset_to_index AS b, filename FROM read_parquet(${sqlString(source)}, union_by_name=true, filename=true) ORDER BY episode_index`;
    let episodes: EpisodeInfo[];
    /** The metadata file each episode came from (relative), for error messages. */
    const episodeFile: string[] = [];
    try {
      episodes = (await db.runAndReadAll(episodesQuery(join(dir, EPISODES_DIR, '*', '*.parquet'))))
        .getRowObjectsJS()
        .map((r) => {
          episodeFile.push(relative(dir, String(r.filename)));
          if (!Array.isArray(r.tasks)) throw new Error('tasks is not a list');
          return {
            episodeIndex: Number(r.episode_index),
            tasks: r.tasks.map(String),
            length: Number(r.length),
            dataChunkIndex: Number(r.c),
            dataFileIndex: Number(r.f),
            datasetFromIndex: Number(r.a),
            datasetToIndex: Number(r.b),
          };
        });
    } catch (cause) {
      // name the file that fails on its own, when one does
      let culprit = episodesLabel;
      for (const rel of episodeFiles) {
        const fails = await db.runAndReadAll(episodesQuery(join(dir, rel))).then(
          () => false,
          () => true,
        );
        if (fails) {
          culprit = rel;
          break;
        }
      }
      throw bad(culprit, `cannot read episodes metadata (${firstLine(cause)})`);
    }
    if (episodes.length !== info.total_episodes) {
      throw bad(episodesLabel, `${episodes.length} episodes, info.json says ${info.total_episodes}`);
    }
    episodes.forEach((e, i) => {
      const file = episodeFile[i] ?? episodesLabel;
      if (e.episodeIndex !== i) throw bad(file, `episode_index ${e.episodeIndex} at position ${i}`);
      if (e.datasetToIndex - e.datasetFromIndex !== e.length)
        throw bad(file, `episode ${i}: length does not match its index range`);
    });

    let stats: Record<string, Record<string, unknown>> | null = null;
    if (await stat(join(dir, STATS_PATH)).catch(() => null)) {
      const raw = await readJson(dir, STATS_PATH);
      const ok = z.record(z.string(), z.record(z.string(), z.unknown())).safeParse(raw);
      if (!ok.success) throw bad(STATS_PATH, 'expected {feature: {stat: values}}');
      stats = ok.data;
    }
    let tgEpisodes: Record<string, unknown>[] | null = null;
    const tgText = await readFile(join(dir, TG_EPISODES_PATH), 'utf8').catch(() => null);
    if (tgText !== null) {
      tgEpisodes = tgText
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l, i) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            throw bad(TG_EPISODES_PATH, `line ${i + 1} is not JSON`);
          }
        });
    }

    const floatFeatures = Object.entries(info.features).filter(
      ([name, spec]) => (spec.dtype === 'float32' || spec.dtype === 'float64') && name !== 'timestamp',
    );
    const imageFeatures = Object.keys(info.features).filter((n) => info.features[n]?.dtype === 'image');
    const readEpisodeFrames = async (episodeIndex: number): Promise<EpisodeFrames> => {
      const ep = episodes[episodeIndex];
      if (!ep)
        throw new TgError(
          'NOT_FOUND',
          `episode ${episodeIndex} not in dataset (${episodes.length} episodes)`,
        );
      const rel = formatPath(info.data_path, {
        chunk_index: ep.dataChunkIndex,
        file_index: ep.dataFileIndex,
      });
      // an image column is a struct {bytes, path}: only its bytes are read
      const select = [
        ...floatFeatures.map(([n]) => `"${n}"`),
        ...imageFeatures.map((n) => `"${n}".bytes AS "${n}"`),
      ].join(', ');
      let rows: Record<string, unknown>[];
      try {
        rows = (
          await db.runAndReadAll(
            `SELECT ${select}${select ? ', ' : ''}timestamp, frame_index, "index", task_index FROM read_parquet(${sqlString(join(dir, rel))}) ` +
              `WHERE episode_index = ${episodeIndex} ORDER BY frame_index`,
          )
        ).getRowObjectsJS();
      } catch (cause) {
        throw bad(rel, `cannot read (${firstLine(cause)})`);
      }
      if (rows.length !== ep.length)
        throw bad(
          rel,
          `episode ${episodeIndex} has ${rows.length} frames, ${episodeFile[episodeIndex] ?? EPISODES_DIR} says ${ep.length}`,
        );
      const columns: Record<string, Float32Array> = {};
      for (const [name, spec] of floatFeatures) {
        const dim = isScalarFeature(spec) ? 1 : (spec.shape[0] as number);
        const out = new Float32Array(rows.length * dim);
        rows.forEach((r, f) => {
          const v = r[name];
          if (dim === 1) out[f] = Number(v);
          else {
            const arr = v as number[];
            if (!Array.isArray(arr) || arr.length !== dim)
              throw bad(rel, `${name} at frame ${f} is not ${dim} values (its shape in ${INFO_PATH})`);
            out.set(arr, f * dim);
          }
        });
        columns[name] = out;
      }
      const images: Record<string, Uint8Array[]> = {};
      for (const name of imageFeatures) {
        images[name] = rows.map((r, f) => {
          const v = r[name];
          if (!(v instanceof Uint8Array)) throw bad(rel, `${name} at frame ${f} holds no image bytes`);
          return v;
        });
      }
      return {
        length: rows.length,
        columns,
        images,
        timestamp: Float32Array.from(rows, (r) => Number(r.timestamp)),
        frameIndex: rows.map((r) => Number(r.frame_index)),
        index: rows.map((r) => Number(r.index)),
        taskIndex: rows.map((r) => Number(r.task_index)),
      };
    };
    return { dir, info, tasks, episodes, stats, tgEpisodes, readEpisodeFrames, close };
  } catch (err) {
    close();
    throw err;
  }
}
