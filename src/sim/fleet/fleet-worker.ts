/**
 * A fleet worker thread: builds its RobotGroup from `workerData`, then answers requests one at a time.
 * Results travel through shared memory; replies carry only divergences and requested states.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadMujoco } from '../mujoco.ts';
import type { FleetReply, FleetRequest, FleetWorkerData } from './protocol.ts';
import { RobotGroup } from './robot-group.ts';

const port = parentPort;
if (!port) throw new Error('fleet-worker must run in a worker thread');
const init = workerData as FleetWorkerData;
const mj = await loadMujoco();
const group = new RobotGroup(mj, init.scene, init.layout, init.shared, init.robots, {
  modelPerRobot: init.modelPerRobot,
  checkpointEveryBatches: init.checkpointEveryBatches,
  resume: init.resume,
});

const post = (reply: FleetReply) => port.postMessage(reply);

port.on('message', (req: FleetRequest) => {
  try {
    switch (req.type) {
      case 'step': {
        const divergences = [];
        for (let b = 0; b < req.batches; b++) divergences.push(...group.stepBatch());
        post({ type: 'done', id: req.id, divergences });
        return;
      }
      case 'reset':
        group.reset(req.robot, req.seed);
        break;
      case 'getState': {
        const state = group.getState(req.robot);
        port.postMessage({ type: 'done', id: req.id, state } satisfies FleetReply, [
          state.buffer as ArrayBuffer,
        ]);
        return;
      }
      case 'setState':
        group.setState(req.robot, req.state);
        break;
      case 'setQvel':
        group.setQvel(req.robot, req.qvel);
        break;
      case 'crash':
        // Test hook: an uncaught error in the thread, as a bug in native-adjacent code would raise.
        setImmediate(() => {
          throw new Error('injected worker crash');
        });
        return;
    }
    post({ type: 'done', id: req.id });
  } catch (err) {
    post({ type: 'error', id: req.id, message: (err as Error).message });
  }
});

post({ type: 'ready' });
