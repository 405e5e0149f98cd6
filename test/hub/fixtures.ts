import { createHash } from 'node:crypto';
import type { Catalog, EpisodeInput, RobotInput } from '../../src/hub/catalog/index.ts';

export const ROBOTS: RobotInput[] = [
  {
    id: 'arm-01',
    name: 'Arm 01',
    embodiment: 'so100-arm',
    embodimentHash: 'e3b0c44298fc',
    vendor: 'TheRobotStudio',
    field: 'field-beijing',
  },
  {
    id: 'humanoid-01',
    name: 'Humanoid 01',
    embodiment: 'g1-humanoid',
    embodimentHash: '9f86d081884c',
    vendor: 'Unitree',
    field: 'field-beijing',
  },
];

export function episode(i: number, overrides: Partial<EpisodeInput> = {}): EpisodeInput {
  const robotId = overrides.robotId ?? (i % 2 === 0 ? 'arm-01' : 'humanoid-01');
  return {
    id: createHash('sha256').update(`episode-${i}-${robotId}`).digest('hex'),
    robotId,
    episodeIndex: i,
    task: i % 2 === 0 ? 'pick-place' : 'walk-to-bin',
    instruction: i % 2 === 0 ? 'put the red cube in the bin' : 'walk to the bin',
    source: 'scripted',
    phase: 'orientation',
    success: i % 3 !== 0,
    seed: i,
    length: 150 + i,
    durationSec: (150 + i) / 30,
    recordedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, i)).toISOString(),
    ...overrides,
  };
}

/** Two robots, one dataset, `n` episodes. */
export async function seedCatalog(catalog: Catalog, n = 4): Promise<EpisodeInput[]> {
  for (const r of ROBOTS) await catalog.upsertRobot(r);
  await catalog.registerDataset({ name: 'drills', path: '/tmp/drills', fps: 30, robotType: 'so100' });
  const episodes = Array.from({ length: n }, (_, i) => episode(i));
  await catalog.insertEpisodes('drills', episodes);
  return episodes;
}
