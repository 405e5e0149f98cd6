/**
 * Domain randomization of a compiled MjModel, in place and revertible. Each quantity has a range at full
 * difficulty; `schedule` in [0, 1] narrows it linearly onto its nominal value (0 = nominal exactly, 1 = the
 * full range): a curriculum widens the world as a skill gets better. Draws come only from the generator
 * passed in. Nominal values are copied at construction; `revert` writes them back bit for bit.
 *
 * Model-side: geom friction, body mass (inertia scaled with it, so the body stays physically consistent),
 * dof damping, position-actuator kp (gainprm[0] with biasprm[1] = -kp, so the servo still tracks its
 * target), free-body initial poses (qpos0: where mj_resetData puts them). Parameters the model does not
 * hold are returned in the sample for their readers: sensor noise std for the sensor pipeline, control
 * latency for the control loop.
 */
import type { MjModel, Mujoco } from './mujoco.ts';
import type { Rng } from './rng.ts';

/** Multiplicative range [lo, hi] around 1, or additive range [lo, hi] around 0, at schedule 1. */
export type Range = readonly [number, number];

export interface RandomizationRanges {
  frictionScale: Range;
  massScale: Range;
  dampingScale: Range;
  kpScale: Range;
  /** Sensor noise standard deviation (in the sensor's units) added by the sensor pipeline. */
  sensorNoiseStd: Range;
  controlLatencySec: Range;
  /** Free joints whose initial pose (qpos0) moves: +-xyM in x and y, +-yawRad about z. */
  objectPose: { joints: readonly string[]; xyM: number; yawRad: number };
}

export const DEFAULT_RANGES: RandomizationRanges = {
  frictionScale: [0.5, 1.5],
  massScale: [0.8, 1.2],
  dampingScale: [0.5, 2],
  kpScale: [0.8, 1.2],
  sensorNoiseStd: [0, 0.01],
  controlLatencySec: [0, 0.02],
  objectPose: { joints: [], xyM: 0.03, yawRad: Math.PI / 4 },
};

export interface DomainSample {
  schedule: number;
  frictionScale: number;
  massScale: number;
  dampingScale: number;
  kpScale: number;
  sensorNoiseStd: number;
  controlLatencySec: number;
  /** Per free joint: [dx, dy, dyaw] applied to qpos0. */
  objectPose: Record<string, [number, number, number]>;
}

/** The range at `schedule`: [lo, hi] pulled linearly onto `nominal`. */
export function scheduledRange(r: Range, nominal: number, schedule: number): [number, number] {
  const s = Math.min(1, Math.max(0, schedule));
  return [nominal + s * (r[0] - nominal), nominal + s * (r[1] - nominal)];
}

function draw(rng: Rng, r: Range, nominal: number, schedule: number): number {
  const [lo, hi] = scheduledRange(r, nominal, schedule);
  return lo + (hi - lo) * rng.next();
}

export class DomainRandomizer {
  readonly ranges: RandomizationRanges;
  private readonly mj: Mujoco;
  private readonly model: MjModel;
  private readonly nominal: {
    friction: Float64Array;
    mass: Float64Array;
    inertia: Float64Array;
    damping: Float64Array;
    gainprm: Float64Array;
    biasprm: Float64Array;
    qpos0: Float64Array;
  };
  private readonly positionActuators: number[] = [];
  private readonly poseAdr: Record<string, number> = {};

  constructor(mj: Mujoco, model: MjModel, ranges: RandomizationRanges = DEFAULT_RANGES) {
    this.mj = mj;
    this.model = model;
    this.ranges = ranges;
    const m = model;
    this.nominal = {
      friction: Float64Array.from(m.geom_friction as Float64Array),
      mass: Float64Array.from(m.body_mass as Float64Array),
      inertia: Float64Array.from(m.body_inertia as Float64Array),
      damping: Float64Array.from(m.dof_damping as Float64Array),
      gainprm: Float64Array.from(m.actuator_gainprm as Float64Array),
      biasprm: Float64Array.from(m.actuator_biasprm as Float64Array),
      qpos0: Float64Array.from(m.qpos0 as Float64Array),
    };
    // A position servo: gain kp, bias (0, -kp, -kv) (MuJoCo docs, <position> actuator shortcut).
    const g = this.nominal.gainprm;
    const b = this.nominal.biasprm;
    for (let a = 0; a < m.nu; a++) {
      if (g[10 * a]! > 0 && b[10 * a + 1] === -g[10 * a]!) this.positionActuators.push(a);
    }
    const FREE = mj.mjtJoint.mjJNT_FREE.value;
    for (const name of ranges.objectPose.joints) {
      const j = mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT.value, name);
      if (j < 0 || (m.jnt_type as Int32Array)[j] !== FREE) throw new Error(`no free joint '${name}'`);
      this.poseAdr[name] = (m.jnt_qposadr as Int32Array)[j]!;
    }
  }

  /** Nominal values (copies taken at construction). */
  get nominalValues(): Readonly<DomainRandomizer['nominal']> {
    return this.nominal;
  }

  /** Draws one domain at `schedule` and writes it into the model (from nominal, not cumulative). */
  apply(rng: Rng, schedule: number): DomainSample {
    const r = this.ranges;
    const sample: DomainSample = {
      schedule,
      frictionScale: draw(rng, r.frictionScale, 1, schedule),
      massScale: draw(rng, r.massScale, 1, schedule),
      dampingScale: draw(rng, r.dampingScale, 1, schedule),
      kpScale: draw(rng, r.kpScale, 1, schedule),
      sensorNoiseStd: draw(rng, r.sensorNoiseStd, 0, schedule),
      controlLatencySec: draw(rng, r.controlLatencySec, 0, schedule),
      objectPose: {},
    };
    const p = r.objectPose;
    for (const name of p.joints) {
      sample.objectPose[name] = [
        draw(rng, [-p.xyM, p.xyM], 0, schedule),
        draw(rng, [-p.xyM, p.xyM], 0, schedule),
        draw(rng, [-p.yawRad, p.yawRad], 0, schedule),
      ];
    }
    this.write(sample);
    return sample;
  }

  /** Restores every nominal value exactly. */
  revert(): void {
    const m = this.model;
    const n = this.nominal;
    (m.geom_friction as Float64Array).set(n.friction);
    (m.body_mass as Float64Array).set(n.mass);
    (m.body_inertia as Float64Array).set(n.inertia);
    (m.dof_damping as Float64Array).set(n.damping);
    (m.actuator_gainprm as Float64Array).set(n.gainprm);
    (m.actuator_biasprm as Float64Array).set(n.biasprm);
    (m.qpos0 as Float64Array).set(n.qpos0);
  }

  private write(s: DomainSample): void {
    this.revert();
    const m = this.model;
    const n = this.nominal;
    const friction = m.geom_friction as Float64Array;
    for (let i = 0; i < friction.length; i++) friction[i] = n.friction[i]! * s.frictionScale;
    const mass = m.body_mass as Float64Array;
    const inertia = m.body_inertia as Float64Array;
    for (let i = 0; i < mass.length; i++) mass[i] = n.mass[i]! * s.massScale;
    for (let i = 0; i < inertia.length; i++) inertia[i] = n.inertia[i]! * s.massScale;
    const damping = m.dof_damping as Float64Array;
    for (let i = 0; i < damping.length; i++) damping[i] = n.damping[i]! * s.dampingScale;
    const gain = m.actuator_gainprm as Float64Array;
    const bias = m.actuator_biasprm as Float64Array;
    for (const a of this.positionActuators) {
      const kp = n.gainprm[10 * a]! * s.kpScale;
      gain[10 * a] = kp;
      bias[10 * a + 1] = -kp;
    }
    const qpos0 = m.qpos0 as Float64Array;
    for (const [name, [dx, dy, dyaw]] of Object.entries(s.objectPose)) {
      const a = this.poseAdr[name]!;
      qpos0[a] = n.qpos0[a]! + dx;
      qpos0[a + 1] = n.qpos0[a + 1]! + dy;
      // Pre-multiply the nominal orientation by a yaw about world z.
      const c = Math.cos(dyaw / 2);
      const z = Math.sin(dyaw / 2);
      const [w0, x0, y0, z0] = [n.qpos0[a + 3]!, n.qpos0[a + 4]!, n.qpos0[a + 5]!, n.qpos0[a + 6]!];
      qpos0[a + 3] = c * w0 - z * z0;
      qpos0[a + 4] = c * x0 - z * y0;
      qpos0[a + 5] = c * y0 + z * x0;
      qpos0[a + 6] = c * z0 + z * w0;
    }
    void this.mj;
  }
}
