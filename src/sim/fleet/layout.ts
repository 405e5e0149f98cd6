/**
 * Where each robot's numbers live in the fleet's SharedArrayBuffer (one Float64Array for the whole fleet).
 * Workers write time, positions, velocities and sensor samples; the coordinator writes commands (`ctrl`)
 * between batches. Nothing here is sent by message.
 *
 * Per robot, in order: time (1) | qpos (nq) | qvel (nv) | sensordata for every step of the last batch
 * (stepsPerBatch x nsensordata, step-major) | ctrl (nu) | checkpoint valid flag (1) | checkpoint (stateSize,
 * MuJoCo `mjSTATE_INTEGRATION` layout).
 */
export interface FleetLayout {
  robots: number;
  nq: number;
  nv: number;
  nu: number;
  nsensordata: number;
  stateSize: number;
  stepsPerBatch: number;
  /** Float64 elements per robot. */
  stride: number;
  time: number;
  qpos: number;
  qvel: number;
  sensors: number;
  ctrl: number;
  checkpointValid: number;
  checkpoint: number;
}

export function fleetLayout(
  dims: Pick<FleetLayout, 'robots' | 'nq' | 'nv' | 'nu' | 'nsensordata' | 'stateSize' | 'stepsPerBatch'>,
): FleetLayout {
  const time = 0;
  const qpos = 1;
  const qvel = qpos + dims.nq;
  const sensors = qvel + dims.nv;
  const ctrl = sensors + dims.stepsPerBatch * dims.nsensordata;
  const checkpointValid = ctrl + dims.nu;
  const checkpoint = checkpointValid + 1;
  const stride = checkpoint + dims.stateSize;
  return { ...dims, stride, time, qpos, qvel, sensors, ctrl, checkpointValid, checkpoint };
}

/** Allocates the fleet's shared memory. */
export function allocateShared(layout: FleetLayout): Float64Array {
  return new Float64Array(new SharedArrayBuffer(layout.robots * layout.stride * 8));
}
