/**
 * The pick-and-place world: one MuJoCo model + data for the arm, table, cube and bin. It owns physics and
 * seeded resets, and exposes the robot through canonical vectors (`readState`, `applyAction`) plus the few
 * kinematic quantities a controller needs (grip-site pose and Jacobian). It makes no control decisions.
 */
import { type Embodiment, loadEmbodiment } from '../embodiment/index.ts';
import { TgError } from '../errors/index.ts';
import { type DoubleBuffer, loadMujoco, type MjData, type MjModel, type Mujoco } from './mujoco.ts';
import { compilePickPlace, PICK_PLACE_LAYOUT, type PickPlaceLayout } from './scenes/pick-place.ts';
import { readSiteJacobian, readSitePose } from './site-frame.ts';

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** splitmix32: small, fast, and the same sequence on every platform for a given seed. */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  return {
    next() {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      z = (z ^ (z >>> 16)) >>> 0;
      return z / 4294967296;
    },
  };
}

export interface WorldOptions {
  seed: number;
  embodiment?: Embodiment;
  layout?: PickPlaceLayout;
}

export class PickPlaceWorld {
  readonly embodiment: Embodiment;
  readonly layout: PickPlaceLayout;
  readonly timestepSec: number;
  /** Canonical state / action length: the arm joints then the gripper opening. */
  readonly stateDim: number;
  readonly actionDim: number;
  /** Number of arm joints (the Jacobian's column count). */
  readonly armDof: number;

  private readonly mj: Mujoco;
  private readonly model: MjModel;
  private readonly data: MjData;
  private readonly armQpos: Int32Array;
  private readonly armDofs: Int32Array;
  private readonly fingerQpos: [number, number];
  private readonly cubeQpos: number;
  private readonly siteId: number;
  /** mj_jacSite output buffers (3 x nv each), reused every control tick. */
  readonly jacp: DoubleBuffer;
  readonly jacr: DoubleBuffer;
  private steps = 0;
  private kinematicsAt = -1;
  private qposView: Float64Array;
  private ctrlView: Float64Array;

  private constructor(mj: Mujoco, embodiment: Embodiment, layout: PickPlaceLayout) {
    this.mj = mj;
    this.embodiment = embodiment;
    this.layout = layout;
    this.model = compilePickPlace(mj, embodiment, layout);
    const m = this.model;
    let data: MjData | undefined;
    try {
      data = new mj.MjData(m);
      this.data = data;
      const id = (type: number, name: string): number => {
        const i = mj.mj_name2id(m, type, name);
        if (i < 0) throw new TgError('MODEL_INVALID', `pick-place scene has no '${name}'`);
        return i;
      };
      const JOINT = mj.mjtObj.mjOBJ_JOINT.value;
      const jntQposAdr = m.jnt_qposadr as Int32Array;
      const jntDofAdr = m.jnt_dofadr as Int32Array;
      const joints = embodiment.jointNames.map((n) => id(JOINT, n));
      this.armDof = joints.length;
      this.armQpos = Int32Array.from(joints, (j) => jntQposAdr[j]!);
      this.armDofs = Int32Array.from(joints, (j) => jntDofAdr[j]!);
      this.fingerQpos = [jntQposAdr[id(JOINT, 'finger_left')]!, jntQposAdr[id(JOINT, 'finger_right')]!];
      this.cubeQpos = jntQposAdr[id(JOINT, 'cube')]!;
      this.siteId = id(mj.mjtObj.mjOBJ_SITE.value, 'grip_site');
      this.stateDim = embodiment.stateNames.length;
      this.actionDim = embodiment.actionNames.length;
      if (m.nu !== this.actionDim) {
        throw new TgError(
          'MODEL_INVALID',
          `model has ${m.nu} actuators, embodiment declares ${this.actionDim}`,
        );
      }
      this.timestepSec = m.opt.timestep;
      this.jacp = new mj.DoubleBuffer(3 * m.nv);
      this.jacr = new mj.DoubleBuffer(3 * m.nv);
    } catch (err) {
      data?.delete();
      m.delete();
      throw err;
    }
    this.qposView = this.data.qpos;
    this.ctrlView = this.data.ctrl;
  }

  static async create(opts: WorldOptions): Promise<PickPlaceWorld> {
    const mj = await loadMujoco();
    const world = new PickPlaceWorld(
      mj,
      opts.embodiment ?? loadEmbodiment('arm7'),
      opts.layout ?? PICK_PLACE_LAYOUT,
    );
    world.reset(opts.seed);
    return world;
  }

  get simTimeSec(): number {
    return this.data.time;
  }

  /** Physics steps since the last reset. */
  get stepCount(): number {
    return this.steps;
  }

  /** Arm at home, gripper open, cube at a random pose on the table drawn from `seed` (or the given rng). */
  reset(seed: number | Rng): void {
    const rng = typeof seed === 'number' ? seededRng(seed) : seed;
    const { mj, model: m, data: d } = this;
    mj.mj_resetData(m, d);
    this.refreshViews();
    const qpos = this.qposView;
    const home = this.embodiment.home;
    for (let i = 0; i < this.armDof; i++) qpos[this.armQpos[i]!] = home[i]!;
    const opening = home[this.armDof]!;
    qpos[this.fingerQpos[0]] = opening / 2;
    qpos[this.fingerQpos[1]] = opening / 2;
    const { spawn, cubeSizeM, tableTopZ } = this.layout;
    const x = spawn.xMin + (spawn.xMax - spawn.xMin) * rng.next();
    const y = spawn.yMin + (spawn.yMax - spawn.yMin) * rng.next();
    const yaw = (2 * rng.next() - 1) * spawn.yawMax;
    const c = this.cubeQpos;
    qpos[c] = x;
    qpos[c + 1] = y;
    qpos[c + 2] = tableTopZ + cubeSizeM / 2;
    qpos[c + 3] = Math.cos(yaw / 2);
    qpos[c + 4] = 0;
    qpos[c + 5] = 0;
    qpos[c + 6] = Math.sin(yaw / 2);
    for (let i = 0; i < this.actionDim; i++) this.ctrlView[i] = home[i]!;
    mj.mj_forward(m, d);
    this.steps = 0;
    this.kinematicsAt = 0;
  }

  /** Canonical state: arm joint positions (rad) then gripper opening (m). */
  readState(out: Float32Array | Float64Array): void {
    const qpos = this.qpos();
    for (let i = 0; i < this.armDof; i++) out[i] = qpos[this.armQpos[i]!]!;
    out[this.armDof] = qpos[this.fingerQpos[0]]! + qpos[this.fingerQpos[1]]!;
  }

  /** Writes actuator targets in canonical action order. Callers pass spine output only. */
  applyAction(action: Float64Array): void {
    const ctrl = this.ctrl();
    for (let i = 0; i < this.actionDim; i++) ctrl[i] = action[i]!;
  }

  step(): void {
    this.mj.mj_step(this.model, this.data);
    this.steps++;
  }

  /**
   * True when the state is no longer trustworthy: a non-finite position, or MuJoCo's automatic reset
   * after a bad acceleration (which zeroes the clock, so sim time falls behind the step count).
   */
  diverged(): boolean {
    const qpos = this.qpos();
    for (let i = 0; i < qpos.length; i++) if (!Number.isFinite(qpos[i]!)) return true;
    return (
      Math.abs(this.data.time - this.steps * this.timestepSec) > 0.5 * this.timestepSec + 1e-9 * this.steps
    );
  }

  /** Cube centre (m, world) and orientation quaternion (w, x, y, z). */
  cubePose(pos: Float64Array, quat?: Float64Array): void {
    const qpos = this.qpos();
    const c = this.cubeQpos;
    for (let i = 0; i < 3; i++) pos[i] = qpos[c + i]!;
    if (quat) for (let i = 0; i < 4; i++) quat[i] = qpos[c + 3 + i]!;
  }

  /** Whether the cube's centre lies inside the bin's walls, below the rim. */
  cubeInBin(): boolean {
    const qpos = this.qpos();
    const c = this.cubeQpos;
    const { bin, tableTopZ } = this.layout;
    const dx = Math.abs(qpos[c]! - bin.x);
    const dy = Math.abs(qpos[c + 1]! - bin.y);
    const z = qpos[c + 2]!;
    return (
      dx < bin.innerHalfM &&
      dy < bin.innerHalfM &&
      z > tableTopZ &&
      z < tableTopZ + bin.wallM + bin.wallHeightM
    );
  }

  /**
   * Grip-site pose and Jacobian at the current positions: `pos` (3), `mat` (3x3 row-major, columns are the
   * site's axes in world), `jac` (6 x armDof row-major: 3 translational rows, then 3 rotational).
   */
  gripSite(pos: Float64Array, mat: Float64Array, jac?: Float64Array): void {
    const { mj, model: m, data: d } = this;
    if (this.kinematicsAt !== this.steps) {
      // mj_step leaves derived quantities at the start of the step; refresh them for the new positions.
      mj.mj_kinematics(m, d);
      mj.mj_comPos(m, d);
      this.kinematicsAt = this.steps;
    }
    readSitePose(d, this.siteId, pos, mat);
    if (jac) readSiteJacobian(mj, m, d, this.siteId, this.armDofs, this, jac);
  }

  dispose(): void {
    this.jacp.delete();
    this.jacr.delete();
    this.data.delete();
    this.model.delete();
  }

  /** Live views die when the WASM heap grows; re-fetch them when that happened. */
  private qpos(): Float64Array {
    if (this.qposView.length === 0) this.refreshViews();
    return this.qposView;
  }

  private ctrl(): Float64Array {
    if (this.ctrlView.length === 0) this.refreshViews();
    return this.ctrlView;
  }

  private refreshViews(): void {
    this.qposView = this.data.qpos;
    this.ctrlView = this.data.ctrl;
  }
}

/** The world the pick-and-place task runs in. */
export { PickPlaceWorld as World };
