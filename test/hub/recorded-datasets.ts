/**
 * Real LeRobot v3 datasets for the hub tests: episodes recorded through the Recorder, written by
 * LeRobotWriter, and registered in a catalog under their content-hash ids, as a field would upload them.
 */
import type { EpisodeLabels } from '../../src/data/episode.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
import { Recorder } from '../../src/data/recorder.ts';
import type { Catalog, CurriculumPhase, EpisodeInput } from '../../src/hub/catalog/index.ts';

export const FPS = 10;

export interface EpisodeSpec {
  robot: string;
  vendor: string;
  field: string;
  operator: string;
  task: string;
  phase: CurriculumPhase;
  success: boolean;
  seed: number;
  length: number;
  recordedAt: string;
}

/** Writes `specs` as dataset `name` at `dir`, registers it and its robots and episodes; returns the ids. */
export async function writeRecordedDataset(
  catalog: Catalog,
  name: string,
  dir: string,
  specs: EpisodeSpec[],
): Promise<string[]> {
  const w = await LeRobotWriter.create(dir, {
    fps: FPS,
    robotType: 'sim-arm',
    features: {
      'observation.state': { dtype: 'float32', shape: [2], names: ['a', 'b'] },
      action: { dtype: 'float32', shape: [1], names: ['g'] },
    },
  });
  const episodes: EpisodeInput[] = [];
  for (const s of specs) {
    const rec = new Recorder({ fps: FPS, features: { 'observation.state': 2, action: 1 } });
    for (let f = 0; f < s.length; f++) {
      rec.record(f / FPS, {
        'observation.state': new Float32Array([s.seed + f * 0.01, -f * 0.01]),
        action: new Float32Array([Math.sin(s.seed + f * 0.1)]),
      });
    }
    const labels: EpisodeLabels = {
      robot: s.robot,
      embodimentHash: 'e1',
      vendor: s.vendor,
      field: s.field,
      operator: s.operator,
      task: s.task,
      instruction: `do ${s.task}`,
      source: 'scripted',
      phase: s.phase,
      success: s.success,
      seed: s.seed,
      events: [],
    };
    const ep = rec.finish(labels);
    const index = await w.addEpisode(ep);
    episodes.push({
      id: ep.meta.id,
      robotId: s.robot,
      episodeIndex: index,
      task: s.task,
      instruction: labels.instruction,
      source: 'scripted',
      phase: s.phase,
      success: s.success,
      seed: s.seed,
      length: s.length,
      durationSec: s.length / FPS,
      recordedAt: s.recordedAt,
    });
  }
  await w.close();
  const robots = new Map(specs.map((s) => [s.robot, s]));
  for (const [id, s] of robots) {
    await catalog.upsertRobot({
      id,
      name: id,
      embodiment: 'sim-arm',
      embodimentHash: 'e1',
      vendor: s.vendor,
      field: s.field,
    });
  }
  await catalog.registerDataset({ name, path: dir, fps: FPS, robotType: 'sim-arm' });
  await catalog.insertEpisodes(name, episodes);
  return episodes.map((e) => e.id);
}

/** `n` episodes alternating two robots (vendors acme/zeta, fields north/south) and two tasks. */
export function specs(n: number, seed0 = 0, day = 1): EpisodeSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    robot: i % 2 === 0 ? 'arm-a' : 'arm-b',
    vendor: i % 2 === 0 ? 'acme' : 'zeta',
    field: i % 2 === 0 ? 'north' : 'south',
    operator: i % 3 === 0 ? 'ana' : 'bo',
    task: i % 4 < 2 ? 'pick' : 'place',
    phase: i < n / 2 ? 'drill' : 'autonomy',
    success: i % 3 !== 1,
    seed: seed0 + i,
    length: 5 + i,
    recordedAt: new Date(Date.UTC(2025, 0, day, 8 + (i % 3), i)).toISOString(),
  }));
}
