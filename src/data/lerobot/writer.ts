/**
 * Writes episodes as a LeRobot v3.0 dataset (layout and sources: ./format.ts).
 *
 * Everything goes into a hidden sibling directory first; `close()` writes the metadata and renames it into
 * place, so the target path holds either nothing or a complete dataset LeRobot can open.
 *
 * Frames reach DuckDB as raw memory through a table function (./frame-source.ts), one COPY straight into
 * each data file, one row group per episode. A small dataset is one batch, written on this thread at
 * close (writeBatch). Past a few episodes a worker thread starts (./frame-copier.ts); once it is up, each
 * data file is one COPY on the worker that streams: every episode goes to DuckDB as soon as it is added, so
 * DuckDB encodes episode k while the caller records and checks episode k + 1, and close() waits only for
 * the last episode. Episodes longer than one DuckDB chunk go in batches (writeSpliced).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TgError } from '../../errors/index.ts';
import type { RecordedEpisode } from '../episode.ts';
import { type DataFile, DataFileNames, DataFiles } from './data-files.ts';
import {
  CODEBASE_VERSION,
  type DatasetInfo,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DATA_FILE_SIZE_IN_MB,
  DEFAULT_DATA_PATH,
  DEFAULT_EPISODES_PATH,
  DEFAULT_FEATURES,
  DEFAULT_VIDEO_FILE_SIZE_IN_MB,
  type FeatureSpec,
  type FeatureStats,
  formatPath,
  hfFeature,
  INFO_PATH,
  MIB,
  STAT_NAMES,
  STATS_PATH,
  TASKS_PATH,
  TG_EPISODES_PATH,
  type VectorFeatureSpec,
  type WriterFeatureSpec,
} from './format.ts';
import { type FrameCopier, type FrameStream, InlineCopier, WorkerCopier } from './frame-copier.ts';
import { CHUNK_FRAMES, type FrameBlock, type FrameColumn, FrameSource } from './frame-source.ts';
import { decodeDepthPng, encodeDepthPng, flatDepthStats, nestImageStats } from './image.ts';
import { type ParsedParquet, parseParquet, readParquetFooter, rowGroupRows } from './parquet-concat.ts';
import { aggregateStats, computeFeatureStats } from './stats.ts';

export interface LeRobotWriterOptions {
  fps: number;
  robotType: string;
  /** float32 vectors, and `image` features (depth: ./image.ts depthFeatureSpec) given per frame. */
  features: Record<string, WriterFeatureSpec>;
  /** Files per chunk directory (default 1000, as LeRobot). */
  chunksSize?: number;
  /** Data file rollover size (default 100 MB, as LeRobot). */
  dataFilesSizeInMb?: number;
  /**
   * Start the copier worker in create() (a long recording): every episode streams to DuckDB from the
   * first. By default the worker starts once a few episodes are pending, so a small dataset never pays
   * for a thread.
   */
  streamFromStart?: boolean;
}

/**
 * An episode's `image` features, each one entry per frame: depth in millimetres (row-major, height x width)
 * or that depth already encoded as a 16-bit grayscale PNG.
 */
export type EpisodeImages = Record<string, ReadonlyArray<Uint16Array | Uint8Array>>;

/** One row of meta/episodes/*.parquet. */
export interface EpisodeRow {
  episode_index: number;
  tasks: string[];
  length: number;
  'data/chunk_index': number;
  'data/file_index': number;
  dataset_from_index: number;
  dataset_to_index: number;
  stats: Record<string, FeatureStats>;
}

const FEATURE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/**
 * Episodes (or frames) held before one COPY writes them (the per-COPY cost is milliseconds, and each batch
 * is one data file): small enough that the last batch, written after the caller's last episode, is short.
 */
const BATCH_EPISODES = 128;
const BATCH_FRAMES = 262_144;
/** Episodes (or frames) pending before the worker starts: a dataset smaller than this never starts it. */
const WORKER_EPISODES = 8;
const WORKER_FRAMES = 16_384;

function invalid(message: string): TgError {
  return new TgError('INPUT_INVALID', `lerobot writer: ${message}`);
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function validateOptions(opts: LeRobotWriterOptions): void {
  if (!Number.isInteger(opts.fps) || opts.fps <= 0)
    throw invalid(`fps must be a positive integer, got ${opts.fps}`);
  if (typeof opts.robotType !== 'string' || opts.robotType.length === 0)
    throw invalid('robotType is required');
  const names = Object.keys(opts.features ?? {});
  if (names.length === 0) throw invalid('at least one feature is required');
  for (const name of names) {
    const spec = opts.features[name] as WriterFeatureSpec;
    if (!FEATURE_NAME.test(name))
      throw invalid(`feature name ${JSON.stringify(name)} is not allowed ('/' and spaces are reserved)`);
    if (name in DEFAULT_FEATURES)
      throw invalid(`feature ${name} is reserved (LeRobot adds it to every dataset)`);
    if (spec.dtype === 'image') {
      const [h, w, c] = Array.isArray(spec.shape) ? spec.shape : [];
      if (spec.shape.length !== 3 || !(Number.isInteger(h) && (h as number) > 0))
        throw invalid(
          `feature ${name}: image shape must be [height, width, 1], got ${JSON.stringify(spec.shape)}`,
        );
      if (!(Number.isInteger(w) && (w as number) > 0) || c !== 1)
        throw invalid(
          `feature ${name}: image shape must be [height, width, 1] (16-bit depth), got ${JSON.stringify(spec.shape)}`,
        );
      continue;
    }
    if (spec.dtype !== 'float32')
      throw invalid(
        `feature ${name}: dtype must be float32, got ${String((spec as { dtype: unknown }).dtype)}`,
      );
    const dim = spec.shape?.[0];
    if (
      !Array.isArray(spec.shape) ||
      spec.shape.length !== 1 ||
      !Number.isInteger(dim) ||
      (dim as number) <= 0
    ) {
      throw invalid(`feature ${name}: shape must be [n] with n >= 1, got ${JSON.stringify(spec.shape)}`);
    }
    if (!Array.isArray(spec.names) || spec.names.length !== dim) {
      throw invalid(`feature ${name}: names must list ${dim} entries, got ${JSON.stringify(spec.names)}`);
    }
  }
  for (const [key, v] of [
    ['chunksSize', opts.chunksSize],
    ['dataFilesSizeInMb', opts.dataFilesSizeInMb],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw invalid(`${key} must be positive, got ${v}`);
  }
}

/**
 * start, start + 1, ... (non-negative, below 2^53) as int64, written as little-endian 32-bit halves: a
 * BigInt per value would allocate on every frame.
 */
export function int64Sequence(start: number, length: number): BigInt64Array {
  return fillInt64Sequence(new BigInt64Array(length), start);
}

/** Writes start, start + 1, ... into `out` (see int64Sequence); returns it. */
function fillInt64Sequence(out: BigInt64Array, start: number): BigInt64Array {
  const halves = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let i = 0; i < out.length; i++) {
    const v = start + i;
    halves[2 * i] = v % 0x1_0000_0000;
    halves[2 * i + 1] = Math.floor(v / 0x1_0000_0000);
  }
  return out;
}

/** The data parquet's columns as the frame source declares them: the features, then LeRobot's defaults. */
function frameColumns(features: Record<string, WriterFeatureSpec>): FrameColumn[] {
  const columns: FrameColumn[] = Object.entries(features).map(([name, spec]) =>
    spec.dtype === 'image'
      ? { name, type: 'IMAGE', width: 1 }
      : { name, type: 'FLOAT', width: spec.shape[0] },
  );
  columns.push({ name: 'timestamp', type: 'FLOAT', width: 1 });
  for (const name of ['frame_index', 'episode_index', 'index', 'task_index'])
    columns.push({ name, type: 'BIGINT', width: 1 });
  return columns;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class LeRobotWriter {
  /** The float32 vector features (the image features are in imageNames). */
  private readonly featureNames: string[];
  private readonly imageNames: string[];
  private readonly dims: number[];
  private readonly tasks = new Map<string, number>();
  private readonly episodes: EpisodeRow[] = [];
  private readonly tgEpisodes: string[] = [];
  private totalFrames = 0;
  private readonly fileNames: DataFileNames;
  /** Encoded parquet bytes per raw frame byte, from the files written so far (1 until one is). */
  private bytesRatio = 1;
  private readonly frameBytes: number;
  private pendingBytes = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';
  /**
   * The data files being written (the previous batch's COPY + splice, streams that ended but whose COPY is
   * still finishing); resolves when all are done, never rejects (the first failure is inflightError).
   */
  private inflight: Promise<void> | undefined;
  private inflightError: unknown;
  /** A spliced batch in flight: it names its data files as it writes them, so a stream waits for it. */
  private splicing: Promise<void> | undefined;
  /** The open stream: one data file being written by the worker, episode by episode. */
  private stream: { at: DataFile; rows: EpisodeRow[]; bytes: number; handle: FrameStream } | undefined;
  private readonly columns: FrameColumn[];
  private readonly inline: InlineCopier;
  /** Started with the first batch that is not the last; undefined until it is up (or if it cannot start). */
  private worker: WorkerCopier | undefined;
  private workerStarting: Promise<void> | undefined;
  private pending: EpisodeRow[] = [];
  private pendingBlocks: FrameBlock[] = [];
  private pendingFrames = 0;
  private scratch = new Float64Array(0);

  private constructor(
    readonly dir: string,
    private readonly staging: string,
    private readonly opts: Required<LeRobotWriterOptions>,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {
    const names = Object.keys(opts.features);
    this.featureNames = names.filter((n) => opts.features[n]?.dtype !== 'image');
    this.imageNames = names.filter((n) => opts.features[n]?.dtype === 'image');
    this.dims = this.featureNames.map((n) => (opts.features[n] as VectorFeatureSpec).shape[0]);
    this.columns = frameColumns(opts.features);
    this.inline = new InlineCopier(db, this.columns);
    this.fileNames = new DataFileNames(staging, opts.chunksSize);
    // Raw bytes of one frame: the float32 features, the float32 timestamp and four int64 columns, and the
    // 16-bit pixels of each image (the measured bytes ratio accounts for PNG compression).
    this.frameBytes =
      this.dims.reduce((n, d) => n + 4 * d, 0) +
      4 +
      4 * 8 +
      this.imageNames.reduce((n, name) => n + 2 * this.imagePixels(name), 0);
  }

  /** Starts a new dataset at `dir` (which must not exist yet). Nothing appears at `dir` before `close()`. */
  static async create(dir: string, opts: LeRobotWriterOptions): Promise<LeRobotWriter> {
    validateOptions(opts);
    if (await exists(dir)) throw new TgError('STORAGE_FAILED', `lerobot writer: ${dir} already exists`);
    const staging = join(
      dirname(dir),
      `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    const full: Required<LeRobotWriterOptions> = {
      chunksSize: DEFAULT_CHUNK_SIZE,
      dataFilesSizeInMb: DEFAULT_DATA_FILE_SIZE_IN_MB,
      streamFromStart: false,
      ...opts,
    };
    let instance: DuckDBInstance | undefined;
    try {
      await mkdir(join(staging, '.work'), { recursive: true });
      // One DuckDB thread: the frame source's COPY is one pipeline anyway, and with more threads the idle
      // ones spin on the task queue while the pipeline waits for the JS thread (measured: ~40% more CPU).
      instance = await DuckDBInstance.create(':memory:', { threads: '1' });
      const db = await instance.connect();
      const writer = new LeRobotWriter(dir, staging, full, instance, db);
      if (full.streamFromStart) {
        writer.startWorker();
        await writer.workerStarting;
      }
      return writer;
    } catch (cause) {
      instance?.closeSync();
      await rm(staging, { recursive: true, force: true });
      throw new TgError('STORAGE_FAILED', `lerobot writer: cannot start ${dir}: ${String(cause)}`, { cause });
    }
  }

  /** The features as info.json declares them: the caller's, then LeRobot's defaults. */
  get features(): Record<string, FeatureSpec> {
    const out: Record<string, FeatureSpec> = {};
    for (const [name, spec] of Object.entries(this.opts.features)) {
      out[name] = { dtype: spec.dtype, shape: [...spec.shape], names: [...spec.names] };
      if (spec.dtype === 'image' && spec.info) out[name].info = { ...spec.info };
    }
    for (const [name, spec] of Object.entries(DEFAULT_FEATURES)) {
      out[name] = { dtype: spec.dtype, shape: [...spec.shape], names: spec.names };
    }
    return out;
  }

  private imagePixels(name: string): number {
    const [h, w] = (this.opts.features[name] as WriterFeatureSpec).shape as number[];
    return (h as number) * (w as number);
  }

  /** Appends one episode (with one entry per frame for each image feature); returns its episode_index. */
  async addEpisode(ep: RecordedEpisode, images?: EpisodeImages): Promise<number> {
    if (this.state !== 'open') throw invalid(`addEpisode after ${this.state}`);
    // A data file that failed to write fails the next episode (the stream's COPY is gone).
    if (this.inflightError !== undefined) {
      this.endStream();
      await this.settle();
    }
    const length = ep.length;
    if (!Number.isInteger(length) || length < 1)
      throw invalid(`episode ${ep.meta?.id}: length must be >= 1, got ${length}`);
    for (let i = 0; i < this.featureNames.length; i++) {
      const name = this.featureNames[i] as string;
      const col = ep.columns[name];
      const want = length * (this.dims[i] as number);
      if (!(col instanceof Float32Array)) throw invalid(`episode ${ep.meta.id}: feature ${name} missing`);
      if (col.length !== want)
        throw invalid(`episode ${ep.meta.id}: feature ${name} has ${col.length} values, expected ${want}`);
    }
    for (const name of Object.keys(ep.columns)) {
      if (!this.featureNames.includes(name))
        throw invalid(`episode ${ep.meta.id}: undeclared feature ${name}`);
    }
    // Only datasets with image features pay for them (encoding, decoding, stats).
    const encoded = this.imageNames.length > 0 || images ? this.encodeImages(ep, images) : undefined;

    // Rollover as LeRobot's _save_episode_data: a new file when this episode would take the current one to
    // the size limit, the sizes estimated from the bytes per frame of the files written so far. Each batch
    // and each stream is one file, so the file ends with the pending batch (or the stream, streamEpisode).
    const bytes = length * this.frameBytes * this.bytesRatio;
    const streamed = this.worker !== undefined && length <= CHUNK_FRAMES;
    if (!streamed) {
      this.endStream();
      if (this.pending.length > 0 && (this.pendingBytes + bytes) / MIB >= this.opts.dataFilesSizeInMb)
        await this.flushBatch(false);
    } else if (this.pending.length > 0) {
      // The worker came up with episodes pending: they go first, into the stream if they fit it.
      if (this.pendingBlocks.some((b) => b.length > CHUNK_FRAMES)) await this.flushBatch(false);
      else {
        const rows = this.pending;
        const blocks = this.pendingBlocks;
        this.pending = [];
        this.pendingBlocks = [];
        this.pendingFrames = 0;
        this.pendingBytes = 0;
        for (let k = 0; k < rows.length; k++) {
          const row = rows[k] as EpisodeRow;
          await this.streamEpisode(
            row,
            blocks[k] as FrameBlock,
            row.length * this.frameBytes * this.bytesRatio,
          );
        }
      }
    }

    const episodeIndex = this.episodes.length;
    const task = ep.meta.instruction.length > 0 ? ep.meta.instruction : ep.meta.task;
    let taskIndex = this.tasks.get(task);
    if (taskIndex === undefined) {
      taskIndex = this.tasks.size;
      this.tasks.set(task, taskIndex);
    }
    const from = this.totalFrames;

    // The episode's frames as DuckDB reads them, in one buffer the writer owns (so it can move to the
    // copier's worker without a copy): the four int64 columns first (8-byte aligned), then the float32
    // timestamp and features. The default features are computed as LeRobot's add_frame/save_episode do:
    // timestamp = frame_index / fps.
    // Streamed episodes reuse the buffers of those DuckDB has read (every byte below is written).
    const bytesNeeded = length * this.frameBytes;
    const buffer = (streamed && this.worker?.spare(bytesNeeded)) || new ArrayBuffer(bytesNeeded);
    const frameIndex = fillInt64Sequence(new BigInt64Array(buffer, 0, length), 0);
    const episodeCol = new BigInt64Array(buffer, 8 * length, length).fill(BigInt(episodeIndex));
    const index = fillInt64Sequence(new BigInt64Array(buffer, 16 * length, length), from);
    const taskCol = new BigInt64Array(buffer, 24 * length, length).fill(BigInt(taskIndex));
    const timestamp = new Float32Array(buffer, 32 * length, length);
    let offset = 36 * length;
    const features = this.featureNames.map((name, i) => {
      const values = new Float32Array(buffer, offset, length * (this.dims[i] as number));
      values.set(ep.columns[name] as Float32Array);
      offset += values.byteLength;
      return values;
    });
    for (let f = 0; f < length; f++) timestamp[f] = f / this.opts.fps;

    const stats: Record<string, FeatureStats> = {};
    for (let i = 0; i < this.featureNames.length; i++) {
      const name = this.featureNames[i] as string;
      stats[name] = computeFeatureStats(features[i] as Float32Array, length, this.dims[i] as number);
    }
    if (encoded) for (const [name, image] of Object.entries(encoded)) stats[name] = image.stats;
    stats.timestamp = computeFeatureStats(timestamp, length, 1);
    // The integer columns' values, one after another in one reused scratch array.
    if (this.scratch.length < length) this.scratch = new Float64Array(length);
    const values = this.scratch.subarray(0, length);
    for (let f = 0; f < length; f++) values[f] = f;
    stats.frame_index = computeFeatureStats(values, length, 1);
    stats.episode_index = computeFeatureStats(values.fill(episodeIndex), length, 1);
    for (let f = 0; f < length; f++) values[f] = from + f;
    stats.index = computeFeatureStats(values, length, 1);
    stats.task_index = computeFeatureStats(values.fill(taskIndex), length, 1);

    this.episodes.push({
      episode_index: episodeIndex,
      tasks: [task],
      length,
      'data/chunk_index': -1, // set when the batch is spliced into a data file
      'data/file_index': -1,
      dataset_from_index: from,
      dataset_to_index: from + length,
      stats,
    });
    this.tgEpisodes.push(JSON.stringify({ episode_index: episodeIndex, ...ep.meta }));
    this.totalFrames += length;
    const row = this.episodes[this.episodes.length - 1] as EpisodeRow;
    let block: FrameBlock;
    if (!encoded) {
      block = {
        length,
        columns: [...features, timestamp, frameIndex, episodeCol, index, taskCol],
      };
    } else {
      // Columns in info.json order: vectors and images interleaved as declared, then the defaults.
      const columns: ArrayBufferView[] = [];
      const imageOffsets: (Uint32Array | undefined)[] = [];
      let vector = 0;
      for (const name of Object.keys(this.opts.features)) {
        const image = encoded[name];
        columns.push(image ? image.bytes : (features[vector++] as Float32Array));
        imageOffsets.push(image?.offsets);
      }
      columns.push(timestamp, frameIndex, episodeCol, index, taskCol);
      block = { length, columns, imageOffsets };
    }
    if (streamed) {
      await this.streamEpisode(row, block, bytes);
      // Bounded memory: waits only while DuckDB is far behind.
      await (this.worker as WorkerCopier).room();
      return episodeIndex;
    }
    this.pending.push(row);
    this.pendingBlocks.push(block);
    this.pendingFrames += length;
    this.pendingBytes += bytes;
    if (
      !this.workerStarting &&
      (this.pending.length >= WORKER_EPISODES || this.pendingFrames >= WORKER_FRAMES)
    )
      this.startWorker();
    if (this.pending.length >= BATCH_EPISODES || this.pendingFrames >= BATCH_FRAMES)
      await this.flushBatch(false);
    // A batch in flight on this thread is pulled through its event loop: one turn per episode hands
    // DuckDB the next chunk, so it encodes while the caller records and checks the next episode.
    else if (this.inflight && !this.worker) await yieldToLoop();
    return episodeIndex;
  }

  /**
   * Hands one episode (at most one DuckDB chunk long) to the open stream, first ending the stream's data
   * file if the episode would take it to the size limit, and opening a stream if none is open.
   */
  private async streamEpisode(row: EpisodeRow, block: FrameBlock, bytes: number): Promise<void> {
    if (this.stream && (this.stream.bytes + bytes) / MIB >= this.opts.dataFilesSizeInMb) this.endStream();
    if (!this.stream) {
      // Data files are numbered in episode order: a spliced batch names its files as it writes them.
      if (this.splicing) {
        await this.splicing;
        this.splicing = undefined;
      }
      const at = await this.fileNames.allocate();
      const handle = (this.worker as WorkerCopier).stream(at.path, this.copyOptions('ROW_GROUP_SIZE 1'));
      this.stream = { at, rows: [], bytes: 0, handle };
    }
    const stream = this.stream;
    row['data/chunk_index'] = stream.at.chunk;
    row['data/file_index'] = stream.at.file;
    stream.rows.push(row);
    stream.bytes += bytes;
    stream.handle.push(block);
  }

  /** Ends the open stream (if any); its COPY finishes in the background and is checked like a batch's. */
  private endStream(): void {
    const stream = this.stream;
    if (!stream) return;
    this.stream = undefined;
    this.track(
      stream.handle.end().then(async () => {
        await this.checkRowGroups(stream.at.path, stream.rows);
        await this.learnBytesRatio(stream.at.path, stream.rows);
      }),
    );
  }

  /** Adds a data file being written to `inflight`. */
  private track(write: Promise<void>): void {
    const done = write.then(
      () => undefined,
      (cause: unknown) => {
        this.inflightError ??= cause;
      },
    );
    const before = this.inflight;
    this.inflight = before ? Promise.all([before, done]).then(() => undefined) : done;
  }

  /** Throws unless the data file holds one row group per episode, of the episodes' lengths. */
  private async checkRowGroups(path: string, episodes: readonly EpisodeRow[]): Promise<void> {
    const { rows } = await readParquetFooter(path);
    if (rows.length !== episodes.length || episodes.some((r, k) => rows[k] !== r.length))
      throw new Error(
        `DuckDB cut ${rows.length} row groups for episodes ${episodes[0]?.episode_index}..${episodes.at(-1)?.episode_index}`,
      );
  }

  private async learnBytesRatio(path: string, episodes: readonly EpisodeRow[]): Promise<void> {
    const encoded = (await stat(path)).size;
    this.bytesRatio = encoded / (episodes.reduce((n, r) => n + r.length, 0) * this.frameBytes);
  }

  /** Starts the worker in the background; episodes stay on this thread until it is up. */
  private startWorker(): void {
    if (this.workerStarting) return;
    this.workerStarting = WorkerCopier.start(this.columns).then(
      (w) => {
        if (this.state === 'open') this.worker = w;
        else void w.close();
      },
      () => {
        // No worker (e.g. no threads in this environment): every batch stays on this thread.
      },
    );
  }

  /**
   * Each image feature's frames as PNGs back to back (one fresh buffer, so it can move to the copier's
   * worker) and their flat stats in millimetres; every frame is checked against the declared size.
   */
  private encodeImages(
    ep: RecordedEpisode,
    images: EpisodeImages | undefined,
  ): Record<string, { bytes: Uint8Array; offsets: Uint32Array; stats: FeatureStats }> {
    const where = `episode ${ep.meta.id}`;
    for (const name of Object.keys(images ?? {})) {
      if (!this.imageNames.includes(name)) throw invalid(`${where}: undeclared image feature ${name}`);
    }
    const out: Record<string, { bytes: Uint8Array; offsets: Uint32Array; stats: FeatureStats }> = {};
    for (const name of this.imageNames) {
      const frames = images?.[name];
      if (!frames) throw invalid(`${where}: image feature ${name} missing`);
      if (frames.length !== ep.length)
        throw invalid(`${where}: image feature ${name} has ${frames.length} frames, expected ${ep.length}`);
      const [h, w] = (this.opts.features[name] as WriterFeatureSpec).shape as number[];
      const pixels = this.imagePixels(name);
      const depth = new Uint16Array(pixels * ep.length);
      const pngs: Uint8Array[] = [];
      frames.forEach((frame, f) => {
        let png: Uint8Array;
        let mm: Uint16Array;
        if (frame instanceof Uint16Array) {
          if (frame.length !== pixels)
            throw invalid(`${where}: ${name} frame ${f} has ${frame.length} pixels, expected ${w}x${h}`);
          mm = frame;
          png = encodeDepthPng(frame, w as number, h as number);
        } else if (frame instanceof Uint8Array) {
          const d = decodeDepthPng(frame, `${where}: ${name} frame ${f}`);
          if (d.width !== w || d.height !== h)
            throw invalid(`${where}: ${name} frame ${f} is ${d.width}x${d.height}, expected ${w}x${h}`);
          mm = d.depthMm;
          png = frame;
        } else {
          throw invalid(`${where}: ${name} frame ${f} is neither depth (Uint16Array) nor PNG bytes`);
        }
        depth.set(mm, f * pixels);
        pngs.push(png);
      });
      const offsets = new Uint32Array(ep.length + 1);
      for (let f = 0; f < pngs.length; f++)
        offsets[f + 1] = (offsets[f] as number) + (pngs[f] as Uint8Array).byteLength;
      const bytes = new Uint8Array(offsets[ep.length] as number);
      pngs.forEach((png, f) => {
        bytes.set(png, offsets[f]);
      });
      out[name] = { bytes, offsets, stats: flatDepthStats(depth, ep.length) };
    }
    return out;
  }

  /** Writes meta/, makes the dataset visible at `dir` (atomic rename), and releases DuckDB. */
  async close(): Promise<void> {
    if (this.state !== 'open') throw invalid(`close after ${this.state}`);
    if (this.episodes.length === 0) {
      await this.abort();
      throw invalid('no episodes were added; LeRobot cannot open an empty dataset');
    }
    let early: Promise<void> | undefined;
    try {
      this.endStream();
      await this.flushBatch(true);
      // When every episode already knows its data file (streams name theirs up front), the metadata is
      // written while the last data file is still being encoded (on the worker's DuckDB).
      if (this.episodes.every((e) => e['data/file_index'] >= 0)) {
        early = this.writeMetadata();
        early.catch(() => {});
      }
      await this.settle();
      await this.stopWorker();
      await (early ?? this.writeMetadata());
      early = undefined;
      await rm(join(this.staging, '.work'), { recursive: true, force: true });
      this.release();
      if (await exists(this.dir)) throw new Error(`${this.dir} appeared while writing`);
      await rename(this.staging, this.dir);
      this.state = 'closed';
    } catch (cause) {
      // (DuckDB is released by abort: nothing may still run on it.)
      await early?.catch(() => {});
      await this.abort();
      if (cause instanceof TgError) throw cause;
      throw new TgError('STORAGE_FAILED', `lerobot writer: close ${this.dir}: ${String(cause)}`, { cause });
    }
  }

  /** meta/: tasks, episodes, stats.json, info.json, tg_episodes.jsonl (every data file index known). */
  private async writeMetadata(): Promise<void> {
    await this.writeTasks();
    await this.writeEpisodes();
    const stats: Record<string, unknown> = aggregateStats(this.episodes.map((e) => e.stats));
    for (const name of this.imageNames) stats[name] = nestImageStats(stats[name] as FeatureStats);
    await writeFile(join(this.staging, STATS_PATH), `${JSON.stringify(stats, null, 4)}\n`);
    await writeFile(join(this.staging, INFO_PATH), `${JSON.stringify(this.info(), null, 4)}\n`);
    await writeFile(join(this.staging, TG_EPISODES_PATH), `${this.tgEpisodes.join('\n')}\n`);
  }

  /** Drops everything written so far; nothing appears at `dir`. */
  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'aborted';
    this.endStream();
    await this.inflight;
    this.inflight = undefined;
    await this.stopWorker();
    this.release();
    await rm(this.staging, { recursive: true, force: true });
  }

  private async stopWorker(): Promise<void> {
    await this.workerStarting;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.close();
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.db.closeSync();
    this.instance.closeSync();
  }

  private info(): DatasetInfo {
    return {
      codebase_version: CODEBASE_VERSION,
      robot_type: this.opts.robotType,
      total_episodes: this.episodes.length,
      total_frames: this.totalFrames,
      total_tasks: this.tasks.size,
      chunks_size: this.opts.chunksSize,
      data_files_size_in_mb: this.opts.dataFilesSizeInMb,
      video_files_size_in_mb: DEFAULT_VIDEO_FILE_SIZE_IN_MB,
      fps: this.opts.fps,
      splits: { train: `0:${this.episodes.length}` },
      data_path: DEFAULT_DATA_PATH,
      video_path: null,
      features: this.features,
    };
  }

  /** The "huggingface" schema metadata HF `datasets` writes with a table: its features, non-video. */
  private hfMetadata(): string {
    return hfMetadata(this.features);
  }

  /**
   * Starts writing the pending episodes (writeBatch) and returns while DuckDB encodes them, on the worker
   * or on this thread between the caller's episodes. At most one batch is in flight, so data files receive
   * batches in episode order.
   */
  private async flushBatch(last: boolean): Promise<void> {
    if (this.pending.length === 0) return;
    // More batches will follow: start the worker (in the background; batches go inline until it is up).
    if (!last) this.startWorker();
    this.endStream();
    await this.settle();
    const batch = this.pending;
    const blocks = this.pendingBlocks;
    this.pending = [];
    this.pendingBlocks = [];
    this.pendingFrames = 0;
    this.pendingBytes = 0;
    const write = this.writeBatch(batch, blocks);
    this.track(write);
    if (blocks.some((b) => b.length > CHUNK_FRAMES)) this.splicing = write.catch(() => {});
    await yieldToLoop();
  }

  /** Waits for the batch in flight; rethrows its failure. */
  private async settle(): Promise<void> {
    await this.inflight;
    this.inflight = undefined;
    const failure = this.inflightError;
    if (failure === undefined) return;
    this.inflightError = undefined;
    if (failure instanceof TgError) throw failure;
    throw new TgError('STORAGE_FAILED', `lerobot writer: writing episodes: ${String(failure)}`, {
      cause: failure,
    });
  }

  /**
   * Writes one batch as one data file. An episode that fits one DuckDB data chunk (2048 frames) is handed
   * over as exactly one chunk, and a COPY with ROW_GROUP_SIZE 1 closes a row group after every chunk it
   * receives, so a batch of such episodes is one COPY straight into its data file, one row group per
   * episode, checked against the episodes before it counts.
   */
  private async writeBatch(batch: EpisodeRow[], blocks: FrameBlock[]): Promise<void> {
    if (blocks.some((b) => b.length > CHUNK_FRAMES)) {
      await this.writeSpliced(batch, blocks);
      return;
    }
    const at = await this.fileNames.allocate();
    await this.copyFrames(blocks, at.path, 'ROW_GROUP_SIZE 1');
    await this.checkRowGroups(at.path, batch);
    for (const row of batch) {
      row['data/chunk_index'] = at.chunk;
      row['data/file_index'] = at.file;
    }
    await this.learnBytesRatio(at.path, batch);
  }

  /**
   * A batch with episodes longer than one chunk: those go through a COPY partitioned by episode (one
   * single-row-group file each), the others through one aligned COPY as above, and the row groups are
   * spliced in order into data files rolled over by size (./data-files.ts).
   */
  private async writeSpliced(batch: EpisodeRow[], blocks: FrameBlock[]): Promise<void> {
    const files = new DataFiles(this.fileNames, this.opts.dataFilesSizeInMb);
    const place = async (part: ParsedParquet, index: number, row: EpisodeRow) => {
      const at = await files.append(part, index);
      row['data/chunk_index'] = at.chunk;
      row['data/file_index'] = at.file;
    };
    try {
      for (let i = 0; i < batch.length; ) {
        const long = (blocks[i] as FrameBlock).length > CHUNK_FRAMES;
        let j = i + 1;
        while (j < batch.length && (blocks[j] as FrameBlock).length > CHUNK_FRAMES === long) j++;
        const rows = batch.slice(i, j);
        const work = join(this.staging, '.work', `batch-${rows[0]?.episode_index}`);
        if (long) {
          await this.copyFrames(
            blocks.slice(i, j),
            work,
            `PARTITION_BY (episode_index), WRITE_PARTITION_COLUMNS true, OVERWRITE true, FILENAME_PATTERN 'part', ROW_GROUP_SIZE 2147483647`,
          );
          for (const row of rows) {
            const partDir = join(work, `episode_index=${row.episode_index}`);
            const names = await readdir(partDir);
            if (names.length !== 1)
              throw new Error(`DuckDB wrote ${names.length} files for episode ${row.episode_index}`);
            const part = parseParquet(await readFile(join(partDir, names[0] as string)));
            if (part.rowGroups.length !== 1 || part.numRows !== row.length)
              throw new Error(
                `DuckDB wrote ${part.rowGroups.length} row groups / ${part.numRows} rows for episode ${row.episode_index} (${row.length} frames)`,
              );
            await place(part, 0, row);
          }
        } else {
          const target = `${work}.parquet`;
          await this.copyFrames(blocks.slice(i, j), target, 'ROW_GROUP_SIZE 1');
          const part = parseParquet(await readFile(target));
          if (
            part.rowGroups.length !== rows.length ||
            rows.some((r, k) => rowGroupRows(part, k) !== r.length)
          )
            throw new Error(
              `DuckDB cut ${part.rowGroups.length} row groups for episodes ${rows[0]?.episode_index}..${rows.at(-1)?.episode_index}`,
            );
          for (let k = 0; k < rows.length; k++) await place(part, k, rows[k] as EpisodeRow);
        }
        await rm(long ? work : `${work}.parquet`, { recursive: true, force: true });
        i = j;
      }
      await files.finish();
    } catch (err) {
      await files.abort();
      throw err;
    }
  }

  /** One COPY of `blocks` to `target` with snappy, the HF metadata and `options`, on the worker if it is up. */
  private async copyFrames(blocks: FrameBlock[], target: string, options: string): Promise<void> {
    const copier: FrameCopier = this.worker ?? this.inline;
    await copier.copy(blocks, target, this.copyOptions(options));
  }

  /** The COPY options of a data file: snappy, the HF metadata, then `options`. */
  private copyOptions(options: string): string {
    return `FORMAT parquet, COMPRESSION snappy, KV_METADATA {huggingface: ${quoteString(this.hfMetadata())}}, ${options}`;
  }

  private async writeTasks(): Promise<void> {
    await writeTasksParquet(this.db, this.staging, this.tasks);
  }

  private async writeEpisodes(): Promise<void> {
    await writeEpisodesParquet(
      this.db,
      this.staging,
      Object.keys(this.features),
      this.episodes,
      this.imageNames,
    );
  }
}

/** The "huggingface" parquet key-value metadata for a table with these (non-video) features. */
export function hfMetadata(featureSpecs: Record<string, FeatureSpec>): string {
  const features: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(featureSpecs)) features[name] = hfFeature(spec);
  return JSON.stringify({ info: { features } });
}

/** meta/tasks.parquet as pandas DataFrame.to_parquet writes it: column task_index, then the index "task". */
export async function writeTasksParquet(
  db: DuckDBConnection,
  staging: string,
  tasks: ReadonlyMap<string, number>,
): Promise<void> {
  const work = join(staging, '.work', 'tasks.jsonl');
  const lines = [...tasks].map(([task, i]) => JSON.stringify({ task_index: i, task }));
  await writeFile(work, `${lines.join('\n')}\n`);
  const pandas = {
    index_columns: ['task'],
    column_indexes: [
      {
        name: null,
        field_name: null,
        pandas_type: 'unicode',
        numpy_type: 'object',
        metadata: { encoding: 'UTF-8' },
      },
    ],
    columns: [
      {
        name: 'task_index',
        field_name: 'task_index',
        pandas_type: 'int64',
        numpy_type: 'int64',
        metadata: null,
      },
      { name: 'task', field_name: 'task', pandas_type: 'unicode', numpy_type: 'object', metadata: null },
    ],
    creator: { library: 'training-ground', version: '0.1.0' },
    pandas_version: '2.2.3',
  };
  const out = join(staging, TASKS_PATH);
  await mkdir(dirname(out), { recursive: true });
  await db.run(
    `COPY (SELECT task_index, task FROM read_json(${quoteString(work)}, format='newline_delimited', ` +
      `columns={task_index: 'BIGINT', task: 'VARCHAR'}) ORDER BY task_index) TO ${quoteString(out)} ` +
      `(FORMAT parquet, COMPRESSION snappy, KV_METADATA {pandas: ${quoteString(JSON.stringify(pandas))}})`,
  );
}

/** meta/episodes/chunk-000/file-000.parquet: one row per episode, columns as LeRobot's save_episode. */
export async function writeEpisodesParquet(
  db: DuckDBConnection,
  staging: string,
  statNames: readonly string[],
  episodes: readonly EpisodeRow[],
  /** Features whose stats LeRobot nests per channel ([c][1][1]), as it keeps image stats. */
  imageNames: readonly string[] = [],
  /** Every column through JSON (the path taken when stats are not plain finite vectors). */
  textOnly = false,
): Promise<void> {
  const head: [string, string][] = [
    ['episode_index', 'BIGINT'],
    ['tasks', 'VARCHAR[]'],
    ['length', 'BIGINT'],
    ['data/chunk_index', 'BIGINT'],
    ['data/file_index', 'BIGINT'],
    ['dataset_from_index', 'BIGINT'],
    ['dataset_to_index', 'BIGINT'],
  ];
  const tail: [string, string][] = [
    ['meta/episodes/chunk_index', 'BIGINT'],
    ['meta/episodes/file_index', 'BIGINT'],
  ];
  const statColumns: [string, string][] = [];
  for (const f of statNames) {
    const nested = imageNames.includes(f) ? '[][]' : '';
    for (const s of STAT_NAMES)
      statColumns.push([`stats/${f}/${s}`, s === 'count' ? 'BIGINT[]' : `DOUBLE[]${nested}`]);
  }
  // The stats (most of the bytes: ten vectors per feature per episode) go to DuckDB as raw doubles when
  // they can: printing and parsing them as JSON cost ~0.5 ms per episode.
  const binary =
    textOnly || imageNames.some((n) => statNames.includes(n)) ? undefined : statsBlock(statNames, episodes);
  const textColumns = binary ? [...head, ...tail] : [...head, ...statColumns, ...tail];
  const work = join(staging, '.work', 'episodes.jsonl');
  const lines = episodes.map((e) => {
    const row: Record<string, unknown> = {
      episode_index: e.episode_index,
      tasks: e.tasks,
      length: e.length,
      'data/chunk_index': e['data/chunk_index'],
      'data/file_index': e['data/file_index'],
      dataset_from_index: e.dataset_from_index,
      dataset_to_index: e.dataset_to_index,
    };
    if (!binary) {
      for (const f of statNames) {
        const stats = e.stats[f];
        const out = stats && imageNames.includes(f) ? nestImageStats(stats) : stats;
        for (const s of STAT_NAMES) row[`stats/${f}/${s}`] = out?.[s];
      }
    }
    row['meta/episodes/chunk_index'] = 0;
    row['meta/episodes/file_index'] = 0;
    return JSON.stringify(row);
  });
  await writeFile(work, `${lines.join('\n')}\n`);
  const out = join(staging, formatPath(DEFAULT_EPISODES_PATH, { chunk_index: 0, file_index: 0 }));
  await mkdir(dirname(out), { recursive: true });
  const spec = textColumns.map(([n, t]) => `${quoteString(n)}: ${quoteString(t)}`).join(', ');
  const json = `read_json(${quoteString(work)}, format='newline_delimited', columns={${spec}})`;
  if (!binary) {
    const select = textColumns.map(([n]) => quoteIdent(n)).join(', ');
    await db.run(
      `COPY (SELECT ${select} FROM ${json} ORDER BY episode_index) TO ${quoteString(out)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    return;
  }
  // Same columns, same types: the JSON columns and, row for row, the stats as lists.
  const source = new FrameSource(db, `tg_episode_stats_${statsSources++}`, binary.columns, true);
  const stats = binary.columns.map((c) => {
    const v = `s.${quoteIdent(c.name)}`;
    return `${c.type === 'BIGINT' || c.width === 1 ? `[${v}]` : `${v}::DOUBLE[]`} AS ${quoteIdent(c.name)}`;
  });
  const select = [
    ...head.map(([n]) => `j.${quoteIdent(n)}`),
    ...stats,
    ...tail.map(([n]) => `j.${quoteIdent(n)}`),
  ].join(', ');
  void source.load([binary.block]);
  try {
    await db.run(
      `COPY (SELECT ${select} FROM ${json} j POSITIONAL JOIN ${source.name}() s ORDER BY j.episode_index) ` +
        `TO ${quoteString(out)} (FORMAT parquet, COMPRESSION snappy)`,
    );
  } finally {
    source.unload();
  }
}

/** Distinct names for the stats table functions registered on a connection. */
let statsSources = 0;

/**
 * Every stats/<feature>/<stat> column as one block of raw values (episode-major), or undefined when some
 * episode lacks a stat, a vector's length varies, or a value is not finite (JSON writes those as null,
 * and that path is kept for them).
 */
function statsBlock(
  statNames: readonly string[],
  episodes: readonly EpisodeRow[],
): { columns: FrameColumn[]; block: FrameBlock } | undefined {
  const n = episodes.length;
  if (n === 0) return undefined;
  const columns: FrameColumn[] = [];
  const arrays: ArrayBufferView[] = [];
  for (const f of statNames) {
    for (const s of STAT_NAMES) {
      const name = `stats/${f}/${s}`;
      if (s === 'count') {
        const out = new BigInt64Array(n);
        for (let e = 0; e < n; e++) {
          const v = (episodes[e] as EpisodeRow).stats[f]?.[s];
          if (v?.length !== 1 || !Number.isSafeInteger(v[0])) return undefined;
          out[e] = BigInt(v[0] as number);
        }
        columns.push({ name, type: 'BIGINT', width: 1 });
        arrays.push(out);
        continue;
      }
      const width = (episodes[0] as EpisodeRow).stats[f]?.[s]?.length ?? 0;
      if (width === 0) return undefined;
      const out = new Float64Array(n * width);
      for (let e = 0, at = 0; e < n; e++) {
        const v = (episodes[e] as EpisodeRow).stats[f]?.[s];
        if (v?.length !== width) return undefined;
        for (let k = 0; k < width; k++, at++) {
          const x = v[k] as number;
          if (!Number.isFinite(x)) return undefined;
          out[at] = x;
        }
      }
      columns.push({ name, type: 'DOUBLE', width });
      arrays.push(out);
    }
  }
  return { columns, block: { length: n, columns: arrays } };
}
