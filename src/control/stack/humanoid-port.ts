/**
 * The humanoid's actuators and spine feedback in the locomotion scene (the arm scenes' counterpart is
 * src/control/spine/scene-port.ts, which needs a scene arm). Handed to the spine only: the spine's `tick`
 * is the one writer of the humanoid's `ctrl`.
 *
 * Feedback: joint positions and velocities in canonical order (the grippers' openings are their tendons'
 * lengths: the sum of the coupled finger slides, coefficient 1 each, as the MJCF declares), the hands'
 * sites in the walking robot's
 * base frame: the floor under the pelvis, turned with the pelvis's heading (the humanoid's workspace box
 * starts 0.1 m below its floor and reaches 1 m above it; in the pelvis's own frame the hanging hands,
 * 0.17 m below it, would already be outside), and for the `environment` contact region the largest
 * external force on any robot body (cfrc_ext: the feet carry the robot's weight, which the humanoid's
 * envelope allows for).
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import {
  type ActuatorPort,
  ENVIRONMENT_REGION,
  type SpineFeedback,
  type SpineLimits,
} from '../spine/index.ts';

export class HumanoidSpinePort implements ActuatorPort {
  readonly channels: number;
  /** Writes that arrived while power was off (the spine never sends one: must stay 0). */
  refusedWrites = 0;
  private powered = true;
  private readonly actuators: Int32Array;
  private readonly qposAdr: Int32Array;
  private readonly dofAdr: Int32Array;
  /** Gripper channels (after the joints): per channel the span of its tendon's joints in the next three. */
  private readonly gripSpan: Int32Array;
  private readonly gripQposAdr: Int32Array;
  private readonly gripDofAdr: Int32Array;
  private readonly gripCoef: Float64Array;
  private readonly sites: Int32Array;
  private readonly pelvis: number;
  private readonly bodies: Int32Array;
  private readonly envRegion: number;

  constructor(
    private readonly world: SceneWorld,
    robot: Embodiment,
    limits: SpineLimits,
  ) {
    this.channels = robot.actionNames.length;
    this.actuators = Int32Array.from(robot.actionNames, (a) => world.id('actuator', a));
    this.qposAdr = Int32Array.from(robot.jointNames, (j) => world.qposAdr(j));
    this.dofAdr = Int32Array.from(robot.jointNames, (j) => world.dofAdr(j));
    const grip = tendonJoints(world, robot);
    this.gripSpan = grip.span;
    this.gripQposAdr = grip.qposAdr;
    this.gripDofAdr = grip.dofAdr;
    this.gripCoef = grip.coef;
    this.sites = Int32Array.from(limits.workspace?.sites ?? [], (s) => world.id('site', s));
    this.pelvis = world.id('body', 'pelvis');
    // Every body of the robot's tree (world body 0 and the scene's mocap markers are not the robot's).
    const root = world.model.body_rootid as Int32Array;
    const ids: number[] = [];
    for (let b = 1; b < world.model.nbody; b++) if (root[b] === root[this.pelvis]) ids.push(b);
    this.bodies = Int32Array.from(ids);
    this.envRegion = (limits.contact?.regions ?? []).findIndex((r) => r.name === ENVIRONMENT_REGION);
  }

  write(targets: Float64Array): void {
    if (!this.powered) {
      this.refusedWrites++;
      return;
    }
    const ctrl = this.world.ctrl;
    for (let i = 0; i < this.actuators.length; i++) ctrl[this.actuators[i]!] = targets[i]!;
  }

  /** Power off leaves `ctrl` at the last targets: the position servos hold there, as brakes would. */
  setPower(on: boolean): void {
    this.powered = on;
  }

  /**
   * The robot's canonical state (`stateNames`: joint positions in rad, then gripper openings in m) as the
   * world holds it now: what a recorded frame's `observation.state` is, and the spine's `q`.
   */
  readState(out: Float32Array | Float64Array): void {
    const qpos = this.world.qpos;
    const n = this.qposAdr.length;
    for (let i = 0; i < n; i++) out[i] = qpos[this.qposAdr[i]!]!;
    this.readGrippers(qpos, this.gripQposAdr, out, n);
  }

  private readGrippers(
    values: Float64Array,
    adr: Int32Array,
    out: Float32Array | Float64Array,
    first: number,
  ): void {
    const span = this.gripSpan;
    for (let k = 0; k + 1 < span.length; k++) {
      let sum = 0;
      for (let j = span[k]!; j < span[k + 1]!; j++) sum += this.gripCoef[j]! * values[adr[j]!]!;
      out[first + k] = sum;
    }
  }

  sense(fb: SpineFeedback, tSec: number): void {
    const w = this.world;
    const qpos = w.qpos;
    const qvel = w.qvel;
    for (let i = 0; i < this.qposAdr.length; i++) {
      fb.q[i] = qpos[this.qposAdr[i]!]!;
      fb.qd[i] = qvel[this.dofAdr[i]!]!;
    }
    this.readGrippers(qpos, this.gripQposAdr, fb.q, this.qposAdr.length);
    this.readGrippers(qvel, this.gripDofAdr, fb.qd, this.qposAdr.length);
    const d = w.data;
    if (this.sites.length > 0) {
      const sx = d.site_xpos as Float64Array;
      const xpos = d.xpos as Float64Array;
      const xmat = d.xmat as Float64Array;
      const b = this.pelvis;
      // Heading: the pelvis's x axis (first column of the row-major xmat) on the floor.
      const hx = xmat[9 * b]!;
      const hy = xmat[9 * b + 3]!;
      const hn = Math.sqrt(hx * hx + hy * hy) || 1;
      const c = hx / hn;
      const sn = hy / hn;
      for (let s = 0; s < this.sites.length; s++) {
        const id = this.sites[s]!;
        const dx = sx[3 * id]! - xpos[3 * b]!;
        const dy = sx[3 * id + 1]! - xpos[3 * b + 1]!;
        fb.tcp[3 * s] = c * dx + sn * dy;
        fb.tcp[3 * s + 1] = -sn * dx + c * dy;
        fb.tcp[3 * s + 2] = sx[3 * id + 2]!;
      }
    }
    if (this.envRegion >= 0) {
      // The humanoid's sole force sensors need the acceleration stage, so MuJoCo has filled cfrc_ext.
      const cfrc = d.cfrc_ext as Float64Array;
      let max = 0;
      for (let k = 0; k < this.bodies.length; k++) {
        const o = 6 * this.bodies[k]! + 3;
        const f = Math.sqrt(cfrc[o]! * cfrc[o]! + cfrc[o + 1]! * cfrc[o + 1]! + cfrc[o + 2]! * cfrc[o + 2]!);
        if (f > max || Number.isNaN(f)) max = f;
      }
      fb.contactForceN[this.envRegion] = max;
    }
    fb.stampSec = tSec;
  }
}

/**
 * The joints (and their coefficients) of each gripper's fixed tendon, in canonical order: the channels
 * past `jointNames`, whose actuators drive a tendon (MuJoCo's wrap arrays: a fixed tendon's wraps are
 * joints, `wrap_prm` their coefficients).
 */
function tendonJoints(
  world: SceneWorld,
  robot: Embodiment,
): { span: Int32Array; qposAdr: Int32Array; dofAdr: Int32Array; coef: Float64Array } {
  const { mj, model } = world;
  const tendonAdr = model.tendon_adr as Int32Array;
  const tendonNum = model.tendon_num as Int32Array;
  const wrapType = model.wrap_type as Int32Array;
  const wrapObj = model.wrap_objid as Int32Array;
  const wrapPrm = model.wrap_prm as Float64Array;
  const jntQposAdr = model.jnt_qposadr as Int32Array;
  const jntDofAdr = model.jnt_dofadr as Int32Array;
  const jointWrap = mj.mjtWrap.mjWRAP_JOINT.value;
  const span = [0];
  const qposAdr: number[] = [];
  const dofAdr: number[] = [];
  const coef: number[] = [];
  for (const a of robot.actuators.slice(robot.jointNames.length)) {
    const t = mj.mj_name2id(model, mj.mjtObj.mjOBJ_TENDON.value, a.target);
    if (t < 0) throw new TgError('MODEL_INVALID', `robot '${robot.name}' has no tendon '${a.target}'`);
    for (let w = tendonAdr[t]!; w < tendonAdr[t]! + tendonNum[t]!; w++) {
      if (wrapType[w] !== jointWrap) {
        throw new TgError('MODEL_INVALID', `gripper tendon '${a.target}' is not a fixed (joint) tendon`);
      }
      qposAdr.push(jntQposAdr[wrapObj[w]!]!);
      dofAdr.push(jntDofAdr[wrapObj[w]!]!);
      coef.push(wrapPrm[w]!);
    }
    span.push(qposAdr.length);
  }
  return {
    span: Int32Array.from(span),
    qposAdr: Int32Array.from(qposAdr),
    dofAdr: Int32Array.from(dofAdr),
    coef: Float64Array.from(coef),
  };
}
