/**
 * Shapes of the hub's HTTP API responses. Types only: the console (web/) imports this file, so it must
 * never gain runtime code or server imports other than types.
 */
import type { EpisodeRow, RobotRow } from '../catalog/types.ts';

export type { EpisodeRow, RobotRow };

/** GET /api/robots */
export interface RobotsResponse {
  robots: RobotRow[];
}

/** GET /api/episodes?limit&offset&robot */
export interface EpisodesResponse {
  episodes: EpisodeRow[];
  /** Episodes matching the filter, across all pages. */
  total: number;
  limit: number;
  offset: number;
}

export type RunState = 'idle' | 'starting' | 'running' | 'done' | 'failed' | 'stopped';

/**
 * GET /api/status: the live run summary the console polls every second. `startHub`'s `status` callback
 * should return this shape; without one the hub reports catalog totals as an idle run. The console reads
 * it defensively, so extra keys are fine.
 */
export interface RunStatus {
  state: RunState;
  episodesDone: number;
  episodesPlanned: number;
  /** Successful episodes among `episodesDone`. */
  successes: number;
  /** Robots drilling in this run. */
  robots?: number;
  /** ISO 8601 start of the run. */
  startedAt?: string | null;
  /** One line for humans, e.g. the current task or why the run failed. */
  message?: string | null;
}

/** Body of every 4xx/5xx response. `code` is a `TgError` code (or INTERNAL). */
export interface ApiErrorBody {
  error: { code: string; message: string };
}
