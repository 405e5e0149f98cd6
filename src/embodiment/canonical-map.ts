/**
 * An embodiment's canonical map: the joints, actuators and sensors of a compiled MuJoCo model, named and
 * addressed, with the limits a spine needs. It is inferred from the compiled `MjModel` alone (names through
 * `mj_id2name`, everything else from the model arrays), so it works for any robot MuJoCo can load: the
 * project's own MJCF robots, imported MJCF, and URDF through MuJoCo's URDF reader.
 *
 * Limits: the WASM bindings cannot read MuJoCo's boolean (`mjtByte`) arrays (`jnt_limited`,
 * `actuator_ctrllimited`, ...: "_emval_take_value has unknown type memory_view<bool>"), so a range counts as
 * set when `lower < upper`. The compiler rejects a limited range with `lower >= upper`, so this only misreads
 * a model that declares a range and then sets `limited="false"` by hand.
 */
import type { MjModel, Mujoco } from '../sim/mujoco.ts';

export type JointKind = 'free' | 'ball' | 'slide' | 'hinge';

/**
 * What an actuator's control means. `position`: a target joint position (servo, MuJoCo `<position>`);
 * `velocity`: a target velocity (`<velocity>`, `<intvelocity>`); `torque`: a force/torque command
 * (`<motor>`, `<general>` without position/velocity feedback); `other`: muscles, DC motors, user gains.
 */
export type ActuatorKind = 'position' | 'velocity' | 'torque' | 'other';

/** What an actuator drives (MuJoCo `mjtTrn`). */
export type TransmissionKind =
  | 'joint'
  | 'jointinparent'
  | 'slidercrank'
  | 'tendon'
  | 'site'
  | 'body'
  | 'other';

export interface CanonicalJoint {
  name: string;
  kind: JointKind;
  /** Index into `qpos` and number of qpos entries (free 7, ball 4, slide/hinge 1). */
  qposAdr: number;
  qposDim: number;
  /** Index into `qvel` and number of dofs (free 6, ball 3, slide/hinge 1). */
  dofAdr: number;
  dofDim: number;
  /** Position limits, rad (hinge) or m (slide); null when the joint is unlimited. */
  range: [number, number] | null;
  /** Speed limit, rad/s or m/s: from an import hint (URDF `<limit velocity>`) or a velocity actuator's ctrlrange. */
  maxVelocity: number | null;
  /**
   * Largest torque (N m) or force (N) the actuators can apply to this joint: the smallest of the bounds that
   * apply (actuator forcerange x gear, torque-actuator ctrlrange x gain x gear, joint actuatorfrcrange).
   */
  maxTorque: number | null;
}

export interface CanonicalActuator {
  name: string;
  kind: ActuatorKind;
  transmission: TransmissionKind;
  /** The joint it drives (joint transmissions only), else null. */
  joint: string | null;
  /** Name of the transmission target whatever its type (joint, tendon, site, body), or null if unnamed. */
  target: string | null;
  /** Control limits in the actuator's own units (rad, m, rad/s, N m ...); null when unlimited. */
  ctrlRange: [number, number] | null;
  /** Actuator force limits; null when unlimited. */
  forceRange: [number, number] | null;
  /** First gear coefficient (joint torque = gear x actuator force). */
  gear: number;
}

export interface CanonicalSensor {
  name: string;
  /** MuJoCo sensor type in lower case without the prefix: `jointpos`, `accelerometer`, `touch`, ... */
  type: string;
  /** Number of values in `sensordata`, starting at `adr`. */
  dim: number;
  adr: number;
  /** The object it is attached to; null for sensors with none (clock, energy). */
  attachedTo: { type: string; name: string | null } | null;
}

export interface CanonicalMap {
  nq: number;
  nv: number;
  nu: number;
  /** Every joint in model order (the canonical order of `observation.state` for these joints). */
  joints: CanonicalJoint[];
  /** Every actuator in model order (the canonical order of `action`). */
  actuators: CanonicalActuator[];
  sensors: CanonicalSensor[];
}

/** Facts the compiled model does not hold but the source did (URDF `<limit velocity>`). */
export interface CanonicalMapHints {
  maxVelocity?: Record<string, number>;
}

type EnumTable = Record<string, { value: number }>;

/** Maps an enum table (`mj.mjtSensor`) to value -> lower-case name without the prefix (`mjSENS_` etc.). */
function enumNames(table: EnumTable, prefix: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const [key, entry] of Object.entries(table)) {
    if (key.startsWith(prefix)) names.set(entry.value, key.slice(prefix.length).toLowerCase());
  }
  return names;
}

function pair(a: Float64Array, i: number): [number, number] | null {
  const lo = a[2 * i]!;
  const hi = a[2 * i + 1]!;
  return lo < hi ? [lo, hi] : null;
}

const absMax = (r: [number, number]) => Math.max(Math.abs(r[0]), Math.abs(r[1]));
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Builds the canonical map of any compiled model. */
export function inferCanonicalMap(mj: Mujoco, model: MjModel, hints: CanonicalMapHints = {}): CanonicalMap {
  const m = model;
  const obj = mj.mjtObj;
  const jointKinds = enumNames(mj.mjtJoint as unknown as EnumTable, 'mjJNT_') as Map<number, JointKind>;
  const trnKinds = enumNames(mj.mjtTrn as unknown as EnumTable, 'mjTRN_');
  const sensorTypes = enumNames(mj.mjtSensor as unknown as EnumTable, 'mjSENS_');
  const objTypes = enumNames(mj.mjtObj as unknown as EnumTable, 'mjOBJ_');
  const name = objectNamer(mj, m);
  const QPOS_DIM: Record<JointKind, number> = { free: 7, ball: 4, slide: 1, hinge: 1 };
  const DOF_DIM: Record<JointKind, number> = { free: 6, ball: 3, slide: 1, hinge: 1 };

  // Copies: live views go stale when the WASM heap grows (DESIGN.md, MuJoCo WASM notes).
  const jntType = Int32Array.from(m.jnt_type as Int32Array);
  const jntQpos = Int32Array.from(m.jnt_qposadr as Int32Array);
  const jntDof = Int32Array.from(m.jnt_dofadr as Int32Array);
  const jntRange = Float64Array.from(m.jnt_range as Float64Array);
  const jntActFrc = Float64Array.from(m.jnt_actfrcrange as Float64Array);
  const trnType = Int32Array.from(m.actuator_trntype as Int32Array);
  const trnId = Int32Array.from(m.actuator_trnid as Int32Array);
  const gainType = Int32Array.from(m.actuator_gaintype as Int32Array);
  const biasType = Int32Array.from(m.actuator_biastype as Int32Array);
  const dynType = Int32Array.from(m.actuator_dyntype as Int32Array);
  const gainPrm = Float64Array.from(m.actuator_gainprm as Float64Array);
  const biasPrm = Float64Array.from(m.actuator_biasprm as Float64Array);
  const gear = Float64Array.from(m.actuator_gear as Float64Array);
  const ctrlRange = Float64Array.from(m.actuator_ctrlrange as Float64Array);
  const forceRange = Float64Array.from(m.actuator_forcerange as Float64Array);
  const nGain = gainPrm.length / Math.max(1, m.nu);
  const nBias = biasPrm.length / Math.max(1, m.nu);

  const joints: CanonicalJoint[] = [];
  for (let j = 0; j < m.njnt; j++) {
    const kind = jointKinds.get(jntType[j]!) ?? 'hinge';
    const jointName = name(obj.mjOBJ_JOINT.value, j);
    const oneDof = kind === 'hinge' || kind === 'slide';
    const actFrc = pair(jntActFrc, j);
    joints.push({
      name: jointName,
      kind,
      qposAdr: jntQpos[j]!,
      qposDim: QPOS_DIM[kind],
      dofAdr: jntDof[j]!,
      dofDim: DOF_DIM[kind],
      range: oneDof || kind === 'ball' ? pair(jntRange, j) : null,
      maxVelocity: hints.maxVelocity?.[jointName] ?? null,
      maxTorque: actFrc ? absMax(actFrc) : null,
    });
  }

  const actuators: CanonicalActuator[] = [];
  const GAIN_FIXED = mj.mjtGain.mjGAIN_FIXED.value;
  const BIAS_NONE = mj.mjtBias.mjBIAS_NONE.value;
  const BIAS_AFFINE = mj.mjtBias.mjBIAS_AFFINE.value;
  const DYN_NONE = mj.mjtDyn.mjDYN_NONE.value;
  const DYN_INTEGRATOR = mj.mjtDyn.mjDYN_INTEGRATOR.value;
  const TRN_TARGET: Record<string, number> = {
    joint: obj.mjOBJ_JOINT.value,
    jointinparent: obj.mjOBJ_JOINT.value,
    slidercrank: obj.mjOBJ_SITE.value,
    tendon: obj.mjOBJ_TENDON.value,
    site: obj.mjOBJ_SITE.value,
    body: obj.mjOBJ_BODY.value,
  };
  for (let a = 0; a < m.nu; a++) {
    const transmission = (trnKinds.get(trnType[a]!) ?? 'other') as TransmissionKind;
    const targetId = trnId[2 * a]!;
    const targetType = TRN_TARGET[transmission];
    const target = targetType !== undefined && targetId >= 0 ? name(targetType, targetId) || null : null;
    const isJoint = transmission === 'joint' || transmission === 'jointinparent';
    const kp = gainPrm[nGain * a]!;
    const b1 = biasPrm[nBias * a + 1]!;
    const b2 = biasPrm[nBias * a + 2]!;
    // The MJCF shortcuts (MuJoCo XML reference, actuator/position|velocity|motor|intvelocity) expand to:
    // position: gain kp, bias [0, -kp, -kv]; velocity: gain kv, bias [0, 0, -kv]; motor: gain 1, no bias;
    // intvelocity: the position servo acting on an integrated activation, i.e. a velocity command.
    let kind: ActuatorKind = 'other';
    if (gainType[a] === GAIN_FIXED && (dynType[a] === DYN_NONE || dynType[a] === DYN_INTEGRATOR)) {
      const integrated = dynType[a] === DYN_INTEGRATOR;
      if (biasType[a] === BIAS_NONE || (biasType[a] === BIAS_AFFINE && b1 === 0 && b2 === 0)) {
        kind = integrated ? 'other' : 'torque';
      } else if (biasType[a] === BIAS_AFFINE && b1 !== 0 && close(b1, -kp)) {
        kind = integrated ? 'velocity' : 'position';
      } else if (biasType[a] === BIAS_AFFINE && b1 === 0 && close(b2, -kp)) {
        kind = integrated ? 'other' : 'velocity';
      }
    }
    const ctrl = pair(ctrlRange, a);
    const force = pair(forceRange, a);
    const g = gear[6 * a]!;
    actuators.push({
      name: name(obj.mjOBJ_ACTUATOR.value, a),
      kind,
      transmission,
      joint: isJoint ? target : null,
      target,
      ctrlRange: ctrl,
      forceRange: force,
      gear: g,
    });
    if (!isJoint || targetId < 0) continue;
    const joint = joints[targetId]!;
    const bounds: number[] = [];
    if (joint.maxTorque !== null) bounds.push(joint.maxTorque);
    if (force) bounds.push(absMax(force) * Math.abs(g));
    if (kind === 'torque' && ctrl) bounds.push(absMax(ctrl) * Math.abs(kp * g));
    if (bounds.length > 0) joint.maxTorque = Math.min(...bounds);
    // For <velocity> and <intvelocity> alike the control is a speed, so ctrlrange bounds it.
    if (kind === 'velocity' && ctrl) joint.maxVelocity ??= absMax(ctrl);
  }

  const sensors: CanonicalSensor[] = [];
  const sType = Int32Array.from(m.sensor_type as Int32Array);
  const sDim = Int32Array.from(m.sensor_dim as Int32Array);
  const sAdr = Int32Array.from(m.sensor_adr as Int32Array);
  const sObjType = Int32Array.from(m.sensor_objtype as Int32Array);
  const sObjId = Int32Array.from(m.sensor_objid as Int32Array);
  const UNKNOWN = obj.mjOBJ_UNKNOWN.value;
  for (let s = 0; s < m.nsensor; s++) {
    const ot = sObjType[s]!;
    const oid = sObjId[s]!;
    sensors.push({
      name: name(obj.mjOBJ_SENSOR.value, s),
      type: sensorTypes.get(sType[s]!) ?? `type${sType[s]}`,
      dim: sDim[s]!,
      adr: sAdr[s]!,
      attachedTo:
        ot === UNKNOWN || oid < 0
          ? null
          : { type: objTypes.get(ot) ?? `obj${ot}`, name: name(ot, oid) || null },
    });
  }

  return { nq: m.nq, nv: m.nv, nu: m.nu, joints, actuators, sensors };
}

// mjtObj suffix -> MjModel name address array (mjModel.name_*adr).
const NAME_ADR: Record<string, string> = {
  BODY: 'name_bodyadr',
  XBODY: 'name_bodyadr',
  JOINT: 'name_jntadr',
  GEOM: 'name_geomadr',
  SITE: 'name_siteadr',
  CAMERA: 'name_camadr',
  LIGHT: 'name_lightadr',
  FLEX: 'name_flexadr',
  MESH: 'name_meshadr',
  SKIN: 'name_skinadr',
  HFIELD: 'name_hfieldadr',
  TEXTURE: 'name_texadr',
  MATERIAL: 'name_matadr',
  PAIR: 'name_pairadr',
  EXCLUDE: 'name_excludeadr',
  EQUALITY: 'name_eqadr',
  TENDON: 'name_tendonadr',
  ACTUATOR: 'name_actuatoradr',
  SENSOR: 'name_sensoradr',
  NUMERIC: 'name_numericadr',
  TEXT: 'name_textadr',
  TUPLE: 'name_tupleadr',
  KEY: 'name_keyadr',
  PLUGIN: 'name_pluginadr',
};

/**
 * Object names read from `names` at `name_*adr`. Not `mj_id2name`: for an unnamed object it returns C's
 * NULL, which the WASM binding turns into whatever string sits at address 0 (we saw 'emsc').
 */
function objectNamer(mj: Mujoco, m: MjModel): (type: number, id: number) => string {
  const names = Uint8Array.from(m.names as Uint8Array);
  const byType = new Map<number, Int32Array>();
  for (const [key, entry] of Object.entries(mj.mjtObj as unknown as EnumTable)) {
    const prop = NAME_ADR[key.replace(/^mjOBJ_/, '')];
    if (prop) byType.set(entry.value, Int32Array.from((m as unknown as Record<string, Int32Array>)[prop]!));
  }
  const decoder = new TextDecoder();
  return (type, id) => {
    const adr = byType.get(type)?.[id];
    if (adr === undefined || adr < 0) return '';
    let end = adr;
    while (end < names.length && names[end] !== 0) end++;
    return decoder.decode(names.subarray(adr, end));
  };
}
