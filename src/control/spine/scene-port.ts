/**
 * A simulated robot behind the spine: the actuator port over a SceneWorld's arm (its `ctrl`), and the
 * sensor side that fills the spine's feedback from MuJoCo (joint and tendon state, TCP sites in the base
 * frame, contact forces per region). Hand the port to the spine only: it is then the single writer of the
 * arm's targets.
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { norm3 } from '../rotation.ts';
import type { ActuatorPort } from './actuator-port.ts';
import { ENVIRONMENT_REGION } from './contact-regions.ts';
import type { SpineFeedback } from './feedback.ts';
import type { ServoModel, SpineLimits } from './limits.ts';

// mjModel stride of actuator_gainprm / actuator_biasprm (mjNGAIN = mjNBIAS = 10).
const PRM = 10;

export interface ScenePortOptions {
  /**
   * Human body regions the scene models, by region name: the MuJoCo `<contact>` sensor (data="force")
   * between the robot and that part of the person. Its largest force magnitude is the region's force.
   */
  regionSensors?: Readonly<Record<string, string>>;
}

export class SceneSpinePort implements ActuatorPort {
  readonly channels: number;
  /** Writes that arrived while power was off (the spine never sends one: must stay 0). */
  refusedWrites = 0;
  private powered = true;
  private readonly world: SceneWorld;
  private readonly armDof: number;
  private readonly dofAdr: Int32Array;
  private readonly tendonId: Int32Array;
  private readonly siteIds: Int32Array;
  private readonly baseBody: number;
  private readonly robotBodies: Int32Array;
  /** Region index of `environment` (-1 when the spine has none), and sensor per other region. */
  private readonly envRegion: number;
  private readonly regionSensor: Int32Array;
  private readonly needsRnePost: boolean;
  /** Model arrays (constant) copied once; live data views cached (each getter call allocates a view). */
  private readonly sensorAdr: Int32Array;
  private readonly sensorDim: Int32Array;
  private views: { tenVelocity: Float64Array; siteXpos: Float64Array; cfrcExt: Float64Array } | null = null;
  private xposView: Float64Array = new Float64Array(0);
  private xmatView: Float64Array = new Float64Array(0);

  constructor(world: SceneWorld, limits: SpineLimits, opts: ScenePortOptions = {}) {
    const arm = world.scene.arm;
    if (!arm) throw new TgError('MODEL_INVALID', `scene '${world.scene.name}' has no arm to actuate`);
    this.world = world;
    this.channels = world.actionDim;
    this.armDof = world.armDof;
    this.dofAdr = Int32Array.from(arm.jointNames, (j) => world.dofAdr(j));
    // Channels past the joints are tendon-driven grippers: the tendon's length is the opening.
    this.tendonId = Int32Array.from(arm.actuators.slice(this.armDof), (a) => tendonId(world, a.target));
    this.siteIds = Int32Array.from(limits.workspace?.sites ?? [], (s) => world.id('site', s));
    this.baseBody = world.findId('body', `${arm.name}/base`);
    this.robotBodies = robotBodies(world, arm);
    const regions = limits.contact?.regions ?? [];
    this.envRegion = regions.findIndex((r) => r.name === ENVIRONMENT_REGION);
    const sensors = opts.regionSensors ?? {};
    for (const name of Object.keys(sensors)) {
      if (!regions.some((r) => r.name === name)) {
        throw new TgError(
          'CONFIG_INVALID',
          `contact sensor for region '${name}', which the spine limits lack`,
        );
      }
    }
    this.regionSensor = Int32Array.from(regions, (r) => {
      const s = sensors[r.name];
      return s === undefined ? -1 : world.id('sensor', s);
    });
    this.needsRnePost = !computesContactForces(world);
    this.sensorAdr = Int32Array.from(world.model.sensor_adr as Int32Array);
    this.sensorDim = Int32Array.from(world.model.sensor_dim as Int32Array);
  }

  /** The live views, fetched again once the WASM heap grew (they read as length 0 then). */
  private live(): { tenVelocity: Float64Array; siteXpos: Float64Array; cfrcExt: Float64Array } {
    const v = this.views;
    if (v !== null && v.siteXpos.length > 0 && this.xmatView.length > 0) return v;
    const d = this.world.data;
    this.views = {
      tenVelocity: d.ten_velocity as Float64Array,
      siteXpos: d.site_xpos as Float64Array,
      cfrcExt: d.cfrc_ext as Float64Array,
    };
    this.xposView = d.xpos as Float64Array;
    this.xmatView = d.xmat as Float64Array;
    return this.views;
  }

  write(targets: Float64Array): void {
    if (!this.powered) {
      this.refusedWrites++;
      return;
    }
    this.world.applyAction(targets);
  }

  /** Power off leaves `ctrl` at the last targets: the simulated servos hold there, as brakes would. */
  setPower(on: boolean): void {
    this.powered = on;
  }

  get powerOn(): boolean {
    return this.powered;
  }

  /**
   * Fills `fb` from the world's current state, stamped `tSec`. Positions and joint velocities are the
   * state after the last step; tendon velocities, sites and contact forces come from that step's forward
   * pass (one physics step older), as MuJoCo leaves them.
   */
  sense(fb: SpineFeedback, tSec: number): void {
    const w = this.world;
    const views = this.live();
    w.readState(fb.q);
    const qvel = w.qvel;
    for (let i = 0; i < this.armDof; i++) fb.qd[i] = qvel[this.dofAdr[i]!]!;
    if (this.tendonId.length > 0) {
      const tv = views.tenVelocity;
      for (let k = 0; k < this.tendonId.length; k++) fb.qd[this.armDof + k] = tv[this.tendonId[k]!]!;
    }
    if (this.siteIds.length > 0) this.readTcp(fb.tcp);
    if (fb.contactForceN.length > 0) this.readContacts(fb.contactForceN);
    fb.stampSec = tSec;
  }

  private readTcp(out: Float64Array): void {
    const sx = this.live().siteXpos;
    const b = this.baseBody;
    const xpos = this.xposView;
    const xmat = this.xmatView;
    for (let s = 0; s < this.siteIds.length; s++) {
      const id = this.siteIds[s]!;
      const dx = sx[3 * id]! - (b >= 0 ? xpos[3 * b]! : 0);
      const dy = sx[3 * id + 1]! - (b >= 0 ? xpos[3 * b + 1]! : 0);
      const dz = sx[3 * id + 2]! - (b >= 0 ? xpos[3 * b + 2]! : 0);
      if (b < 0) {
        out[3 * s] = dx;
        out[3 * s + 1] = dy;
        out[3 * s + 2] = dz;
        continue;
      }
      // Base frame: R^T (p - x), with xmat the row-major rotation base -> world.
      const m = 9 * b;
      for (let j = 0; j < 3; j++) {
        out[3 * s + j] = xmat[m + j]! * dx + xmat[m + 3 + j]! * dy + xmat[m + 6 + j]! * dz;
      }
    }
  }

  private readContacts(out: Float64Array): void {
    const w = this.world;
    // cfrc_ext from the last step's contacts: MuJoCo fills it only for acceleration-stage sensors, and not
    // on a step that skipped the sensors. Recomputed after the step it is the same (it depends on the
    // contacts, their forces and the step's com positions, none of which the integrator changes).
    if (this.needsRnePost || w.sensorsSkipped) w.mj.mj_rnePostConstraint(w.model, w.data);
    out.fill(0);
    if (this.envRegion >= 0) {
      // Everything the robot touches: the largest external force on any of its bodies (cfrc_ext, force
      // part: the last 3 of each 6).
      const cfrc = this.live().cfrcExt;
      let max = 0;
      for (let k = 0; k < this.robotBodies.length; k++) {
        const o = 6 * this.robotBodies[k]! + 3;
        // Runs for every robot body every tick (norm3: no allocation, unlike Math.hypot).
        const f = norm3(cfrc[o]!, cfrc[o + 1]!, cfrc[o + 2]!);
        if (f > max || Number.isNaN(f)) max = f;
      }
      out[this.envRegion] = max;
    }
    const adr = this.sensorAdr;
    const dim = this.sensorDim;
    for (let r = 0; r < this.regionSensor.length; r++) {
      const s = this.regionSensor[r]!;
      if (s < 0) continue;
      // Region sensors are read every tick: a scene with them must not skip sensors (this throws then).
      const sd = w.sensordata;
      let max = 0;
      for (let k = adr[s]!; k + 2 < adr[s]! + dim[s]!; k += 3) {
        const f = norm3(sd[k]!, sd[k + 1]!, sd[k + 2]!);
        if (f > max || Number.isNaN(f)) max = f;
      }
      out[r] = max;
    }
  }
}

/** The position servos of a scene's arm (kp, kd and force limit per channel), read from the compiled model. */
export function servoModelFromScene(world: SceneWorld): ServoModel & { maxEffort: number[] } {
  const m = world.model;
  const gain = m.actuator_gainprm as Float64Array;
  const bias = m.actuator_biasprm as Float64Array;
  const forceRange = m.actuator_forcerange as Float64Array;
  const n = world.actionDim;
  const kp: number[] = [];
  const kd: number[] = [];
  const maxEffort: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = gain[PRM * i]!;
    // A position servo has bias (0, -kp, -kv): anything else gets no torque window (kp 0).
    const isServo = k > 0 && Math.abs(bias[PRM * i + 1]! + k) < 1e-9 * k;
    kp.push(isServo ? k : 0);
    kd.push(isServo ? Math.max(0, -bias[PRM * i + 2]!) : 0);
    // (actuator_forcelimited is a bool array the WASM bindings cannot hand out; an unset range is 0 0.)
    const lo = forceRange[2 * i]!;
    const hi = forceRange[2 * i + 1]!;
    maxEffort.push(lo < hi ? Math.max(Math.abs(lo), Math.abs(hi)) : Number.POSITIVE_INFINITY);
  }
  return { kp, kd, maxEffort };
}

function tendonId(world: SceneWorld, name: string): number {
  const id = world.mj.mj_name2id(world.model, world.mj.mjtObj.mjOBJ_TENDON.value, name);
  if (id < 0) throw new TgError('MODEL_INVALID', `scene '${world.scene.name}' has no tendon '${name}'`);
  return id;
}

function robotBodies(world: SceneWorld, arm: Embodiment): Int32Array {
  const prefix = `${arm.name}/`;
  const ids: number[] = [];
  for (let b = 0; b < world.model.nbody; b++) {
    const name = world.mj.mj_id2name(world.model, world.mj.mjtObj.mjOBJ_BODY.value, b);
    if (name?.startsWith(prefix)) ids.push(b);
  }
  if (ids.length === 0)
    throw new TgError('MODEL_INVALID', `scene '${world.scene.name}' has no bodies named ${prefix}*`);
  return Int32Array.from(ids);
}

/**
 * MuJoCo fills cfrc_ext only when a sensor needs the acceleration stage (mj_rnePostConstraint); without
 * one the port calls it itself.
 */
function computesContactForces(world: SceneWorld): boolean {
  const t = world.mj.mjtSensor;
  const accStage = new Set<number>(
    [t.mjSENS_ACCELEROMETER, t.mjSENS_FORCE, t.mjSENS_TORQUE, t.mjSENS_FRAMELINACC, t.mjSENS_FRAMEANGACC].map(
      (e) => e.value,
    ),
  );
  const types = world.model.sensor_type as Int32Array;
  for (let i = 0; i < types.length; i++) if (accStage.has(types[i]!)) return true;
  return false;
}
