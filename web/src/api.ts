import type {
  ApiErrorBody,
  EpisodesResponse,
  RobotsResponse,
  RunState,
  RunStatus,
} from '../../src/hub/server/api-types.ts';

/** Fetches a hub API path as JSON; a non-2xx answer throws with the hub's error message. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' } });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as ApiErrorBody | null)?.error?.message ?? `${res.status} ${res.statusText}`;
    throw new Error(message);
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
