import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import { Recorder } from '../../src/data/recorder.ts';

/** A small synthetic episode (deterministic in `seed`), recorded through the real Recorder. */
export function makeEpisode(
  seed: number,
  opts: { robot?: string; field?: string; frames?: number; dim?: number } = {},
): RecordedEpisode {
  const dim = opts.dim ?? 3;
  const frames = opts.frames ?? 20;
  const rec = new Recorder({ fps: 30, features: { 'observation.state': dim, action: dim } });
  const state = new Float32Array(dim);
  const action = new Float32Array(dim);
  for (let f = 0; f < frames; f++) {
    for (let j = 0; j < dim; j++) {
      state[j] = Math.sin(seed + f * 0.1 + j);
      action[j] = Math.cos(seed + f * 0.1 + j);
    }
    rec.record(f / 30, { 'observation.state': state, action });
  }
  return rec.finish({
    robot: opts.robot ?? 'robot-0',
    embodimentHash: 'test-embodiment',
    vendor: 'tg-test',
    field: opts.field ?? 'test-field',
    operator: 'test',
    task: 'pick-place',
    instruction: 'put the cube in the bin',
    source: 'scripted',
    phase: 'drill',
    success: seed % 2 === 0,
    seed,
    events: [],
  });
}

export function tempDir(prefix = 'tg-field-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A run-unique token for NATS stream and subject names. */
export function uniqueToken(): string {
  return `t${process.pid}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
