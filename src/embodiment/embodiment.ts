/**
 * Embodiments: a robot's description (MJCF) plus its canonical vector layout. The canonical order here is
 * the order of `observation.state` and `action` everywhere downstream (recorder, datasets, policies).
 *
 * Each robot is declared here in full (joints with position/speed/torque limits, actuators, sensors,
 * safety envelope) so that code above the simulator can reason about it without compiling the model;
 * test/sim/robots.test.ts checks every declaration against the compiled MJCF. The vocabulary (joint,
 * actuator and sensor kinds) is the one `canonical-map.ts` infers from any compiled model.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TgError } from '../errors/index.ts';
import type { ActuatorKind, JointKind } from './canonical-map.ts';

export interface EmbodimentJoint {
  /** MJCF joint name. */
  name: string;
  kind: JointKind;
  /** Position limits, rad (hinge) or m (slide). */
  range: [number, number];
  /** Speed limit, rad/s or m/s. */
  maxVelocity: number;
  /** Largest torque (N m) or force (N) the joint's actuator can apply (its forcerange). */
  maxTorque: number;
}

export interface EmbodimentActuator {
  /** MJCF actuator name; also its `action` channel name. */
  name: string;
  kind: Extract<ActuatorKind, 'position' | 'torque'>;
  /** The joint it drives, or null when it drives a tendon (grippers). */
  joint: string | null;
  /** Name of the transmission target (joint or tendon). */
  target: string;
  /** Control limits in the actuator's units (rad, m for position actuators). */
  ctrlRange: [number, number];
}

export interface EmbodimentSensor {
  /** MJCF sensor name. */
  name: string;
  /** MuJoCo sensor type in lower case without the prefix (`touch`, `force`, `tactile`, ...). */
  type: string;
  /** Values in `sensordata`. */
  dim: number;
  /** The object it reads: a site, a joint, an actuator, or (tactile) the sensing geom. */
  attachedTo: { type: 'site' | 'joint' | 'actuator' | 'geom'; name: string };
  /** Tactile pads: taxel grid (the first rows x cols mesh vertices, row-major). */
  grid?: { rows: number; cols: number };
}

/** A depth camera simulated with rays from a site (looking along the site's -z, +y up). */
export interface EmbodimentCamera {
  name: string;
  site: string;
  width: number;
  height: number;
  fovyDeg: number;
  maxRangeM: number;
}

/** What the spine and the field's watchdogs enforce for this robot. */
export interface SafetyEnvelope {
  /** Per joint in `jointNames` order, rad/s or m/s (the joint's maxVelocity unless tighter). */
  maxJointSpeed: number[];
  /** Largest tool-centre-point speed (m/s) at any of `tcpSites`. */
  maxTcpSpeedMps: number;
  tcpSites: string[];
  /** Box the TCPs must stay inside, in the robot's base frame (m). */
  workspace: { min: [number, number, number]; max: [number, number, number] };
  /** Largest contact force the robot may exert on anything (N). */
  maxContactForceN: number;
}

export interface Embodiment {
  name: string;
  /** Absolute path of the robot's MJCF file. */
  mjcfPath: string;
  /** MJCF names of the actuated joints, canonical order (grippers excluded: they are tendon channels). */
  jointNames: string[];
  /** Canonical `observation.state` names: joint positions (rad/m), then gripper openings (m). */
  stateNames: string[];
  /** Canonical `action` names: one per actuator, same order as `stateNames`. */
  actionNames: string[];
  actionKind: 'position';
  /** Limits per state/action channel, same order as `stateNames`. */
  jointLimits: { lower: number[]; upper: number[] };
  /** Rest pose in state order: reached by resets. */
  home: number[];
  /** Every actuated joint (same order as `jointNames`). */
  joints: EmbodimentJoint[];
  /** Every actuator in model order (= `actionNames`). */
  actuators: EmbodimentActuator[];
  sensors: EmbodimentSensor[];
  cameras: EmbodimentCamera[];
  safety: SafetyEnvelope;
  /** Name of the MJCF keyframe that holds the home pose, if the model has one. */
  homeKeyframe: string | null;
  /** True when the robot's root is a free joint (it can fall). */
  floatingBase: boolean;
}

export const EMBODIMENT_NAMES = ['arm7', 'humanoid', 'service'] as const;
export type EmbodimentName = (typeof EMBODIMENT_NAMES)[number];

/** One row of a robot table: [name, kind, lower, upper, maxVelocity, maxTorque]. */
type JointRow = [string, JointKind, number, number, number, number];

interface RobotTable {
  joints: JointRow[];
  /** Gripper channels: [actuator/tendon name, max opening m, max force N, max speed m/s]. */
  grippers: [string, number, number, number][];
  home: number[];
  sensors: EmbodimentSensor[];
  cameras: EmbodimentCamera[];
  safety: Omit<SafetyEnvelope, 'maxJointSpeed'>;
  homeKeyframe: string | null;
  floatingBase: boolean;
}

const site = (name: string) => ({ type: 'site' as const, name });
const touch = (name: string, s: string): EmbodimentSensor => ({
  name,
  type: 'touch',
  dim: 1,
  attachedTo: site(s),
});
const wrench = (prefix: string, s: string): EmbodimentSensor[] => [
  { name: `${prefix}_force`, type: 'force', dim: 3, attachedTo: site(s) },
  { name: `${prefix}_torque`, type: 'torque', dim: 3, attachedTo: site(s) },
];
const imu = (s: string): EmbodimentSensor[] => [
  { name: 'imu_acc', type: 'accelerometer', dim: 3, attachedTo: site(s) },
  { name: 'imu_gyro', type: 'gyro', dim: 3, attachedTo: site(s) },
  { name: 'imu_quat', type: 'framequat', dim: 4, attachedTo: site(s) },
];
const actuatorForce = (names: string[], suffix: string): EmbodimentSensor[] =>
  names.map((n) => ({
    name: `${n}${suffix}`,
    type: 'actuatorfrc',
    dim: 1,
    attachedTo: { type: 'actuator', name: n },
  }));

// arm7: must match src/embodiment/robots/arm7.xml (joint ranges, actuator ctrlranges and forceranges).
const ARM7: RobotTable = {
  joints: [
    ['j1', 'hinge', -2.9, 2.9, 2.5, 150],
    ['j2', 'hinge', -2.0, 2.0, 2.5, 150],
    ['j3', 'hinge', -2.9, 2.9, 2.5, 150],
    ['j4', 'hinge', -2.5, 2.5, 2.5, 150],
    ['j5', 'hinge', -2.9, 2.9, 3.0, 40],
    ['j6', 'hinge', -2.0, 2.0, 3.0, 40],
    ['j7', 'hinge', -3.0, 3.0, 3.0, 40],
  ],
  grippers: [['gripper', 0.08, 20, 0.25]],
  // Elbow up, gripper pointing down about 0.45 m in front of the base and 0.34 m above the table.
  home: [0, 0.4, 0, 1.6, 0, Math.PI - 2.0, 0, 0.08],
  sensors: [
    ...(['left', 'right'] as const).map(
      (side): EmbodimentSensor => ({
        name: `pad_${side}`,
        type: 'tactile',
        // 3 channels (depth, two slip speeds) x 17 vertices (16 taxels + the hull's apex).
        dim: 51,
        attachedTo: { type: 'geom', name: `arm7/pad_${side}` },
        grid: { rows: 4, cols: 4 },
      }),
    ),
    ...wrench('wrist', 'wrist_ft'),
    ...['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'].map(
      (j): EmbodimentSensor => ({
        name: `${j}_torque`,
        type: 'jointactuatorfrc',
        dim: 1,
        attachedTo: { type: 'joint', name: j },
      }),
    ),
    ...actuatorForce(['gripper'], '_force'),
  ],
  cameras: [],
  safety: {
    maxTcpSpeedMps: 1.0,
    tcpSites: ['grip_site'],
    workspace: { min: [-0.9, -0.9, -0.05], max: [0.9, 0.9, 1.2] },
    maxContactForceN: 60,
  },
  homeKeyframe: null,
  floatingBase: false,
};

const HUMANOID_ARM = (side: 'left' | 'right'): JointRow[] => [
  [`${side}_shoulder_pitch`, 'hinge', -3.0, 1.2, 9, 50],
  side === 'left'
    ? ['left_shoulder_roll', 'hinge', -0.3, 2.5, 9, 50]
    : ['right_shoulder_roll', 'hinge', -2.5, 0.3, 9, 50],
  [`${side}_shoulder_yaw`, 'hinge', -1.5, 1.5, 9, 50],
  [`${side}_elbow`, 'hinge', -2.4, 0.1, 9, 35],
  [`${side}_wrist_roll`, 'hinge', -1.5, 1.5, 12, 10],
];
const HUMANOID_LEG = (side: 'left' | 'right'): JointRow[] => [
  [`${side}_hip_yaw`, 'hinge', -0.5, 0.5, 12, 150],
  side === 'left'
    ? ['left_hip_roll', 'hinge', -0.4, 0.5, 12, 150]
    : ['right_hip_roll', 'hinge', -0.5, 0.4, 12, 150],
  [`${side}_hip_pitch`, 'hinge', -2.0, 0.6, 12, 220],
  [`${side}_knee`, 'hinge', 0, 2.4, 12, 300],
  [`${side}_ankle_pitch`, 'hinge', -0.9, 0.6, 10, 150],
  [`${side}_ankle_roll`, 'hinge', -0.4, 0.4, 10, 150],
];
const HUMANOID_JOINTS: JointRow[] = [
  ...HUMANOID_LEG('left'),
  ...HUMANOID_LEG('right'),
  ['waist_yaw', 'hinge', -1.5, 1.5, 8, 150],
  ['neck_yaw', 'hinge', -1.2, 1.2, 6, 8],
  ['neck_pitch', 'hinge', -0.6, 0.8, 6, 8],
  ...HUMANOID_ARM('left'),
  ...HUMANOID_ARM('right'),
];
const LEG_STAND = [0, 0, -0.3, 0.6, -0.3, 0];
// humanoid: must match src/embodiment/robots/humanoid.xml (and its `stand` keyframe's ctrl).
const HUMANOID: RobotTable = {
  joints: HUMANOID_JOINTS,
  grippers: [
    ['left_gripper', 0.08, 20, 0.2],
    ['right_gripper', 0.08, 20, 0.2],
  ],
  home: [...LEG_STAND, ...LEG_STAND, 0, 0, 0, 0, 0.15, 0, -0.4, 0, 0, -0.15, 0, -0.4, 0, 0.08, 0.08],
  sensors: [
    ...imu('imu'),
    touch('left_sole_touch', 'left_sole'),
    ...wrench('left_ankle', 'left_sole'),
    touch('right_sole_touch', 'right_sole'),
    ...wrench('right_ankle', 'right_sole'),
    touch('left_finger_a_touch', 'left_finger_a_pad'),
    touch('left_finger_b_touch', 'left_finger_b_pad'),
    touch('right_finger_a_touch', 'right_finger_a_pad'),
    touch('right_finger_b_touch', 'right_finger_b_pad'),
    ...actuatorForce(
      HUMANOID_JOINTS.map((j) => j[0]),
      '_torque',
    ),
    ...actuatorForce(['left_gripper', 'right_gripper'], '_force'),
  ],
  cameras: [{ name: 'head_camera', site: 'head_camera', width: 64, height: 48, fovyDeg: 58, maxRangeM: 6 }],
  safety: {
    maxTcpSpeedMps: 1.5,
    tcpSites: ['left_grip', 'right_grip'],
    workspace: { min: [-0.8, -0.9, -0.1], max: [0.9, 0.9, 1.0] },
    maxContactForceN: 1200,
  },
  homeKeyframe: 'stand',
  floatingBase: true,
};

/** The service robot's arms: the humanoid's joints and ranges, at its own speed (3 rad/s) and torque limits. */
const serviceArm = (side: 'left' | 'right'): JointRow[] =>
  HUMANOID_ARM(side).map((r): JointRow => {
    const torque = r[0].endsWith('wrist_roll') ? 8 : r[0].endsWith('elbow') ? 25 : 40;
    return [r[0], r[1], r[2], r[3], 3, torque];
  });

const SERVICE_JOINTS: JointRow[] = [
  ['base_x', 'slide', -10, 10, 1.2, 400],
  ['base_y', 'slide', -10, 10, 1.2, 400],
  ['base_yaw', 'hinge', -6.2832, 6.2832, 1.5, 200],
  ['torso_lift', 'slide', 0, 0.3, 0.15, 600],
  ['head_pan', 'hinge', -1.5, 1.5, 3, 8],
  ['head_tilt', 'hinge', -0.5, 1.0, 3, 8],
  ...serviceArm('left'),
  ...serviceArm('right'),
];
// service: must match src/embodiment/robots/service.xml (and its `home` keyframe's ctrl).
const SERVICE: RobotTable = {
  joints: SERVICE_JOINTS,
  grippers: [
    ['left_gripper', 0.08, 20, 0.2],
    ['right_gripper', 0.08, 20, 0.2],
  ],
  home: [0, 0, 0, 0.1, 0, 0.3, 0, 0.1, 0, -0.6, 0, 0, -0.1, 0, -0.6, 0, 0.08, 0.08],
  sensors: [
    ...imu('imu'),
    touch('left_finger_a_touch', 'left_finger_a_pad'),
    touch('left_finger_b_touch', 'left_finger_b_pad'),
    ...wrench('left_wrist', 'left_wrist_ft'),
    touch('right_finger_a_touch', 'right_finger_a_pad'),
    touch('right_finger_b_touch', 'right_finger_b_pad'),
    ...wrench('right_wrist', 'right_wrist_ft'),
    ...actuatorForce([...SERVICE_JOINTS.map((j) => j[0]), 'left_gripper', 'right_gripper'], '_effort'),
  ],
  cameras: [{ name: 'head_camera', site: 'head_camera', width: 64, height: 48, fovyDeg: 58, maxRangeM: 6 }],
  safety: {
    // Mall and home robots share space with people: ISO/TS 15066-class speed and force limits.
    maxTcpSpeedMps: 0.5,
    tcpSites: ['left_grip', 'right_grip'],
    workspace: { min: [-0.6, -0.9, 0], max: [1.0, 0.9, 1.8] },
    maxContactForceN: 140,
  },
  homeKeyframe: 'home',
  floatingBase: false,
};

const TABLES: Record<EmbodimentName, RobotTable> = { arm7: ARM7, humanoid: HUMANOID, service: SERVICE };

function build(name: EmbodimentName, t: RobotTable): Embodiment {
  const jointNames = t.joints.map((j) => j[0]);
  const gripperNames = t.grippers.map((g) => g[0]);
  const names = [...jointNames, ...gripperNames];
  const joints = t.joints.map(
    ([n, kind, lo, hi, maxVelocity, maxTorque]): EmbodimentJoint => ({
      name: n,
      kind,
      range: [lo, hi],
      maxVelocity,
      maxTorque,
    }),
  );
  const actuators: EmbodimentActuator[] = [
    ...joints.map(
      (j): EmbodimentActuator => ({
        name: j.name,
        kind: 'position',
        joint: j.name,
        target: j.name,
        ctrlRange: [j.range[0], j.range[1]],
      }),
    ),
    ...t.grippers.map(
      ([g, open]): EmbodimentActuator => ({
        name: g,
        kind: 'position',
        joint: null,
        target: g,
        ctrlRange: [0, open],
      }),
    ),
  ];
  return {
    name,
    mjcfPath: fileURLToPath(new URL(`./robots/${name}.xml`, import.meta.url)),
    jointNames,
    stateNames: [...names],
    actionNames: [...names],
    actionKind: 'position',
    jointLimits: {
      lower: [...joints.map((j) => j.range[0]), ...t.grippers.map(() => 0)],
      upper: [...joints.map((j) => j.range[1]), ...t.grippers.map((g) => g[1])],
    },
    home: [...t.home],
    joints,
    actuators,
    sensors: t.sensors.map((s) => ({
      ...s,
      attachedTo: { ...s.attachedTo },
      ...(s.grid ? { grid: { ...s.grid } } : {}),
    })),
    cameras: t.cameras.map((c) => ({ ...c })),
    safety: {
      maxJointSpeed: joints.map((j) => j.maxVelocity),
      maxTcpSpeedMps: t.safety.maxTcpSpeedMps,
      tcpSites: [...t.safety.tcpSites],
      workspace: { min: [...t.safety.workspace.min], max: [...t.safety.workspace.max] },
      maxContactForceN: t.safety.maxContactForceN,
    },
    homeKeyframe: t.homeKeyframe,
    floatingBase: t.floatingBase,
  };
}

/** Per channel speed limits (joints, then grippers) in state order: what a spine rate-limits to. */
export function channelMaxVelocity(e: Embodiment): number[] {
  const grippers = e.stateNames.length - e.jointNames.length;
  const table = TABLES[e.name as EmbodimentName];
  const gripperSpeeds = table ? table.grippers.map((g) => g[3]) : new Array<number>(grippers).fill(0.1);
  return [...e.safety.maxJointSpeed, ...gripperSpeeds];
}

export function loadEmbodiment(name: EmbodimentName): Embodiment {
  const table = (TABLES as Record<string, RobotTable | undefined>)[name];
  if (!table) {
    throw new TgError(
      'NOT_FOUND',
      `unknown embodiment '${String(name)}' (known: ${EMBODIMENT_NAMES.join(', ')})`,
    );
  }
  return build(name, table);
}

/** The MJCF text of an embodiment. */
export function readMjcf(e: Embodiment): string {
  try {
    return readFileSync(e.mjcfPath, 'utf8');
  } catch (err) {
    throw new TgError('MODEL_INVALID', `cannot read MJCF of '${e.name}' at ${e.mjcfPath}`, { cause: err });
  }
}

/**
 * Normalizes MJCF text so that edits that do not change the model (comments, indentation, line endings)
 * do not change the hash.
 */
export function normalizeMjcf(xml: string): string {
  return xml
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\s+/g, ' ')
    .replace(/>\s+</g, '><')
    .trim();
}

/** sha256 (hex) of the embodiment's normalized MJCF: identifies the exact robot an episode ran on. */
export function embodimentHash(e: Embodiment): string {
  return createHash('sha256')
    .update(normalizeMjcf(readMjcf(e)))
    .digest('hex');
}
