/**
 * Synthetic field episodes for the ingest benchmark: the shape a field's arm7 drill records (8 joint
 * positions and 8 targets per frame), filled with deterministic, varying values, through the real Recorder.
 */
import type { RecordedEpisode } from '../../src/data/episode.ts';
import { Recorder } from '../../src/data/recorder.ts';

export const ROBOT_KIND = 'arm7';
export const EMBODIMENT_HASH = 'bench-arm7';
export const JOINTS = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'gripper'];
export const FPS = 30;
export const NAMES = { 'observation.state': JOINTS, action: JOINTS };

export const robotId = (field: string) => `${field}-${ROBOT_KIND}-0`;

export class EpisodeSynth {
  private readonly recorder: Recorder;
  private readonly state = new Float32Array(JOINTS.length);
  private readonly action = new Float32Array(JOINTS.length);
  private readonly frame: Record<string, Float32Array> = {
    'observation.state': this.state,
    action: this.action,
  };

  constructor(
    private readonly field: string,
    private readonly frames: number,
  ) {
    this.recorder = new Recorder({
      fps: FPS,
      features: { 'observation.state': JOINTS.length, action: JOINTS.length },
      capacityFrames: frames,
    });
  }

  episode(seed: number): RecordedEpisode {
    for (let f = 0; f < this.frames; f++) {
      for (let j = 0; j < JOINTS.length; j++) {
        this.state[j] = Math.sin(seed * 0.37 + f * 0.02 + j);
        this.action[j] = this.state[j]! + 0.01 * Math.cos(f * 0.1 + j);
      }
      this.recorder.record(f / FPS, this.frame);
    }
    return this.recorder.finish({
      robot: robotId(this.field),
      embodimentHash: EMBODIMENT_HASH,
      vendor: 'tg-sim',
      field: this.field,
      operator: 'bench',
      task: 'pick-place',
      instruction: 'pick up the cube and place it in the bin',
      source: 'scripted',
      phase: 'drill',
      success: seed % 4 !== 0,
      seed,
      events: [],
    });
  }
}
