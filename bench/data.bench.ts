/**
 * Recording throughput, the "record + validate + write LeRobot v3": frames go through the recorder
 * (copy into columns, episode content hash), every episode through the quality checks, then the LeRobot
 * v3.0 writer (stats with quantiles, parquet with one row group per episode, episodes metadata, tasks,
 * stats.json, atomic rename).
 *
 * The baseline writes the same arrays (the feature vectors plus LeRobot's timestamp/frame_index/
 * episode_index/index/task_index columns, computed inside the timed section) to one parquet file with the
 * same library and the writer's own settings, and nothing else (no checks, no stats, no metadata, no file
 * rollover): the same feed (src/data/lerobot/frame-copier.ts InlineCopier, DuckDB data chunks filled by
 * memcpy, one per episode, served at once by an otherwise idle thread), one DuckDB thread, snappy and
 * ROW_GROUP_SIZE 1, so also one row group per episode (measured ~35% cheaper than DuckDB's default row
 * groups: the stronger baseline).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { EpisodeLabels, RecordedEpisode } from '../src/data/episode.ts';
import { InlineCopier } from '../src/data/lerobot/frame-copier.ts';
import type { FrameBlock } from '../src/data/lerobot/frame-source.ts';
import { int64Sequence, LeRobotWriter } from '../src/data/lerobot/writer.ts';
import { checkEpisode, episodeVerdict, resolveThresholds } from '../src/data/quality/index.ts';
import { Recorder } from '../src/data/recorder.ts';
import { defineBenchmark, type Measurement } from './harness.ts';

const STATE = 'observation.state';
const ACTION = 'action';

const LABELS: EpisodeLabels = {
  robot: 'bench-arm',
  embodimentHash: 'bench',
  vendor: 'bench',
  field: 'bench',
  operator: 'bench',
  task: 'bench',
  instruction: 'track the reference',
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

/** The baseline's feed: the same column layout the writer declares, DuckDB started (not timed, as the writer's). */
function baselineCopier(half: number): Promise<InlineCopier> {
  return InlineCopier.create([
    { name: STATE, type: 'FLOAT', width: half },
    { name: ACTION, type: 'FLOAT', width: half },
    { name: 'timestamp', type: 'FLOAT', width: 1 },
    ...['frame_index', 'episode_index', 'index', 'task_index'].map((name) => ({
      name,
      type: 'BIGINT' as const,
      width: 1,
    })),
  ]);
}

/** Plain DuckDB: the same arrays through the same feed and settings, one COPY to one parquet file. */
async function writeBaseline(copier: InlineCopier, path: string, episodes: RecordedEpisode[], fps: number) {
  const blocks: FrameBlock[] = [];
  let from = 0;
  for (let e = 0; e < episodes.length; e++) {
    const ep = episodes[e] as RecordedEpisode;
    const n = ep.length;
    const ts = new Float32Array(n);
    for (let f = 0; f < n; f++) ts[f] = f / fps;
    blocks.push({
      length: n,
      columns: [
        ep.columns[STATE] as Float32Array,
        ep.columns[ACTION] as Float32Array,
        ts,
        int64Sequence(0, n),
        new BigInt64Array(n).fill(BigInt(e)),
        int64Sequence(from, n),
        new BigInt64Array(n),
      ],
    });
    from += n;
  }
  await copier.copy(blocks, path, 'FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1');
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
      // dims floats per frame: half observation.state, half action (the action is the next frame's state,
      // as a position target tracked perfectly), so the quality checks have both to compare.
      if (dims % 2 !== 0) throw new Error(`--dims must be even (state + action), got ${dims}`);
      const half = dims / 2;
      const names = Array.from({ length: half }, (_, d) => `j${d}`);
      const frame = new Float32Array(half);
      const recorder = new Recorder({
        fps,
        features: { [STATE]: half, [ACTION]: half },
        capacityFrames: episodeFrames,
      });
      // A long recording: the copier worker starts with the writer (outside the timed sections, like
      // the writer's DuckDB) and every episode streams to it from the first.
      const writer = await LeRobotWriter.create(join(root, 'ds'), {
        fps,
        robotType: 'bench-arm',
        streamFromStart: true,
        features: {
          [STATE]: { dtype: 'float32', shape: [half], names },
          [ACTION]: { dtype: 'float32', shape: [half], names },
        },
      });
      const thresholds = resolveThresholds(undefined);
      const featureNames = { [STATE]: names, [ACTION]: names };
      // Frame values (and the per-tick input objects a control loop would hold) are made outside the
      // timed sections; recording, checking and writing are timed. Like a real recording, the timed run
      // keeps no episode once written; the baseline's copy is recorded again afterwards, bit-identical
      // (checked by content hash).
      const ids: string[] = [];
      let recordNs = 0n;
      let validateNs = 0n;
      let writeNs = 0n;
      let rejected = 0;
      let f = 0;
      let ep = 0;
      const states = new Float32Array((episodeFrames + 1) * half);
      const inputs = Array.from({ length: episodeFrames }, (_, i) => ({
        [STATE]: states.subarray(i * half, (i + 1) * half),
        [ACTION]: states.subarray((i + 1) * half, (i + 2) * half),
      }));
      const fillInputs = (first: number, n: number) => {
        for (let i = 0; i <= n; i++) {
          fillFrame(frame, first + i);
          states.set(frame, i * half);
        }
      };
      const record = (first: number, n: number, seed: number): RecordedEpisode => {
        for (let i = 0; i < n; i++)
          recorder.record((first + i) / fps, inputs[i] as Record<string, Float32Array>);
        return recorder.finish({ ...LABELS, seed });
      };
      while (f < frames) {
        const n = Math.min(episodeFrames, frames - f);
        fillInputs(f, n);
        const t0 = process.hrtime.bigint();
        const episode = record(f, n, ep);
        const t1 = process.hrtime.bigint();
        const checks = checkEpisode(
          {
            fps,
            length: episode.length,
            timestampsSec: episode.timestampsSec,
            columns: episode.columns,
            names: featureNames,
            instruction: episode.meta.instruction,
            success: episode.meta.success,
          },
          thresholds,
        );
        if (episodeVerdict(checks) === 'fail') rejected++;
        const t2 = process.hrtime.bigint();
        await writer.addEpisode(episode);
        writeNs += process.hrtime.bigint() - t2;
        // The writer has copied the frames: the next episode is recorded into these arrays.
        recorder.recycle(episode);
        validateNs += t2 - t1;
        recordNs += t1 - t0;
        ids.push(episode.meta.id);
        f += n;
        ep++;
        if (ep % 50 === 0) ctx.progress((0.8 * f) / frames, `${f} frames`);
      }
      const tc = process.hrtime.bigint();
      await writer.close();
      writeNs += process.hrtime.bigint() - tc;
      const totalSec = Number(recordNs + validateNs + writeNs) / 1e9;
      const framesPerSec = frames / totalSec;

      ctx.progress(0.85, 'baseline');
      const episodes: RecordedEpisode[] = [];
      for (let first = 0, e = 0; first < frames; first += episodeFrames, e++) {
        const n = Math.min(episodeFrames, frames - first);
        fillInputs(first, n);
        const episode = record(first, n, e);
        if (episode.meta.id !== ids[e]) throw new Error(`baseline episode ${e} differs from the one written`);
        episodes.push(episode);
      }
      const copier = await baselineCopier(half);
      let baselineSec: number;
      try {
        const tb = process.hrtime.bigint();
        await writeBaseline(copier, join(root, 'baseline.parquet'), episodes, fps);
        baselineSec = Number(process.hrtime.bigint() - tb) / 1e9;
      } finally {
        await copier.close();
      }
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
            validateNsPerFrame: Math.round(Number(validateNs) / frames),
            writerNsPerFrame: Math.round(Number(writeNs) / frames),
            rejectedEpisodes: rejected,
          },
        },
      ];
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
});
