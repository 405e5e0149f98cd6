/**
 * What an arm's skills know about the arm beyond its kinematics: channel layout, limits, the home pose, the
 * stiffness of its position servos (for joint impedance) and its gripper. Built from the embodiment plus a
 * small per-robot table for what the embodiment does not declare (servo gains, finger geometry).
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';

export interface GripperProfile {
  /** Canonical channel of the gripper opening (m). */
  channel: number;
  /** Fully open (m). */
  openM: number;
  /** Opening speed the skills command (m/s; under the spine's limit). */
  speedMps: number;
  /** Squeeze force per metre of command below the measured opening (N/m): the gripper servo's kp. */
  servoKpNPerM: number;
  /** Largest squeeze force the skills ask for (N; under the actuator's force range). */
  maxForceN: number;
  /** Fingertips below the grip site along the gripper axis (m). */
  fingertipBelowSiteM: number;
}

export interface ArmProfile {
  readonly name: string;
  readonly armDof: number;
  readonly actionDim: number;
  /** Rest pose, canonical state order (arm joints then gripper). */
  readonly home: Float64Array;
  /** Position limits per channel, canonical order. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  /** Joint speed the skills command (rad/s per arm joint; kept under the spine's limits). */
  readonly maxJointSpeed: Float64Array;
  /** Joint acceleration the skills command (rad/s^2): velocity ramps, never steps. */
  readonly maxJointAccel: number;
  /** Position-servo stiffness per arm joint (N m/rad): joint impedance acts through it. */
  readonly servoKp: Float64Array;
  readonly gripper: GripperProfile;
  /** Box the grip site must stay in (m, base frame = world for a fixed arm). */
  readonly workspace: { min: readonly number[]; max: readonly number[] };
}

interface ArmTable {
  servoKp: number[];
  gripper: Omit<GripperProfile, 'channel' | 'openM'>;
}

// From src/embodiment/robots/arm7.xml: position kp 1500 (j1-j4) / 500 (j5-j7), gripper kp 400 with a
// +-20 N force range, finger boxes reaching 15 mm below the grip site.
const TABLES: Record<string, ArmTable> = {
  arm7: {
    servoKp: [1500, 1500, 1500, 1500, 500, 500, 500],
    gripper: { speedMps: 0.2, servoKpNPerM: 400, maxForceN: 15, fingertipBelowSiteM: 0.015 },
  },
};

export interface ArmProfileOverrides {
  home?: readonly number[];
  servoKp?: readonly number[];
  gripper?: Partial<GripperProfile>;
  /** Fraction of each joint's maxVelocity the skills use (default 0.6). */
  speedFraction?: number;
}

export function armProfile(e: Embodiment, overrides: ArmProfileOverrides = {}): ArmProfile {
  if (e.floatingBase) throw new TgError('CONFIG_INVALID', `'${e.name}' is not a fixed-base arm`);
  const armDof = e.jointNames.length;
  const actionDim = e.actionNames.length;
  if (actionDim !== armDof + 1) {
    throw new TgError('CONFIG_INVALID', `arm '${e.name}' must have one gripper channel after its joints`);
  }
  const table = TABLES[e.name];
  const servoKp = overrides.servoKp ?? table?.servoKp;
  if (!servoKp || servoKp.length !== armDof) {
    throw new TgError(
      'CONFIG_INVALID',
      `arm '${e.name}': servo gains unknown, pass servoKp (${armDof} values)`,
    );
  }
  const g = { ...table?.gripper, ...overrides.gripper };
  if (g.speedMps === undefined || g.servoKpNPerM === undefined || g.maxForceN === undefined) {
    throw new TgError('CONFIG_INVALID', `arm '${e.name}': gripper servo unknown, pass gripper overrides`);
  }
  const home = overrides.home ?? e.home;
  if (home.length !== actionDim) {
    throw new TgError(
      'CONFIG_INVALID',
      `arm '${e.name}': home has ${home.length} values, expected ${actionDim}`,
    );
  }
  const fraction = overrides.speedFraction ?? 0.6;
  return {
    name: e.name,
    armDof,
    actionDim,
    home: Float64Array.from(home),
    lower: Float64Array.from(e.jointLimits.lower),
    upper: Float64Array.from(e.jointLimits.upper),
    maxJointSpeed: Float64Array.from(e.joints.slice(0, armDof), (j) => fraction * j.maxVelocity),
    maxJointAccel: 4,
    servoKp: Float64Array.from(servoKp),
    gripper: {
      channel: armDof,
      openM: g.openM ?? e.jointLimits.upper[armDof]!,
      speedMps: g.speedMps,
      servoKpNPerM: g.servoKpNPerM,
      maxForceN: g.maxForceN,
      fingertipBelowSiteM: g.fingertipBelowSiteM ?? 0,
    },
    workspace: { min: [...e.safety.workspace.min], max: [...e.safety.workspace.max] },
  };
}
