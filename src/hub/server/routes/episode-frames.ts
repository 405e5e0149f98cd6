/**
 * One episode's recorded frames, thinned for plotting, with its quality checks (the console's episode view):
 *
 *   GET /api/episodes/:id/frames?points=500   joint state and action over time, at most `points` per series
 *
 * The frames come from where the catalog says the episode is stored: a LeRobot v3 dataset (its parquet data
 * file, read through src/data/lerobot/reader.ts, DuckDB), or a transfer bundle in the hub's blob store
 * (episodes that fields uploaded). The quality checks are the data module's per-episode checks
 * (src/data/quality/episode-quality.ts) with the default thresholds; the one check that compares an episode
 * with the rest of its dataset (duration outliers) is not among them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { readLeRobotDataset } from '../../../data/lerobot/reader.ts';
import {
  type CheckResult,
  checkEpisode,
  episodeVerdict,
  resolveThresholds,
} from '../../../data/quality/index.ts';
import { TgError } from '../../../errors/index.ts';
import { decodeBundle, readBundleHeader } from '../../../field/transfer/index.ts';
import { BlobStore } from '../../blobs/index.ts';
import type { Catalog } from '../../catalog/index.ts';
import type { EpisodeRow } from '../../catalog/types.ts';
import { parseInput } from '../input.ts';
import { parseQuery } from '../query.ts';
import type { RouteDoc } from './docs.ts';

export interface EpisodeFramesRoutesOptions {
  catalog: Catalog;
}

/** The features plotted, in this order: what the robot measured and what it was told. */
export const PLOTTED_FEATURES = ['observation.state', 'action'] as const;
export const FRAMES_DEFAULT_POINTS = 500;
export const FRAMES_MAX_POINTS = 5000;

export const episodeFramesParamsSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, 'an episode id is 64 lowercase hex digits (sha256)'),
});
export const episodeFramesQuerySchema = z
  .object({
    points: z
      .string()
      .regex(/^\d{1,5}$/, 'points must be a whole number')
      .transform(Number)
      .pipe(z.number().min(2, 'points must be at least 2').max(FRAMES_MAX_POINTS))
      .default(FRAMES_DEFAULT_POINTS),
  })
  .strict();

const seriesSchema = z.object({
  feature: z.string(),
  /** Channel names (LeRobot info.json `names`, or the bundle's), else dim0, dim1, ... */
  names: z.array(z.string()),
  /** Channel-major: values[channel][point]; null where the recorded value is not finite. */
  values: z.array(z.array(z.number().nullable())),
});
const checkSchema = z.object({
  check: z.string(),
  value: z.number().nullable(),
  threshold: z.union([z.number(), z.tuple([z.number(), z.number()])]).nullable(),
  verdict: z.enum(['pass', 'warn', 'fail']),
  detail: z.string().optional(),
});
export const episodeFramesResponseSchema = z.object({
  episode: z.looseObject({ id: z.string(), datasetName: z.string(), episodeIndex: z.number().int() }),
  fps: z.number(),
  /** Frames recorded. */
  length: z.number().int(),
  /** Every `stride`-th frame is kept (and the last one). */
  stride: z.number().int(),
  /** The kept frames' indices and timestamps (seconds from the episode's start). */
  frames: z.array(z.number().int()),
  timeSec: z.array(z.number().nullable()),
  series: z.array(seriesSchema),
  quality: z.object({
    verdict: z.enum(['pass', 'warn', 'fail']),
    failed: z.array(z.string()),
    warned: z.array(z.string()),
    checks: z.array(checkSchema),
  }),
});
/** What the route answers (the console imports this type). */
export type EpisodeFramesResponse = Omit<z.output<typeof episodeFramesResponseSchema>, 'episode'> & {
  episode: EpisodeRow;
};

export const EPISODE_FRAMES_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/episodes/{id}/frames',
    summary: "An episode's joint state and action over time (thinned to `points` per series) and its checks",
    tags: ['episodes'],
    params: episodeFramesParamsSchema,
    query: episodeFramesQuerySchema,
    responses: {
      200: { description: 'the thinned series and the quality checks', schema: episodeFramesResponseSchema },
      400: { description: 'the id is not a sha256 hex digest, or bad points' },
      404: { description: 'no such episode' },
      500: { description: "the episode's stored frames cannot be read (moved, deleted, corrupt)" },
    },
  },
];

/** An episode's frames as stored, whichever the storage. */
interface StoredFrames {
  fps: number;
  length: number;
  timestampsSec: Float32Array | Float64Array;
  columns: Record<string, Float32Array>;
  names: Record<string, readonly string[] | null>;
}

export const episodeFramesRoutes: FastifyPluginAsync<EpisodeFramesRoutesOptions> = async (
  app,
  { catalog },
) => {
  app.get('/api/episodes/:id/frames', async (request): Promise<EpisodeFramesResponse> => {
    const { id } = parseInput(episodeFramesParamsSchema, request.params, 'episode id');
    const { points } = parseQuery(episodeFramesQuerySchema, request.query);
    const [episode] = await catalog.getEpisodes([id]);
    if (!episode) throw new TgError('NOT_FOUND', `no episode ${id} in the catalog`);
    const dataset = (await catalog.listDatasets()).find((d) => d.name === episode.datasetName);
    if (!dataset) throw new TgError('NOT_FOUND', `episode ${id}: dataset ${episode.datasetName} is gone`);

    const stored =
      dataset.storage === 'blobs'
        ? await framesFromBlobs(dataset.path, episode)
        : await framesFromLeRobot(dataset.path, episode);

    const checks = checkEpisode(
      {
        fps: stored.fps,
        length: stored.length,
        timestampsSec: stored.timestampsSec,
        columns: stored.columns,
        names: stored.names,
        instruction: episode.instruction,
        success: episode.success,
      },
      resolveThresholds(),
    );
    const kept = thin(stored.length, points);
    return {
      episode,
      fps: stored.fps,
      length: stored.length,
      stride: kept.stride,
      frames: kept.frames,
      timeSec: kept.frames.map((f) => finite(stored.timestampsSec[f] as number)),
      series: PLOTTED_FEATURES.flatMap((feature) => {
        const values = stored.columns[feature];
        if (!values || stored.length === 0) return [];
        const dim = values.length / stored.length;
        const names = stored.names[feature] ?? [];
        return [
          {
            feature,
            names: Array.from({ length: dim }, (_, c) => names[c] ?? `dim${c}`),
            values: Array.from({ length: dim }, (_, c) =>
              kept.frames.map((f) => finite(values[f * dim + c] as number)),
            ),
          },
        ];
      }),
      quality: {
        verdict: episodeVerdict(checks),
        failed: checks.filter((c) => c.verdict === 'fail').map((c) => c.check),
        warned: checks.filter((c) => c.verdict === 'warn').map((c) => c.check),
        checks: checks.map(jsonCheck),
      },
    };
  });
};

/**
 * Every `stride`-th frame, the last always kept, so a series has at most `points` values. Plain striding
 * (not min/max per bucket): the plot shows the signal's shape, and any kept value is a recorded one.
 */
export function thin(length: number, points: number): { stride: number; frames: number[] } {
  if (length <= 0) return { stride: 1, frames: [] };
  // ceil((length - 1) / (points - 1)) keeps 0, s, 2s, ... plus the last frame within `points`.
  const stride = length <= points ? 1 : Math.ceil((length - 1) / (points - 1));
  const frames: number[] = [];
  for (let f = 0; f < length; f += stride) frames.push(f);
  if (frames[frames.length - 1] !== length - 1) frames.push(length - 1);
  return { stride, frames };
}

/** Float32 values as JSON numbers: 6 significant digits (float32 carries about 7), null if not finite. */
function finite(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : null;
}

function jsonCheck(c: CheckResult): CheckResult {
  const value = c.value === null ? null : finite(c.value);
  return { ...c, value };
}

async function framesFromLeRobot(dir: string, episode: EpisodeRow): Promise<StoredFrames> {
  const ds = await readLeRobotDataset(dir).catch((err: unknown) => {
    throw unreadable(episode, err);
  });
  try {
    // The catalog's index is checked against the dataset's own record of which episode sits there.
    const onDisk = ds.tgEpisodes?.[episode.episodeIndex]?.id;
    if (typeof onDisk === 'string' && onDisk !== episode.id) {
      throw new TgError(
        'STORAGE_FAILED',
        `${dir}: episode ${episode.episodeIndex} is ${onDisk}, the catalog expects ${episode.id} there`,
      );
    }
    const frames = await ds.readEpisodeFrames(episode.episodeIndex).catch((err: unknown) => {
      throw unreadable(episode, err);
    });
    const names: Record<string, readonly string[] | null> = {};
    for (const [name, spec] of Object.entries(ds.info.features)) {
      names[name] = Array.isArray(spec.names) ? spec.names.map(String) : null;
    }
    return {
      fps: ds.info.fps,
      length: frames.length,
      timestampsSec: frames.timestamp,
      columns: frames.columns,
      names,
    };
  } finally {
    ds.close();
  }
}

async function framesFromBlobs(root: string, episode: EpisodeRow): Promise<StoredFrames> {
  if (!episode.blobSha256) {
    throw new TgError('STORAGE_FAILED', `episode ${episode.id} names no bundle in the blob store`);
  }
  try {
    const bytes = await new BlobStore(root).read(episode.blobSha256);
    const recorded = decodeBundle(bytes);
    if (recorded.meta.id !== episode.id) {
      throw new Error(`bundle ${episode.blobSha256} holds ${recorded.meta.id}`);
    }
    const names: Record<string, readonly string[] | null> = {};
    for (const f of readBundleHeader(bytes).header.features) names[f.name] = f.names ?? null;
    return {
      fps: recorded.meta.fps,
      length: recorded.length,
      timestampsSec: recorded.timestampsSec,
      columns: recorded.columns,
      names,
    };
  } catch (err) {
    throw unreadable(episode, err);
  }
}

function unreadable(episode: EpisodeRow, err: unknown): TgError {
  if (err instanceof TgError && err.code === 'STORAGE_FAILED') return err;
  return new TgError(
    'STORAGE_FAILED',
    `the frames of episode ${episode.id} cannot be read: ${(err as Error).message}`,
    { cause: err },
  );
}
