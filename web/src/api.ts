import type {
  AnalyticsDimension,
  AnalyticsRow,
  TimelineBucket,
  TimelineRow,
} from '../../src/hub/analytics/analytics.ts';
import type { DatasetDefinitionRow } from '../../src/hub/catalog/types.ts';
import type { FieldStatus } from '../../src/hub/ingest/field-registry.ts';
import type {
  ApiErrorBody,
  EpisodesResponse,
  RobotsResponse,
  RunState,
  RunStatus,
} from '../../src/hub/server/api-types.ts';
import type { EpisodeFramesResponse } from '../../src/hub/server/routes/episode-frames.ts';

export type {
  AnalyticsDimension,
  AnalyticsRow,
  DatasetDefinitionRow,
  EpisodeFramesResponse,
  FieldStatus,
  TimelineBucket,
  TimelineRow,
};

/** A non-2xx answer from the hub, with its HTTP status (404 tells "not here" from "broken"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Fetches a hub API path as JSON; a non-2xx answer throws an ApiError with the hub's error message. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' } });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as ApiErrorBody | null)?.error?.message ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

export const fetchRobots = (signal?: AbortSignal) => getJson<RobotsResponse>('/api/robots', signal);

export function fetchEpisodes(
  page: { limit: number; offset: number; robot: string | null },
  signal?: AbortSignal,
): Promise<EpisodesResponse> {
  const q = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset) });
  if (page.robot) q.set('robot', page.robot);
  return getJson<EpisodesResponse>(`/api/episodes?${q}`, signal);
}

/** The dimensions /api/analytics breaks down by, in the order the console offers them. */
export const DIMENSIONS: readonly AnalyticsDimension[] = [
  'robot',
  'vendor',
  'task',
  'phase',
  'operator',
  'field',
];

export const fetchBreakdown = (by: AnalyticsDimension, signal?: AbortSignal) =>
  getJson<{ by: AnalyticsDimension; rows: AnalyticsRow[] }>(`/api/analytics?by=${by}`, signal);

export const fetchTimeline = (bucket: TimelineBucket, signal?: AbortSignal) =>
  getJson<{ bucket: TimelineBucket; rows: TimelineRow[] }>(
    `/api/analytics/timeline?bucket=${bucket}`,
    signal,
  );

export const fetchDatasets = (signal?: AbortSignal) =>
  getJson<{ datasets: DatasetDefinitionRow[] }>('/api/datasets', signal);

let servesFields: Promise<boolean> | null = null;

/**
 * /api/fields exists only on a hub with a field network: null when this hub has none. Whether it does is
 * read once from /api/docs, so a hub without one is not asked (and the browser does not log a 404) each poll.
 */
export async function fetchFields(signal?: AbortSignal): Promise<FieldStatus[] | null> {
  servesFields ??= getJson<{ paths?: Record<string, unknown> }>('/api/docs').then(
    (doc) => doc.paths?.['/api/fields'] !== undefined,
    (err: unknown) => {
      servesFields = null; // ask again next time
      throw err;
    },
  );
  if (!(await servesFields)) return null;
  return (await getJson<{ fields: FieldStatus[] }>('/api/fields', signal)).fields;
}

export const fetchEpisodeFrames = (id: string, signal?: AbortSignal) =>
  getJson<EpisodeFramesResponse>(`/api/episodes/${encodeURIComponent(id)}/frames`, signal);

const RUN_STATES: readonly RunState[] = ['idle', 'starting', 'running', 'done', 'failed', 'stopped'];

/** /api/status comes from whoever runs the hub; read the fields the console shows and ignore the rest. */
export async function fetchStatus(signal?: AbortSignal): Promise<RunStatus> {
  const raw = await getJson<Record<string, unknown>>('/api/status', signal);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const state = RUN_STATES.includes(raw.state as RunState) ? (raw.state as RunState) : 'idle';
  return {
    state,
    episodesDone: num(raw.episodesDone),
    episodesPlanned: num(raw.episodesPlanned),
    successes: num(raw.successes),
    robots: typeof raw.robots === 'number' ? raw.robots : undefined,
    startedAt: typeof raw.startedAt === 'string' ? raw.startedAt : null,
    message: typeof raw.message === 'string' ? raw.message : null,
  };
}
