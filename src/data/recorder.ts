/**
 * The recorder taps every control tick and keeps the frames columnar: one Float32Array per feature,
 * preallocated and grown by doubling, so `record` allocates nothing on the hot path in steady state.
 */
import { TgError } from '../errors/index.ts';
import { computeEpisodeId, type EpisodeLabels, EpisodeMetaSchema, type RecordedEpisode } from './episode.ts';

export interface RecorderOptions {
  fps: number;
  /** Feature name -> vector length (e.g. {'observation.state': 29, action: 29}). */
  features: Record<string, number>;
  /** Initial capacity in frames (default 1024). */
  capacityFrames?: number;
}

export class Recorder {
  readonly fps: number;
  private readonly names: string[];
  private readonly dims: number[];
  private buffers: Float32Array[];
  private timestamps: Float64Array;
  private capacity: number;
  private count = 0;
  /** Arrays finish() handed out and recycle() has not taken back. */
  private readonly issued = new WeakSet<ArrayBufferView>();
  /** An episode's arrays given back by recycle(), for the next finish() to fill. */
  private spare: { columns: Float32Array[]; timestamps: Float64Array } | undefined;

  constructor(opts: RecorderOptions) {
    if (!Number.isInteger(opts.fps) || opts.fps <= 0) {
      throw new TgError('INPUT_INVALID', `recorder: fps must be a positive integer, got ${opts.fps}`);
    }
    this.fps = opts.fps;
    this.names = Object.keys(opts.features);
    if (this.names.length === 0) throw new TgError('INPUT_INVALID', 'recorder: no features declared');
    this.dims = this.names.map((n) => {
      const dim = opts.features[n] as number;
      if (!Number.isInteger(dim) || dim <= 0) {
        throw new TgError('INPUT_INVALID', `recorder: feature ${n} has invalid length ${dim}`);
      }
      return dim;
    });
    this.capacity = Math.max(1, Math.floor(opts.capacityFrames ?? 1024));
    this.buffers = this.dims.map((d) => new Float32Array(this.capacity * d));
    this.timestamps = new Float64Array(this.capacity);
  }

  /** Frames recorded so far. */
  get length(): number {
    return this.count;
  }

  /** Copies one frame in. Every declared feature must be present with its declared length. */
  record(timestampSec: number, features: Record<string, Float32Array>): void {
    if (this.count === this.capacity) this.grow();
    const frame = this.count;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string;
      const dim = this.dims[i] as number;
      const src = features[name];
      if (src === undefined || src.length !== dim) {
        throw new TgError(
          'INPUT_INVALID',
          `recorder: frame ${frame}: feature ${name} ${src === undefined ? 'missing' : `has length ${src.length}, expected ${dim}`}`,
        );
      }
      (this.buffers[i] as Float32Array).set(src, frame * dim);
    }
    this.timestamps[frame] = timestampSec;
    this.count++;
  }

  /** Drops the frames recorded so far (an aborted episode is not data). */
  discard(): void {
    this.count = 0;
  }

  /**
   * Ends the episode: returns exact-length copies of the columns and resets the recorder for the next one.
   * The copies go into the arrays of a recycled episode when they fit, else into new ones.
   */
  finish(labels: EpisodeLabels): RecordedEpisode {
    const length = this.count;
    const columns: Record<string, Float32Array> = {};
    const spare = this.spare;
    this.spare = undefined;
    for (let i = 0; i < this.names.length; i++) {
      const n = length * (this.dims[i] as number);
      const reuse = spare?.columns[i];
      const out =
        reuse && reuse.buffer.byteLength >= 4 * n
          ? new Float32Array(reuse.buffer as ArrayBuffer, 0, n)
          : new Float32Array(n);
      out.set((this.buffers[i] as Float32Array).subarray(0, n));
      columns[this.names[i] as string] = out;
    }
    const timestampsSec =
      spare && spare.timestamps.buffer.byteLength >= 8 * length
        ? new Float64Array(spare.timestamps.buffer as ArrayBuffer, 0, length)
        : new Float64Array(length);
    timestampsSec.set(this.timestamps.subarray(0, length));
    const withoutId = { ...labels, fps: this.fps, length };
    const parsed = EpisodeMetaSchema.safeParse({ ...withoutId, id: '0'.repeat(64) });
    if (!parsed.success) {
      throw new TgError(
        'INPUT_INVALID',
        `recorder: episode metadata: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    }
    const { id: _placeholder, ...clean } = parsed.data;
    const id = computeEpisodeId(clean, columns, timestampsSec);
    this.count = 0;
    for (const c of Object.values(columns)) this.issued.add(c);
    this.issued.add(timestampsSec);
    return { meta: { ...clean, id }, length, timestampsSec, columns };
  }

  /**
   * Gives a finished episode's arrays back once nothing reads them any more (e.g. once
   * LeRobotWriter.addEpisode, which copies them, has returned): the next finish() fills them instead of
   * allocating ~4 bytes per value (and the collector freeing them later). The episode's columns and
   * timestamps must not be used afterwards. Arrays this recorder did not hand out, or already took
   * back, are ignored.
   */
  recycle(episode: RecordedEpisode): void {
    const columns = this.names.map((n) => episode.columns[n]);
    const all = [...columns, episode.timestampsSec];
    if (!all.every((a) => a !== undefined && this.issued.has(a))) return;
    for (const a of all) this.issued.delete(a as ArrayBufferView);
    this.spare = { columns: columns as Float32Array[], timestamps: episode.timestampsSec };
  }

  private grow(): void {
    const next = this.capacity * 2;
    this.buffers = this.buffers.map((old, i) => {
      const grown = new Float32Array(next * (this.dims[i] as number));
      grown.set(old);
      return grown;
    });
    const ts = new Float64Array(next);
    ts.set(this.timestamps);
    this.timestamps = ts;
    this.capacity = next;
  }
}
