/**
 * The robots one worker thread steps: each its own MjData (sharing one MjModel, or one model each), all
 * advanced together one batch of simulated time at a time. Per step: `mj_step`, then the sensor samples
 * are copied into shared memory. Per batch: commands are read from shared memory, positions, velocities
 * and time are written back, and every robot is checked for divergence. Nothing allocates on this path.
 *
 * A robot's trajectory depends only on its seed and its commands: each robot owns its MjData, the shared
 * model is read-only while stepping, and WASM MuJoCo is single-threaded, so which worker steps a robot, and
 * next to which others, cannot change a bit of its state.
 */
import { TgError } from '../../errors/index.ts';
import type { DoubleBuffer, MjData, MjModel, Mujoco } from '../mujoco.ts';
import { seededRng } from '../rng.ts';
import type { FleetLayout } from './layout.ts';
import { compileFleetScene, type FleetScene } from './scene.ts';
import type { Divergence } from './types.ts';

/** Joint-position noise of a seeded reset (rad or m, uniform +-). */
export const RESET_NOISE = 0.01;

interface Robot {
  index: number;
  seed: number;
  model: MjModel;
  data: MjData;
  base: number;
  qpos: Float64Array;
  qvel: Float64Array;
  ctrl: Float64Array;
  sensordata: Float64Array;
  /** Shared-memory views. */
  outTime: number;
  outQpos: Float64Array;
  outQvel: Float64Array;
  outSensors: Float64Array;
  inCtrl: Float64Array;
  checkpoint: Float64Array;
}

export interface RobotGroupOptions {
  modelPerRobot: boolean;
  checkpointEveryBatches: number;
  resume: boolean;
}

export class RobotGroup {
  readonly timestepSec: number;
  private readonly robots: Robot[] = [];
  private readonly byIndex = new Map<number, Robot>();
  private readonly models: MjModel[] = [];
  private readonly stateSpec: number;
  private readonly stateBuf: DoubleBuffer;
  private stateView: Float64Array;
  private readonly holdCtrl: Float64Array;
  private readonly homeKey: number;
  /** qpos addresses of hinge and slide joints (the ones a seeded reset perturbs). */
  private readonly noisyQpos: Int32Array;
  private batches = 0;

  constructor(
    private readonly mj: Mujoco,
    scene: FleetScene,
    private readonly layout: FleetLayout,
    private readonly shared: Float64Array,
    robots: Array<{ index: number; seed: number }>,
    private readonly opts: RobotGroupOptions,
  ) {
    const first = compileFleetScene(mj, scene);
    this.models.push(first);
    const m = first;
    if (
      m.nq !== layout.nq ||
      m.nv !== layout.nv ||
      m.nu !== layout.nu ||
      m.nsensordata !== layout.nsensordata
    ) {
      throw new TgError(
        'MODEL_INVALID',
        `fleet scene '${scene.name}' compiled to other sizes than its layout`,
      );
    }
    this.timestepSec = m.opt.timestep;
    this.stateSpec = mj.mjtState.mjSTATE_INTEGRATION.value;
    this.stateBuf = new mj.DoubleBuffer(layout.stateSize);
    this.stateView = this.stateBuf.GetView() as Float64Array;
    this.homeKey = homeKeyframe(mj, m);
    this.holdCtrl = holdCtrl(mj, m, this.homeKey);
    const types = m.jnt_type as Int32Array;
    const adr = m.jnt_qposadr as Int32Array;
    const noisy: number[] = [];
    for (let j = 0; j < m.njnt; j++) {
      if (types[j] === mj.mjtJoint.mjJNT_HINGE.value || types[j] === mj.mjtJoint.mjJNT_SLIDE.value) {
        noisy.push(adr[j]!);
      }
    }
    this.noisyQpos = Int32Array.from(noisy);

    for (const { index, seed } of robots) {
      let model = first;
      if (opts.modelPerRobot && this.robots.length > 0) {
        model = compileFleetScene(mj, scene);
        this.models.push(model);
      }
      const base = index * layout.stride;
      const robot: Robot = {
        index,
        seed,
        model,
        data: new mj.MjData(model),
        base,
        qpos: new Float64Array(0),
        qvel: new Float64Array(0),
        ctrl: new Float64Array(0),
        sensordata: new Float64Array(0),
        outTime: base + layout.time,
        outQpos: shared.subarray(base + layout.qpos, base + layout.qpos + layout.nq),
        outQvel: shared.subarray(base + layout.qvel, base + layout.qvel + layout.nv),
        outSensors: shared.subarray(
          base + layout.sensors,
          base + layout.sensors + layout.stepsPerBatch * layout.nsensordata,
        ),
        inCtrl: shared.subarray(base + layout.ctrl, base + layout.ctrl + layout.nu),
        checkpoint: shared.subarray(base + layout.checkpoint, base + layout.checkpoint + layout.stateSize),
      };
      this.robots.push(robot);
      this.byIndex.set(index, robot);
    }
    // Views are fetched after every allocation is done (a heap growth empties earlier ones).
    for (const r of this.robots) {
      if (opts.resume && shared[r.base + layout.checkpointValid] === 1) this.setState(r.index, r.checkpoint);
      else this.reset(r.index, r.seed, 0);
    }
  }

  /** Home keyframe (or qpos0) with seeded joint noise, hold-position ctrl, clock at `timeSec`. */
  reset(index: number, seed?: number, timeSec?: number): void {
    const r = this.robot(index);
    if (seed !== undefined) r.seed = seed;
    const { mj } = this;
    const clock = timeSec ?? r.data.time;
    if (this.homeKey >= 0) mj.mj_resetDataKeyframe(r.model, r.data, this.homeKey);
    else mj.mj_resetData(r.model, r.data);
    this.refreshViews();
    const rng = seededRng(r.seed);
    for (let i = 0; i < this.noisyQpos.length; i++) {
      r.qpos[this.noisyQpos[i]!]! += (2 * rng.next() - 1) * RESET_NOISE;
    }
    r.ctrl.set(this.holdCtrl);
    r.data.time = clock;
    mj.mj_forward(r.model, r.data);
    this.publish(r);
    r.inCtrl.set(this.holdCtrl);
  }

  /** Advances every robot by one batch; returns the robots that diverged (already reset). */
  stepBatch(): Divergence[] {
    const { mj, layout, shared } = this;
    const steps = layout.stepsPerBatch;
    const ns = layout.nsensordata;
    const nu = layout.nu;
    const dt = this.timestepSec;
    const checkpoint =
      this.opts.checkpointEveryBatches > 0 && (this.batches + 1) % this.opts.checkpointEveryBatches === 0;
    const divergences: Divergence[] = [];
    for (let k = 0; k < this.robots.length; k++) {
      const r = this.robots[k]!;
      if (r.qpos.length === 0) this.refreshViews();
      const { model: m, data: d, ctrl, inCtrl, sensordata, outSensors } = r;
      let reason: string | undefined;
      for (let i = 0; i < nu; i++) {
        const v = inCtrl[i]!;
        if (v - v !== 0) reason = `non-finite ctrl[${i}]`;
        ctrl[i] = v;
      }
      if (reason !== undefined) {
        // Never hand MuJoCo a NaN command: reset first, then take the batch at the hold command.
        divergences.push({ robot: r.index, atSimSec: d.time, reason });
        this.reset(r.index);
        reason = undefined;
      }
      let t = d.time;
      for (let s = 0; s < steps; s++) {
        mj.mj_step(m, d);
        // MuJoCo advances time by exactly this sum; an automatic reset (bad qpos/qvel/qacc) breaks it.
        t += dt;
        if (ns > 0) outSensors.set(sensordata, s * ns);
      }
      if (d.time !== t) reason = `MuJoCo auto-reset (${warningNames(d)})`;
      else reason = nonFinite(r.qpos, 'qpos') ?? nonFinite(r.qvel, 'qvel');
      if (reason !== undefined) {
        divergences.push({ robot: r.index, atSimSec: t, reason });
        this.reset(r.index, undefined, t);
        continue;
      }
      this.publish(r);
      if (checkpoint) {
        mj.mj_getState(m, d, this.stateBuf, this.stateSpec);
        if (this.stateView.length === 0) this.stateView = this.stateBuf.GetView() as Float64Array;
        r.checkpoint.set(this.stateView);
        shared[r.base + layout.checkpointValid] = 1;
      }
    }
    this.batches++;
    return divergences;
  }

  /** The robot's full integration state (`mjSTATE_INTEGRATION`). */
  getState(index: number): Float64Array {
    const r = this.robot(index);
    this.mj.mj_getState(r.model, r.data, this.stateBuf, this.stateSpec);
    this.stateView = this.stateBuf.GetView() as Float64Array;
    return Float64Array.from(this.stateView);
  }

  /** Restores a state from `getState`; the robot's commands become the state's ctrl. */
  setState(index: number, state: Float64Array): void {
    const r = this.robot(index);
    if (state.length !== this.layout.stateSize) {
      throw new TgError(
        'INPUT_INVALID',
        `state has ${state.length} numbers, expected ${this.layout.stateSize}`,
      );
    }
    this.mj.mj_setState(r.model, r.data, state as unknown as number[], this.stateSpec);
    this.refreshViews();
    this.publish(r);
    r.inCtrl.set(r.ctrl);
  }

  /** Overwrites a robot's joint velocities (a push, or a test's injected fault). */
  setQvel(index: number, qvel: ArrayLike<number>): void {
    const r = this.robot(index);
    if (r.qvel.length === 0) this.refreshViews();
    if (qvel.length !== this.layout.nv) {
      throw new TgError('INPUT_INVALID', `qvel has ${qvel.length} numbers, expected ${this.layout.nv}`);
    }
    r.qvel.set(qvel);
    r.outQvel.set(r.qvel);
  }

  dispose(): void {
    for (const r of this.robots) r.data.delete();
    for (const m of this.models) m.delete();
    this.stateBuf.delete();
  }

  private robot(index: number): Robot {
    const r = this.byIndex.get(index);
    if (!r) throw new TgError('NOT_FOUND', `robot ${index} is not in this worker`);
    return r;
  }

  private publish(r: Robot): void {
    this.shared[r.outTime] = r.data.time;
    r.outQpos.set(r.qpos);
    r.outQvel.set(r.qvel);
  }

  /** Live views die when the WASM heap grows; refresh every robot's. */
  private refreshViews(): void {
    for (const x of this.robots) {
      x.qpos = x.data.qpos as Float64Array;
      x.qvel = x.data.qvel as Float64Array;
      x.ctrl = x.data.ctrl as Float64Array;
      x.sensordata = x.data.sensordata as Float64Array;
    }
  }
}

function nonFinite(v: Float64Array, name: string): string | undefined {
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x - x !== 0) return `non-finite ${name}[${i}]`;
  }
  return undefined;
}

/** mjtWarning names in enum order (mujoco/mjdata.h). */
const WARNINGS = ['INERTIA', 'CONTACTFULL', 'CNSTRFULL', 'BADQPOS', 'BADQVEL', 'BADQACC', 'BADCTRL'];

/** The warnings MuJoCo counted (read only after something went wrong: each read costs ~2 us). */
function warningNames(d: MjData): string {
  const found: string[] = [];
  const w = d.warning;
  for (let i = 0; i < WARNINGS.length; i++) {
    const stat = w.get(i);
    if (stat && stat.number > 0) found.push(`mjWARN_${WARNINGS[i]}`);
    stat?.delete();
  }
  w.delete();
  return found.join(', ') || 'no warning counted';
}

/** The keyframe named `home`, else the first keyframe, else -1 (qpos0). */
function homeKeyframe(mj: Mujoco, m: MjModel): number {
  if (m.nkey === 0) return -1;
  const id = mj.mj_name2id(m, mj.mjtObj.mjOBJ_KEY.value, 'home');
  return id >= 0 ? id : 0;
}

/**
 * The hold-position command: position servos on a joint get the home position of that joint; every other
 * actuator gets the keyframe's ctrl (0 without a keyframe).
 */
function holdCtrl(mj: Mujoco, m: MjModel, key: number): Float64Array {
  const nu = m.nu;
  const out = new Float64Array(nu);
  const home = new Float64Array(m.nq);
  if (key >= 0) {
    out.set((m.key_ctrl as Float64Array).subarray(key * nu, (key + 1) * nu));
    home.set((m.key_qpos as Float64Array).subarray(key * m.nq, (key + 1) * m.nq));
  } else {
    home.set(m.qpos0 as Float64Array);
  }
  const trntype = m.actuator_trntype as Int32Array;
  const trnid = m.actuator_trnid as Int32Array;
  const gaintype = m.actuator_gaintype as Int32Array;
  const biastype = m.actuator_biastype as Int32Array;
  const biasprm = m.actuator_biasprm as Float64Array;
  const qposadr = m.jnt_qposadr as Int32Array;
  const NBIAS = biasprm.length / Math.max(1, nu);
  for (let a = 0; a < nu; a++) {
    const positionServo =
      trntype[a] === mj.mjtTrn.mjTRN_JOINT.value &&
      gaintype[a] === mj.mjtGain.mjGAIN_FIXED.value &&
      biastype[a] === mj.mjtBias.mjBIAS_AFFINE.value &&
      biasprm[a * NBIAS + 1]! < 0;
    if (positionServo) out[a] = home[qposadr[trnid[2 * a]!]!]!;
  }
  return out;
}
