import type { RecordedEpisode } from '../data/episode.ts';

/** Messages between a field's drill coordinator (main thread) and a robot's worker thread. */
export interface DrillWorkerData {
  robotId: string;
  field: string;
  fps: number;
  maxSimSec: number;
}

/** main -> worker */
export type DrillCommand = { type: 'run'; episodeIndex: number; seed: number } | { type: 'stop' };

/** worker -> main */
export type DrillReport =
  | { type: 'ready'; embodimentHash: string; stateNames: string[]; actionNames: string[] }
  | {
      type: 'episode';
      episodeIndex: number;
      episode: RecordedEpisode;
      simSec: number;
      wallSec: number;
      spineInterventions: number;
    }
  | { type: 'failed'; episodeIndex: number; code: string; message: string };
