/**
 * A simulated robot in its own thread: runs the scripted pick-and-place drill one episode per `run`
 * command and posts the recorded episode back (buffers transferred, not copied). Physics never runs on
 * the thread that serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { episodeEvents, runPickPlaceEpisode } from '../control/episode-loop.ts';
import { Recorder } from '../data/recorder.ts';
import { embodimentHash, loadEmbodiment } from '../embodiment/index.ts';
import { isTgError } from '../errors/index.ts';
import { pickPlaceScene } from '../sim/scenes/pick-place.ts';
import { SceneWorld } from '../sim/scenes/scene-world.ts';
import type { DrillCommand, DrillReport, DrillWorkerData } from './drill-protocol.ts';

export const PICK_PLACE_INSTRUCTION = 'pick up the cube and place it in the bin';

const port = parentPort;
if (!port) throw new Error('drill-worker must run in a worker thread');
const data = workerData as DrillWorkerData;
const embodiment = loadEmbodiment('arm7');
const hash = embodimentHash(embodiment);
const world = await SceneWorld.create(pickPlaceScene(embodiment));
const recorder = new Recorder({
  fps: data.fps,
  features: { 'observation.state': world.stateDim, action: world.actionDim },
  capacityFrames: Math.ceil(data.maxSimSec * data.fps) + 2,
});
const frame: Record<string, Float32Array> = {};

const post = (report: DrillReport, transfer: ArrayBuffer[] = []) => port.postMessage(report, transfer);

port.on('message', async (cmd: DrillCommand) => {
  if (cmd.type === 'stop') {
    world.dispose();
    port.close();
    return;
  }
  const started = performance.now();
  try {
    const result = await runPickPlaceEpisode({
      world,
      seed: cmd.seed,
      maxSimSec: data.maxSimSec,
      frameHz: data.fps,
      onFrame: (t, state, action) => {
        frame['observation.state'] = state;
        frame.action = action;
        recorder.record(t, frame);
      },
    });
    const episode = recorder.finish({
      robot: data.robotId,
      embodimentHash: hash,
      vendor: 'tg-sim',
      field: data.field,
      operator: 'scripted-drill',
      task: 'pick-place',
      instruction: PICK_PLACE_INSTRUCTION,
      source: 'scripted',
      phase: 'drill',
      success: result.success,
      seed: cmd.seed,
      // The spine's interventions, as the stack records them (`tg run --out`).
      events: episodeEvents(result, data.fps),
    });
    post(
      {
        type: 'episode',
        episodeIndex: cmd.episodeIndex,
        episode,
        simSec: result.simSec,
        wallSec: (performance.now() - started) / 1000,
        spineInterventions: result.spineInterventions,
      },
      [
        ...Object.values(episode.columns).map((c) => c.buffer as ArrayBuffer),
        episode.timestampsSec.buffer as ArrayBuffer,
      ],
    );
  } catch (err) {
    recorder.discard();
    post({
      type: 'failed',
      episodeIndex: cmd.episodeIndex,
      code: isTgError(err) ? err.code : 'INTERNAL',
      message: (err as Error).message,
    });
  }
});

post({
  type: 'ready',
  embodimentHash: hash,
  stateNames: embodiment.stateNames,
  actionNames: embodiment.actionNames,
});
