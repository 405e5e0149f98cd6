/**
 * Exports LeRobot v3 episodes to an MCAP file Foxglove can open: chunked, with message indexes, chunk
 * indexes, statistics and summary offsets (McapWriter's defaults), channels as ./channels.ts lists them.
 *
 * Log time of a frame = start time + the dataset's `timestamp` column (seconds from the episode's first
 * frame). A whole-dataset export lays episodes end to end, each starting one frame period after the
 * previous one ends, and writes an MCAP Metadata record "episode" per episode (its index, first log time,
 * task and Training Ground metadata) so a viewer can find the boundaries.
 *
 * The file is written under a temporary name beside `outFile` and renamed into place once `end()` has
 * written the summary, so `outFile` is either absent or a complete, indexed MCAP file.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { McapWriter } from '@mcap/core';
import { TgError } from '../../errors/index.ts';
import type { FeatureSpec } from '../lerobot/format.ts';
import { type LeRobotDataset, readLeRobotDataset } from '../lerobot/reader.ts';
import {
  EFFORT_FEATURES,
  FEATURE_ACTION,
  FEATURE_STATE,
  featureTopic,
  JSON_ENCODING,
  JSONSCHEMA_ENCODING,
  PREFIX_DEPTH,
  PREFIX_TACTILE,
  PREFIX_WRENCH,
  SCHEMAS,
  type SchemaDef,
  TOPIC_ACTION,
  TOPIC_JOINT_STATES,
  TOPIC_TF,
  VELOCITY_FEATURES,
} from './channels.ts';
import { chunkCompressor } from './compression.ts';
import { FileWritable } from './file-io.ts';
import { jointTransform, type KinematicDescription } from './kinematics.ts';

export interface McapExportOptions {
  /** Root frame of /tf (default 'base_link'). */
  rootFrame?: string;
  /** Joint kinematics for /tf; without it joints form a flat star about z (see ./kinematics.ts). */
  kinematics?: KinematicDescription;
  /** Image size per depth camera (observation.depth.<camera> holds height*width floats, row-major). */
  depthImageSize?: Record<string, { width: number; height: number }>;
  /** Log time of the first frame, nanoseconds (default 0). */
  startTimeNs?: bigint;
  /** Uncompressed bytes per chunk before it is closed (default 1 MiB). */
  chunkSizeBytes?: number;
}

export interface McapExportResult {
  file: string;
  episodes: number[];
  messageCount: number;
  /** Topic -> messages written. */
  topics: Record<string, number>;
  startTimeNs: bigint;
  endTimeNs: bigint;
  /** '' = uncompressed chunks (see ./compression.ts). */
  compression: string;
}

const DEFAULT_FEATURES = new Set(['timestamp', 'frame_index', 'episode_index', 'index', 'task_index']);
const encoder = new TextEncoder();

interface Feature {
  name: string;
  dim: number;
  names: string[];
}

function invalid(message: string): TgError {
  return new TgError('INPUT_INVALID', message);
}

/** LeRobot writes names as a list, or as {axis_name: [..]} in older datasets; anything else is numbered. */
function elementNames(spec: FeatureSpec, dim: number): string[] {
  const n = spec.names;
  if (Array.isArray(n) && n.length === dim) return n.map(String);
  if (n !== null && typeof n === 'object' && !Array.isArray(n)) {
    for (const v of Object.values(n)) if (Array.isArray(v) && v.length === dim) return v.map(String);
  }
  return Array.from({ length: dim }, (_, i) => String(i));
}

function floatFeatures(ds: LeRobotDataset): Map<string, Feature> {
  const out = new Map<string, Feature>();
  for (const [name, spec] of Object.entries(ds.info.features)) {
    if (DEFAULT_FEATURES.has(name) || (spec.dtype !== 'float32' && spec.dtype !== 'float64')) continue;
    const dim = spec.shape.length === 0 ? 1 : spec.shape.reduce((a, b) => a * b, 1);
    out.set(name, { name, dim, names: elementNames(spec, dim) });
  }
  return out;
}

function stamp(ns: bigint): { sec: number; nsec: number } {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * LeRobot stores `timestamp` as float32 (frame_index / fps rounded), which is 24 ns off at 0.6 s and
 * microseconds off after minutes. When the stored value is that rounding of the frame's grid time, the exact
 * grid time is used; otherwise (a dataset with real capture times) the stored value itself.
 */
function frameOffsetNs(timestampSec: number, frameIndex: number, fps: number): bigint {
  const grid = frameIndex / fps;
  if (Math.abs(timestampSec - grid) <= Math.max(1e-9, Math.abs(grid) * 2 ** -22)) {
    const num = BigInt(frameIndex) * 1_000_000_000n;
    const den = BigInt(fps);
    return (num + den / 2n) / den;
  }
  return BigInt(Math.round(timestampSec * 1e9));
}

/** One channel and how to turn frame f of the episode's columns into its message. */
interface ChannelPlan {
  topic: string;
  schema: SchemaDef;
  feature: string;
  message(columns: Record<string, Float32Array>, f: number, ns: bigint): object;
}

function slice(col: Float32Array | undefined, f: number, dim: number): number[] {
  if (col === undefined) return [];
  return Array.from(col.subarray(f * dim, (f + 1) * dim));
}

function planChannels(
  ds: LeRobotDataset,
  features: Map<string, Feature>,
  opts: McapExportOptions,
): ChannelPlan[] {
  const plans: ChannelPlan[] = [];
  const used = new Set<string>();
  const rootFrame = opts.rootFrame ?? 'base_link';
  const state = features.get(FEATURE_STATE);
  if (state) {
    used.add(state.name);
    const velocity = VELOCITY_FEATURES.map((n) => features.get(n)).find((f) => f?.dim === state.dim);
    const effort = EFFORT_FEATURES.map((n) => features.get(n)).find((f) => f?.dim === state.dim);
    if (velocity) used.add(velocity.name);
    if (effort) used.add(effort.name);
    plans.push({
      topic: TOPIC_JOINT_STATES,
      schema: SCHEMAS.jointStates,
      feature: state.name,
      message: (cols, f, ns) => {
        const p = cols[state.name] as Float32Array;
        const v = velocity ? cols[velocity.name] : undefined;
        const e = effort ? cols[effort.name] : undefined;
        const base = f * state.dim;
        return {
          timestamp: stamp(ns),
          joints: state.names.map((name, j) => ({
            name,
            position: p[base + j],
            ...(v ? { velocity: v[base + j] } : {}),
            ...(e ? { effort: e[base + j] } : {}),
          })),
        };
      },
    });
    plans.push({
      topic: TOPIC_TF,
      schema: SCHEMAS.frameTransforms,
      feature: state.name,
      message: (cols, f, ns) => {
        const p = cols[state.name] as Float32Array;
        const timestamp = stamp(ns);
        return {
          transforms: state.names.map((name, j) => {
            const t = jointTransform(
              name,
              p[f * state.dim + j] as number,
              rootFrame,
              opts.kinematics?.[name],
            );
            return {
              timestamp,
              parent_frame_id: t.parent,
              child_frame_id: t.child,
              translation: t.translation,
              rotation: t.rotation,
            };
          }),
        };
      },
    });
  }
  for (const feat of features.values()) {
    if (used.has(feat.name)) continue;
    const { name, dim, names } = feat;
    if (name === FEATURE_ACTION) {
      plans.push({
        topic: TOPIC_ACTION,
        schema: SCHEMAS.vector,
        feature: name,
        message: (cols, f, ns) => ({
          timestamp: stamp(ns),
          feature: name,
          names,
          values: slice(cols[name], f, dim),
        }),
      });
    } else if (name.startsWith(PREFIX_TACTILE)) {
      const pad = name.slice(PREFIX_TACTILE.length);
      plans.push({
        topic: `/tactile/${pad}`,
        schema: SCHEMAS.tactile,
        feature: name,
        message: (cols, f, ns) => ({ timestamp: stamp(ns), pad, names, values: slice(cols[name], f, dim) }),
      });
    } else if (name.startsWith(PREFIX_WRENCH) && dim === 6) {
      const site = name.slice(PREFIX_WRENCH.length);
      plans.push({
        topic: `/wrench/${site}`,
        schema: SCHEMAS.wrench,
        feature: name,
        message: (cols, f, ns) => {
          const [fx, fy, fz, tx, ty, tz] = slice(cols[name], f, dim);
          return {
            timestamp: stamp(ns),
            frame_id: site,
            force: { x: fx, y: fy, z: fz },
            torque: { x: tx, y: ty, z: tz },
          };
        },
      });
    } else if (name.startsWith(PREFIX_DEPTH)) {
      const camera = name.slice(PREFIX_DEPTH.length);
      const size = opts.depthImageSize?.[camera] ?? { width: dim, height: 1 };
      if (size.width * size.height !== dim)
        throw invalid(
          `${ds.dir}: feature ${name} has ${dim} values, depthImageSize ${size.width}x${size.height} needs ${size.width * size.height}`,
        );
      plans.push({
        topic: `/depth/${camera}`,
        schema: SCHEMAS.rawImage,
        feature: name,
        message: (cols, f, ns) => {
          const col = cols[name] as Float32Array;
          const px = col.subarray(f * dim, (f + 1) * dim);
          // 32FC1 is little-endian float32 row-major, the byte order of every platform Node runs on.
          const data = Buffer.from(px.buffer, px.byteOffset, px.byteLength).toString('base64');
          return {
            timestamp: stamp(ns),
            frame_id: camera,
            width: size.width,
            height: size.height,
            encoding: '32FC1',
            step: size.width * 4,
            data,
          };
        },
      });
    } else {
      plans.push({
        topic: featureTopic(name),
        schema: SCHEMAS.vector,
        feature: name,
        message: (cols, f, ns) => ({
          timestamp: stamp(ns),
          feature: name,
          names,
          values: slice(cols[name], f, dim),
        }),
      });
    }
  }
  return plans;
}

/** Exports one episode of the LeRobot dataset at `datasetDir` to `outFile`. */
export function exportEpisodeToMcap(
  datasetDir: string,
  episodeIndex: number,
  outFile: string,
  opts: McapExportOptions = {},
): Promise<McapExportResult> {
  return exportEpisodes(datasetDir, [episodeIndex], outFile, opts);
}

/** Exports every episode (or the listed ones, in that order) to one MCAP file. */
export function exportDatasetToMcap(
  datasetDir: string,
  outFile: string,
  opts: McapExportOptions & { episodes?: number[] } = {},
): Promise<McapExportResult> {
  return exportEpisodes(datasetDir, opts.episodes ?? 'all', outFile, opts);
}

async function exportEpisodes(
  datasetDir: string,
  which: number[] | 'all',
  outFile: string,
  opts: McapExportOptions,
): Promise<McapExportResult> {
  const ds = await readLeRobotDataset(datasetDir);
  const tmp = join(
    dirname(outFile),
    `.${basename(outFile)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let handle: FileHandle | undefined;
  try {
    const indices = which === 'all' ? ds.episodes.map((e) => e.episodeIndex) : which;
    if (indices.length === 0) throw invalid(`${datasetDir}: no episodes to export`);
    for (const i of indices) {
      if (!Number.isInteger(i) || ds.episodes[i] === undefined)
        throw new TgError(
          'NOT_FOUND',
          `episode ${i} not in dataset ${datasetDir} (${ds.episodes.length} episodes)`,
        );
    }
    const plans = planChannels(ds, floatFeatures(ds), opts);
    const compressChunk = chunkCompressor();
    handle = await open(tmp, 'wx');
    const writer = new McapWriter({
      writable: new FileWritable(handle),
      chunkSize: opts.chunkSizeBytes ?? 1024 * 1024,
      ...(compressChunk ? { compressChunk } : {}),
    });
    await writer.start({ profile: '', library: 'training-ground' });
    const schemaIds = new Map<string, number>();
    const channels: { plan: ChannelPlan; id: number; sequence: number; count: number }[] = [];
    for (const plan of plans) {
      let schemaId = schemaIds.get(plan.schema.name);
      if (schemaId === undefined) {
        schemaId = await writer.registerSchema({
          name: plan.schema.name,
          encoding: JSONSCHEMA_ENCODING,
          data: encoder.encode(JSON.stringify(plan.schema.json)),
        });
        schemaIds.set(plan.schema.name, schemaId);
      }
      const id = await writer.registerChannel({
        topic: plan.topic,
        schemaId,
        messageEncoding: JSON_ENCODING,
        metadata: new Map([['lerobot_feature', plan.feature]]),
      });
      channels.push({ plan, id, sequence: 0, count: 0 });
    }

    const periodNs = BigInt(Math.round(1e9 / ds.info.fps));
    const startNs = opts.startTimeNs ?? 0n;
    let episodeStartNs = startNs;
    let endNs = startNs;
    let messageCount = 0;
    for (const episodeIndex of indices) {
      const frames = await ds.readEpisodeFrames(episodeIndex);
      const tg = ds.tgEpisodes?.[episodeIndex];
      const meta = new Map<string, string>([
        ['episode_index', String(episodeIndex)],
        ['start_time_ns', String(episodeStartNs)],
        ['length', String(frames.length)],
        ['task', ds.episodes[episodeIndex]?.tasks.join('; ') ?? ''],
      ]);
      if (tg)
        for (const [k, v] of Object.entries(tg))
          meta.set(`tg.${k}`, typeof v === 'string' ? v : JSON.stringify(v));
      await writer.addMetadata({ name: 'episode', metadata: meta });
      let lastNs = episodeStartNs;
      for (let f = 0; f < frames.length; f++) {
        const ns =
          episodeStartNs +
          frameOffsetNs(frames.timestamp[f] as number, frames.frameIndex[f] as number, ds.info.fps);
        // a float32 timestamp can round backwards by a few ns; MCAP log times must not go backwards per channel
        if (ns > lastNs) lastNs = ns;
        for (const ch of channels) {
          const data = encoder.encode(JSON.stringify(ch.plan.message(frames.columns, f, lastNs)));
          await writer.addMessage({
            channelId: ch.id,
            sequence: ch.sequence++,
            logTime: lastNs,
            publishTime: lastNs,
            data,
          });
          ch.count++;
          messageCount++;
        }
      }
      endNs = lastNs;
      episodeStartNs = lastNs + periodNs;
    }
    await writer.end();
    await handle.close();
    handle = undefined;
    await rename(tmp, outFile);
    const topics: Record<string, number> = {};
    for (const ch of channels) topics[ch.plan.topic] = ch.count;
    return {
      file: outFile,
      episodes: indices,
      messageCount,
      topics,
      startTimeNs: startNs,
      endTimeNs: endNs,
      compression: compressChunk ? 'zstd' : '',
    };
  } catch (cause) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true });
    if (cause instanceof TgError) throw cause;
    throw new TgError('STORAGE_FAILED', `mcap export to ${outFile}: ${(cause as Error).message}`, { cause });
  } finally {
    ds.close();
  }
}
