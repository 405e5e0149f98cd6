/**
 * Recording throughput: frames go through the recorder (validate + copy), then the LeRobot v3.0 writer
 * (stats, parquet, metadata, atomic rename). The baseline writes the same columns (the feature vectors plus
 * LeRobot's timestamp/frame_index/episode_index/index/task_index) to one parquet file with the same library
 * (DuckDB data chunks filled by memcpy, one COPY, snappy) and nothing else: no stats, no row group per
 * episode, no metadata.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARRAY, BIGINT, DuckDBDataChunk, DuckDBInstance, FLOAT } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { z } from 'zod';
import type { EpisodeLabels, RecordedEpisode } from '../src/data/episode.ts';
import { LeRobotWriter } from '../src/data/lerobot/writer.ts';
import { Recorder } from '../src/data/recorder.ts';
import { defineBenchmark, type Measurement } from './harness.ts';

const FEATURE = 'observation.state';
const VECTOR_SIZE = 2048;

const LABELS: EpisodeLabels = {
  robot: 'bench-arm',
  embodimentHash: 'bench',
  vendor: 'bench',
  field: 'bench',
  operator: 'bench',
  task: 'bench',
  instruction: 'hold still',
  source: 'scripted',
  phase: 'drill',
  success: true,
  seed: 0,
  events: [],
};

/** Deterministic, not constant (compression and quantiles see varied data). */
function fillFrame(out: Float32Array, f: number): void {
  for (let d = 0; d < out.length; d++) out[d] = Math.sin(f * 0.001 + d) + ((f * 31 + d * 17) % 97) * 1e-3;
}

/** Plain DuckDB: the same arrays, appended by memcpy into data chunks, one COPY to parquet. */
async function writeBaseline(path: string, episodes: RecordedEpisode[], dims: number, fps: number) {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(
      `CREATE TABLE frames ("${FEATURE}" FLOAT[${dims}], timestamp FLOAT, frame_index BIGINT, ` +
        'episode_index BIGINT, "index" BIGINT, task_index BIGINT)',
    );
    const appender = await db.createAppender('frames');
    const chunk = DuckDBDataChunk.create([ARRAY(FLOAT, dims), FLOAT, BIGINT, BIGINT, BIGINT, BIGINT]);
    let from = 0;
    for (let e = 0; e < episodes.length; e++) {
      const ep = episodes[e] as RecordedEpisode;
      const n = ep.length;
      const ts = new Float32Array(n);
      const fi = new BigInt64Array(n);
      const idx = new BigInt64Array(n);
      for (let f = 0; f < n; f++) {
        ts[f] = f / fps;
        fi[f] = BigInt(f);
        idx[f] = BigInt(from + f);
      }
      const cols: [Float32Array | BigInt64Array, number][] = [
        [ep.columns[FEATURE] as Float32Array, dims],
        [ts, 1],
        [fi, 1],
        [new BigInt64Array(n).fill(BigInt(e)), 1],
        [idx, 1],
        [new BigInt64Array(n), 1],
      ];
      for (let start = 0; start < n; start += VECTOR_SIZE) {
        const rows = Math.min(VECTOR_SIZE, n - start);
        chunk.reset();
        chunk.rowCount = rows;
        cols.forEach(([data, width], c) => {
          let vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
          if (width > 1) vector = duckdb.array_vector_get_child(vector);
          const b = data.BYTES_PER_ELEMENT;
          duckdb.copy_data_to_vector(
            vector,
            0,
            data.buffer as ArrayBuffer,
            data.byteOffset + start * width * b,
            rows * width * b,
          );
        });
        appender.appendDataChunk(chunk);
      }
      from += n;
    }
    appender.closeSync();
    await db.run(`COPY frames TO '${path.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION snappy)`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

export default defineBenchmark({
  name: 'data',
  description: 'record + validate + write LeRobot v3.0 (frames/s), against a plain DuckDB parquet write',
  options: z.object({
    frames: z.coerce.number().int().positive().default(1_000_000),
    dims: z.coerce.number().int().positive().default(64),
    episodeFrames: z.coerce.number().int().positive().default(1000),
    fps: z.coerce.number().int().positive().default(30),
  }),
  async run(opts, ctx): Promise<Measurement[]> {
    const { frames, dims, episodeFrames, fps } = opts;
    const root = mkdtempSync(join(tmpdir(), 'tg-bench-data-'));
    try {
      const names = Array.from({ length: dims }, (_, d) => `j${d}`);
      const frame = new Float32Array(dims);
      const recorder = new Recorder({ fps, features: { [FEATURE]: dims }, capacityFrames: episodeFrames });
      const writer = await LeRobotWriter.create(join(root, 'ds'), {
        fps,
        robotType: 'bench-arm',
        features: { [FEATURE]: { dtype: 'float32', shape: [dims], names } },
      });
      // Frame values are generated outside the timed sections; recording and writing are timed.
      const episodes: RecordedEpisode[] = [];
      let recordNs = 0n;
      let writeNs = 0n;
      let f = 0;
      let ep = 0;
      const sourceFrames = new Float32Array(episodeFrames * dims);
      while (f < frames) {
        const n = Math.min(episodeFrames, frames - f);
        for (let i = 0; i < n; i++) {
          fillFrame(frame, f + i);
          sourceFrames.set(frame, i * dims);
        }
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < n; i++) {
          recorder.record((f + i) / fps, { [FEATURE]: sourceFrames.subarray(i * dims, (i + 1) * dims) });
        }
        const episode = recorder.finish({ ...LABELS, seed: ep });
        const t1 = process.hrtime.bigint();
        await writer.addEpisode(episode);
        writeNs += process.hrtime.bigint() - t1;
        recordNs += t1 - t0;
        episodes.push(episode);
        f += n;
        ep++;
        if (ep % 50 === 0) ctx.progress((0.8 * f) / frames, `${f} frames`);
      }
      const tc = process.hrtime.bigint();
      await writer.close();
      writeNs += process.hrtime.bigint() - tc;
      const totalSec = Number(recordNs + writeNs) / 1e9;
      const framesPerSec = frames / totalSec;

      ctx.progress(0.85, 'baseline');
      const tb = process.hrtime.bigint();
      await writeBaseline(join(root, 'baseline.parquet'), episodes, dims, fps);
      const baselineSec = Number(process.hrtime.bigint() - tb) / 1e9;
      const baselineFramesPerSec = frames / baselineSec;
      ctx.progress(1);
      const round = (x: number) => Math.round(x);
      return [
        {
          metric: 'framesPerSec',
          value: round(framesPerSec),
          unit: 'frames/s',
          baseline: round(baselineFramesPerSec),
          higherIsBetter: true,
          details: {
            frames,
            dims,
            episodeFrames,
            framesPerSec: round(framesPerSec),
            baselineFramesPerSec: round(baselineFramesPerSec),
            ratio: Math.round((framesPerSec / baselineFramesPerSec) * 1000) / 1000,
            recorderNsPerFrame: Math.round(Number(recordNs) / frames),
            writerNsPerFrame: Math.round(Number(writeNs) / frames),
          },
        },
      ];
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
});
