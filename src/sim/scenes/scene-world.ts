/**
 * A compiled scene with its MjData: physics and name lookups, plus canonical-vector access to the scene's
 * arm when it has one (`readState`, `applyAction`, and the grip-site pose and Jacobian that skills written
 * against `ArmSite`, src/control/ik.ts, need). It makes no control decisions and knows no task: tasks
 * (src/sim/tasks) reset and judge it from outside. Every world in the project is one of these.
 */
import { TgError } from '../../errors/index.ts';
import { type DoubleBuffer, loadMujoco, type MjData, type MjModel, type Mujoco } from '../mujoco.ts';
import { readSiteJacobian, readSitePose } from '../site-frame.ts';
import { compileScene, type Scene } from './scene.ts';

export type ObjKind = 'body' | 'joint' | 'geom' | 'site' | 'actuator' | 'sensor' | 'equality';

export class SceneWorld {
  readonly scene: Scene;
  readonly mj: Mujoco;
  /** The compiled model: randomization edits it in place (src/sim/randomization.ts). */
  readonly model: MjModel;
  readonly data: MjData;
  readonly timestepSec: number;
  /** Arm joints (0 without an arm). */
  readonly armDof: number;
  readonly stateDim: number;
  readonly actionDim: number;

  private readonly armQpos: Int32Array;
  private readonly armDofs: Int32Array;
  private readonly fingerQpos: number[];
  private readonly siteId: number;
  /**
   * Per arm joint: 1 hinge, 2 slide (the Jacobian column from the joint's world axis and anchor, computed
   * here), 0 not an ancestor of the grip site (a zero column), -1 any other type (mj_jacSite then).
   */
  private readonly armJointKind: Int8Array;
  /** Arm joint ids (xanchor / xaxis rows). */
  private readonly armJoints: Int32Array;
  private readonly jacobianInJs: boolean;
  /** mj_jacSite output buffers (3 x nv each), reused every control tick. */
  readonly jacp: DoubleBuffer;
  readonly jacr: DoubleBuffer;
  private steps = 0;
  /** The last step ran with sensors disabled (`stepWithoutSensors`): sensordata is one step older. */
  private sensorsStale = false;
  /** The model's options, fetched once (each `model.opt` is a new binding object). */
  private opt: { disableflags: number; delete?: () => void } | null = null;
  /**
   * Index in `heap32` of mjOption.disableflags, found on the first `stepWithoutSensors` (-2: not looked for
   * yet; -1: not found, the binding's setter is used). The binding's property setter allocates (an array
   * and a boxed pointer per call), twice per skipped step: writing the word directly does not.
   */
  private flagsWord = -2;
  private sensorBit = 0;
  private heap32: Int32Array = new Int32Array(0);
  private kinematicsAt = -1;
  private comPosAt = -1;
  /** Sim time at step 0 of the current run: `diverged` expects time = origin + steps * timestep. */
  private clockOrigin = 0;
  // Cached live views (a getter call costs ~0.5 us; the loops touch qpos and ctrl every physics step).
  // A view turns into a length-0 array when the WASM heap grows: `view()` then fetches it again.
  private qposView: Float64Array = new Float64Array(0);
  private qvelView: Float64Array = new Float64Array(0);
  private ctrlView: Float64Array = new Float64Array(0);
  private sensorView: Float64Array = new Float64Array(0);
  /** Grip-site reads at the control rate: site pose and Jacobian buffer views, nv. */
  private readonly siteViews: {
    siteXpos: Float64Array;
    siteXmat: Float64Array;
    xanchor: Float64Array;
    xaxis: Float64Array;
    jacp: Float64Array;
    jacr: Float64Array;
    nv: number;
  } = {
    siteXpos: new Float64Array(0),
    siteXmat: new Float64Array(0),
    xanchor: new Float64Array(0),
    xaxis: new Float64Array(0),
    jacp: new Float64Array(0),
    jacr: new Float64Array(0),
    nv: 0,
  };

  constructor(mj: Mujoco, scene: Scene) {
    this.mj = mj;
    this.scene = scene;
    this.model = compileScene(mj, scene);
    const m = this.model;
    let data: MjData | undefined;
    try {
      data = new mj.MjData(m);
      this.data = data;
      this.timestepSec = m.opt.timestep;
      const arm = scene.arm;
      if (arm) {
        const jntQposAdr = m.jnt_qposadr as Int32Array;
        const jntDofAdr = m.jnt_dofadr as Int32Array;
        const joints = arm.jointNames.map((n) => this.id('joint', n));
        this.armDof = joints.length;
        this.armQpos = Int32Array.from(joints, (j) => jntQposAdr[j]!);
        this.armDofs = Int32Array.from(joints, (j) => jntDofAdr[j]!);
        this.fingerQpos = ['finger_left', 'finger_right'].map((n) => jntQposAdr[this.id('joint', n)]!);
        this.siteId = this.id('site', 'grip_site');
        this.armJoints = Int32Array.from(joints);
        this.armJointKind = jacobianKinds(mj, m, joints, this.siteId);
        this.jacobianInJs = this.armJointKind.indexOf(-1) < 0;
        this.stateDim = arm.stateNames.length;
        this.actionDim = arm.actionNames.length;
      } else {
        this.armDof = 0;
        this.armQpos = new Int32Array(0);
        this.armDofs = new Int32Array(0);
        this.fingerQpos = [];
        this.siteId = -1;
        this.armJoints = new Int32Array(0);
        this.armJointKind = new Int8Array(0);
        this.jacobianInJs = false;
        this.stateDim = 0;
        this.actionDim = 0;
      }
      this.jacp = new mj.DoubleBuffer(3 * m.nv);
      this.jacr = new mj.DoubleBuffer(3 * m.nv);
    } catch (err) {
      data?.delete();
      m.delete();
      throw err;
    }
  }

  static async create(scene: Scene): Promise<SceneWorld> {
    return new SceneWorld(await loadMujoco(), scene);
  }

  /** Id of a named object; throws MODEL_INVALID when the scene has none. */
  id(kind: ObjKind, name: string): number {
    const i = this.mj.mj_name2id(this.model, this.objType(kind), name);
    if (i < 0) throw new TgError('MODEL_INVALID', `scene '${this.scene.name}' has no ${kind} '${name}'`);
    return i;
  }

  /** Id of a named object, or -1. */
  findId(kind: ObjKind, name: string): number {
    return this.mj.mj_name2id(this.model, this.objType(kind), name);
  }

  /** qpos address of a named joint. */
  qposAdr(joint: string): number {
    return (this.model.jnt_qposadr as Int32Array)[this.id('joint', joint)]!;
  }

  /** dof address of a named joint. */
  dofAdr(joint: string): number {
    return (this.model.jnt_dofadr as Int32Array)[this.id('joint', joint)]!;
  }

  // Live views die when the WASM heap grows (DESIGN.md, MuJoCo notes): the hot ones are cached and
  // fetched again once emptied, the others fetched on each call.
  get qpos(): Float64Array {
    if (this.qposView.length === 0) this.qposView = this.data.qpos as Float64Array;
    return this.qposView;
  }
  get qvel(): Float64Array {
    if (this.qvelView.length === 0) this.qvelView = this.data.qvel as Float64Array;
    return this.qvelView;
  }
  get ctrl(): Float64Array {
    if (this.ctrlView.length === 0) this.ctrlView = this.data.ctrl as Float64Array;
    return this.ctrlView;
  }
  get xpos(): Float64Array {
    return this.data.xpos as Float64Array;
  }
  get xquat(): Float64Array {
    return this.data.xquat as Float64Array;
  }
  get xmat(): Float64Array {
    return this.data.xmat as Float64Array;
  }
  get xfrcApplied(): Float64Array {
    return this.data.xfrc_applied as Float64Array;
  }
  get mocapPos(): Float64Array {
    return this.data.mocap_pos as Float64Array;
  }
  get mocapQuat(): Float64Array {
    return this.data.mocap_quat as Float64Array;
  }
  get sensordata(): Float64Array {
    if (this.sensorsStale) {
      throw new TgError(
        'CONFIG_INVALID',
        `scene '${this.scene.name}': sensordata read after a step that skipped the sensors (stepWithoutSensors)`,
      );
    }
    if (this.sensorView.length === 0) this.sensorView = this.data.sensordata as Float64Array;
    return this.sensorView;
  }

  get simTimeSec(): number {
    return this.data.time;
  }

  /** True when the last step computed no sensors (`stepWithoutSensors`): sensordata is not this step's. */
  get sensorsSkipped(): boolean {
    return this.sensorsStale;
  }

  /** Physics steps since the last `resetData`. */
  get stepCount(): number {
    return this.steps;
  }

  /** mj_resetData: qpos0, zero velocity and time, equality constraints back to their model defaults. */
  resetData(): void {
    this.mj.mj_resetData(this.model, this.data);
    this.sensorsStale = false;
    this.steps = 0;
    this.kinematicsAt = -1;
    this.comPosAt = -1;
    this.clockOrigin = 0;
  }

  /**
   * mj_forward after a reset writes positions: derived quantities (xpos, sensors) follow them. A state
   * written with its own clock (`data.time`) is taken as the new time origin.
   */
  forward(): void {
    this.mj.mj_forward(this.model, this.data);
    this.sensorsStale = false;
    this.kinematicsAt = this.steps;
    this.comPosAt = this.steps;
    this.clockOrigin = this.data.time - this.steps * this.timestepSec;
  }

  step(n = 1): void {
    for (let i = 0; i < n; i++) this.mj.mj_step(this.model, this.data);
    this.steps += n;
    this.sensorsStale = false;
  }

  /**
   * One physics step that computes no sensors (mjDSBL_SENSOR for this step only), for a step whose
   * sensordata nobody reads: a controller that reads its sensors every other step skips the sensor stage
   * (tactile pads, wrench: ~10% of mj_step on arm7) on the steps in between. Sensors have no effect on the
   * dynamics, so the trajectory is bit for bit the one `step` gives. Until the next `step`/`forward`,
   * `sensordata`/`readSensor` throw (the data is a step old), and cfrc_ext, which the acceleration-stage
   * sensors had MuJoCo compute (mj_rnePostConstraint), is stale: a reader recomputes it (SceneSpinePort).
   */
  stepWithoutSensors(): void {
    if (this.flagsWord === -2) this.flagsWord = this.findFlagsWord();
    const k = this.flagsWord;
    if (k >= 0) {
      const flags = this.heap()[k]!;
      this.heap()[k] = flags | this.sensorBit;
      try {
        this.mj.mj_step(this.model, this.data);
      } finally {
        this.heap()[k] = flags;
      }
    } else {
      const opt = this.options();
      const flags = opt.disableflags;
      opt.disableflags = flags | this.sensorBit;
      try {
        this.mj.mj_step(this.model, this.data);
      } finally {
        opt.disableflags = flags;
      }
    }
    this.steps++;
    this.sensorsStale = true;
  }

  private options(): { disableflags: number; delete?: () => void } {
    if (this.opt === null) this.opt = this.model.opt as unknown as { disableflags: number };
    return this.opt;
  }

  /** An Int32Array over the whole WASM heap (fetched again once the heap grew and the old one emptied). */
  private heap(): Int32Array {
    if (this.heap32.length === 0) this.heap32 = new Int32Array(this.qpos.buffer);
    return this.heap32;
  }

  /**
   * Where mjOption.disableflags lives in the WASM heap, or -1. The options binding object wraps a pointer
   * to the model's mjOption (its first word, Emscripten's `$$.ptr` being the wrapper's address); the word
   * is the one, within the struct, that changes, and only it, when the binding's setter flips the sensor
   * bit, and the binding's getter must then read back what is written there. Anything else (another
   * binding layout) leaves the setter path in use: same physics, only slower.
   */
  private findFlagsWord(): number {
    const opt = this.options();
    this.sensorBit = this.mj.mjtDisableBit.mjDSBL_SENSOR.value;
    const wrapper = (opt as { $$?: { ptr?: unknown } }).$$?.ptr;
    if (typeof wrapper !== 'number' || wrapper <= 0 || wrapper % 4 !== 0) return -1;
    const h = this.heap();
    if (wrapper >> 2 >= h.length) return -1;
    const base = h[wrapper >> 2]!;
    if (base <= 0 || base % 4 !== 0) return -1;
    // mjOption is ~300 bytes; 128 words cover it with room to spare.
    const from = base >> 2;
    const to = Math.min(h.length, from + 128);
    const before = h.slice(from, to);
    const f0 = opt.disableflags;
    const f1 = f0 ^ this.sensorBit;
    opt.disableflags = f1;
    let found = -1;
    for (let k = from; k < to; k++) {
      if (h[k] === before[k - from]) continue;
      if (found >= 0 || h[k] !== f1 || before[k - from] !== f0) {
        found = -1;
        break;
      }
      found = k;
    }
    opt.disableflags = f0;
    if (found < 0 || h[found] !== f0) return -1;
    h[found] = f1;
    const readsBack = opt.disableflags === f1;
    h[found] = f0;
    return readsBack && opt.disableflags === f0 ? found : -1;
  }

  /** Writes a free joint's position (m) and quaternion (w, x, y, z) into qpos and zeroes its velocity. */
  setFreePose(joint: string, pos: ArrayLike<number>, quat: ArrayLike<number> = [1, 0, 0, 0]): void {
    const a = this.qposAdr(joint);
    const v = this.dofAdr(joint);
    const qpos = this.qpos;
    const qvel = this.qvel;
    for (let i = 0; i < 3; i++) qpos[a + i] = pos[i]!;
    for (let i = 0; i < 4; i++) qpos[a + 3 + i] = quat[i]!;
    for (let i = 0; i < 6; i++) qvel[v + i] = 0;
  }

  /** Reads a free joint's position (m) and, when `quat` is given, its quaternion (w, x, y, z). */
  freePose(joint: string, pos: Float64Array, quat?: Float64Array): void {
    this.freePoseAt(this.qposAdr(joint), pos, quat);
  }

  /** `freePose` by qpos address (resolve it once with `qposAdr` on a hot path). */
  freePoseAt(qposAdr: number, pos: Float64Array, quat?: Float64Array): void {
    const qpos = this.qpos;
    for (let i = 0; i < 3; i++) pos[i] = qpos[qposAdr + i]!;
    if (quat) for (let i = 0; i < 4; i++) quat[i] = qpos[qposAdr + 3 + i]!;
  }

  /** World position of a body (after forward/step). */
  bodyPos(body: number, out: Float64Array): void {
    const x = this.xpos;
    for (let i = 0; i < 3; i++) out[i] = x[3 * body + i]!;
  }

  /** World position of a site (after forward/step). */
  sitePos(site: number, out: Float64Array): void {
    const x = this.data.site_xpos as Float64Array;
    for (let i = 0; i < 3; i++) out[i] = x[3 * site + i]!;
  }

  /** Copies a sensor's values into `out` (after forward/step). */
  readSensor(sensor: number, out: Float64Array): void {
    const m = this.model;
    const adr = (m.sensor_adr as Int32Array)[sensor]!;
    const dim = (m.sensor_dim as Int32Array)[sensor]!;
    const d = this.sensordata;
    for (let i = 0; i < dim; i++) out[i] = d[adr + i]!;
  }

  /** World z axis of a body frame (third column of xmat). */
  bodyZAxis(body: number, out: Float64Array): void {
    const m = this.xmat;
    out[0] = m[9 * body + 2]!;
    out[1] = m[9 * body + 5]!;
    out[2] = m[9 * body + 8]!;
  }

  // ---- the arm, in canonical vectors (src/embodiment) ----

  /** Sets the arm joints and gripper opening (canonical state order) and matching actuator targets. */
  setArmState(state: ArrayLike<number>): void {
    this.requireArm();
    const qpos = this.qpos;
    const ctrl = this.ctrl;
    for (let i = 0; i < this.armDof; i++) qpos[this.armQpos[i]!] = state[i]!;
    const opening = state[this.armDof]!;
    for (const a of this.fingerQpos) qpos[a] = opening / 2;
    for (let i = 0; i < this.actionDim; i++) ctrl[i] = state[i]!;
  }

  /** Canonical state: arm joint positions (rad) then gripper opening (m). */
  readState(out: Float32Array | Float64Array): void {
    const qpos = this.qpos;
    for (let i = 0; i < this.armDof; i++) out[i] = qpos[this.armQpos[i]!]!;
    let opening = 0;
    for (const a of this.fingerQpos) opening += qpos[a]!;
    if (this.fingerQpos.length > 0) out[this.armDof] = opening;
  }

  /** Writes actuator targets in canonical action order. Callers pass spine output only. */
  applyAction(action: ArrayLike<number>): void {
    const ctrl = this.ctrl;
    for (let i = 0; i < this.actionDim; i++) ctrl[i] = action[i]!;
  }

  /**
   * Grip-site pose and Jacobian, as `ArmSite.gripSite` (src/control/ik.ts) describes. The arm's hinge and
   * slide columns are computed here from the joints' world axes and anchors (mj_kinematics output): hinge
   * [axis x (site - anchor); axis], slide [axis; 0], which is what mj_jac computes through cdof (they agree
   * to rounding, ~1e-16). That spares mj_comPos and the mj_jacSite call, whose embind argument unpacking
   * cost more than the kinematics themselves and allocated ~1.8 kB per call.
   */
  gripSite(pos: Float64Array, mat: Float64Array, jac?: Float64Array): void {
    this.requireArm();
    const { mj, model: m, data: d } = this;
    if (this.kinematicsAt !== this.steps) {
      // mj_step leaves derived quantities at the start of the step; refresh them for the new positions.
      mj.mj_kinematics(m, d);
      this.kinematicsAt = this.steps;
      this.comPosAt = -1;
    }
    const v = this.siteViews;
    if (v.siteXmat.length === 0 || v.xaxis.length === 0 || v.jacr.length === 0) {
      v.siteXpos = d.site_xpos as Float64Array;
      v.siteXmat = d.site_xmat as Float64Array;
      v.xanchor = d.xanchor as Float64Array;
      v.xaxis = d.xaxis as Float64Array;
      v.jacp = this.jacp.GetView() as Float64Array;
      v.jacr = this.jacr.GetView() as Float64Array;
      v.nv = m.nv;
    }
    readSitePose(v, this.siteId, pos, mat);
    if (!jac) return;
    if (!this.jacobianInJs) {
      if (this.comPosAt !== this.steps) {
        mj.mj_comPos(m, d);
        this.comPosAt = this.steps;
      }
      readSiteJacobian(mj, m, d, this.siteId, this.armDofs, this, jac, v);
      return;
    }
    const n = this.armDof;
    const kinds = this.armJointKind;
    const joints = this.armJoints;
    const anchor = v.xanchor;
    const axis = v.xaxis;
    const sx = pos[0]!;
    const sy = pos[1]!;
    const sz = pos[2]!;
    for (let j = 0; j < n; j++) {
      const kind = kinds[j]!;
      const a = 3 * joints[j]!;
      const ax = kind === 0 ? 0 : axis[a]!;
      const ay = kind === 0 ? 0 : axis[a + 1]!;
      const az = kind === 0 ? 0 : axis[a + 2]!;
      if (kind === 2) {
        jac[j] = ax;
        jac[n + j] = ay;
        jac[2 * n + j] = az;
        jac[3 * n + j] = 0;
        jac[4 * n + j] = 0;
        jac[5 * n + j] = 0;
        continue;
      }
      const dx = sx - anchor[a]!;
      const dy = sy - anchor[a + 1]!;
      const dz = sz - anchor[a + 2]!;
      jac[j] = ay * dz - az * dy;
      jac[n + j] = az * dx - ax * dz;
      jac[2 * n + j] = ax * dy - ay * dx;
      jac[3 * n + j] = ax;
      jac[4 * n + j] = ay;
      jac[5 * n + j] = az;
    }
  }

  /**
   * True when the state is no longer trustworthy: a non-finite position, or MuJoCo's automatic reset after
   * a bad acceleration (which zeroes the clock, so sim time falls behind the step count).
   */
  diverged(): boolean {
    const qpos = this.qpos;
    for (let i = 0; i < qpos.length; i++) if (!Number.isFinite(qpos[i]!)) return true;
    const expected = this.clockOrigin + this.steps * this.timestepSec;
    return Math.abs(this.data.time - expected) > 0.5 * this.timestepSec + 1e-9 * this.steps;
  }

  dispose(): void {
    this.opt?.delete?.();
    this.jacp.delete();
    this.jacr.delete();
    this.data.delete();
    this.model.delete();
  }

  private requireArm(): void {
    if (this.armDof === 0) throw new TgError('MODEL_INVALID', `scene '${this.scene.name}' has no arm`);
  }

  private objType(kind: ObjKind): number {
    const o = this.mj.mjtObj;
    switch (kind) {
      case 'body':
        return o.mjOBJ_BODY.value;
      case 'joint':
        return o.mjOBJ_JOINT.value;
      case 'geom':
        return o.mjOBJ_GEOM.value;
      case 'site':
        return o.mjOBJ_SITE.value;
      case 'actuator':
        return o.mjOBJ_ACTUATOR.value;
      case 'sensor':
        return o.mjOBJ_SENSOR.value;
      case 'equality':
        return o.mjOBJ_EQUALITY.value;
    }
  }
}

/**
 * How `gripSite` gets each arm joint's Jacobian column (see `armJointKind`): hinge and slide joints on the
 * grip site's body chain in JS, joints off the chain as zero columns (mj_jac's too), anything else through
 * mj_jacSite.
 */
function jacobianKinds(mj: Mujoco, m: MjModel, joints: number[], site: number): Int8Array {
  const jntType = m.jnt_type as Int32Array;
  const jntBody = m.jnt_bodyid as Int32Array;
  const parent = m.body_parentid as Int32Array;
  const chain = new Set<number>();
  for (let b = (m.site_bodyid as Int32Array)[site]!; b > 0; b = parent[b]!) chain.add(b);
  const hinge = mj.mjtJoint.mjJNT_HINGE.value;
  const slide = mj.mjtJoint.mjJNT_SLIDE.value;
  return Int8Array.from(joints, (j) => {
    const type = jntType[j]!;
    if (type !== hinge && type !== slide) return -1;
    if (!chain.has(jntBody[j]!)) return 0;
    return type === hinge ? 1 : 2;
  });
}
