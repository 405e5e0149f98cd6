/**
 * What an arm's skills know about the arm beyond its kinematics: channel layout, limits, the home pose, the
 * stiffness of its position servos (for joint impedance) and its gripper. Built from the embodiment plus a
 * small per-robot table for what the embodiment does not declare (servo gains, finger geometry).
 *
 * The speeds and accelerations the skills command are shares of the limits the spine derives from the same
 * embodiment (src/control/spine/limits.ts), so a nominal skill never makes the spine intervene. The
 * acceleration share is small for a reason: the scheduler ramps each command over one control period
 * (first-order hold), so the command's velocity changes between two control ticks within a single actuator
 * tick, and the spine sees the skill's acceleration times (control period / actuator period). 0.25 keeps
 * that inside the limit for up to 4 actuator ticks per control tick (the peg board's 500 Hz cerebellum
 * over 2 kHz physics; 250 Hz over 500 Hz elsewhere).
 */
import { channelMaxVelocity, type Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { channelMaxAcceleration } from '../spine/limits.ts';

export interface GripperProfile {
  /** Canonical channel of the gripper opening (m). */
  channel: number;
  /** Fully open and fully closed (m): the commands' ends, just inside the channel's position limits. */
  openM: number;
  closedM: number;
  /** Opening speed the skills command (m/s; under the spine's limit). */
  speedMps: number;
  /** Opening acceleration the skills command (m/s^2; under the spine's limit, see ACCEL_SHARE). */
  accelMps2: number;
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
  gripper: Omit<GripperProfile, 'channel' | 'openM' | 'closedM' | 'speedMps' | 'accelMps2'>;
}

// From src/embodiment/robots/arm7.xml: position kp 1500 (j1-j4) / 500 (j5-j7), gripper kp 400 with a
// +-20 N force range, finger boxes reaching 15 mm below the grip site.
const TABLES: Record<string, ArmTable> = {
  arm7: {
    servoKp: [1500, 1500, 1500, 1500, 500, 500, 500],
    gripper: { servoKpNPerM: 400, maxForceN: 15, fingertipBelowSiteM: 0.015 },
  },
};

/** Share of the spine's acceleration limits the skills command (see the header). */
export const ACCEL_SHARE = 0.25;
/** Joint acceleration the skills use where the spine would allow more (rad/s^2): smooth arm motion. */
const JOINT_ACCEL = 4;
/** Share of the gripper's speed limit the skills command. */
const GRIPPER_SPEED_SHARE = 0.8;
/**
 * The gripper is not commanded closer than this to its position limits (m): a command arriving exactly at
 * a limit is on the edge of the spine's braking rule, where rounding makes it intervene.
 */
const GRIPPER_LIMIT_MARGIN_M = 0.0005;

export interface ArmProfileOverrides {
  home?: readonly number[];
  servoKp?: readonly number[];
  /** Gripper settings; speed and acceleration are capped at the spine's limits. */
  gripper?: Partial<GripperProfile>;
  /** Fraction of each joint's maxVelocity the skills use (default 0.6). */
  speedFraction?: number;
  /** Fraction of the spine's acceleration limits the skills use (default ACCEL_SHARE). */
  accelShare?: number;
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
  if (g.servoKpNPerM === undefined || g.maxForceN === undefined) {
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
  const share = overrides.accelShare ?? ACCEL_SHARE;
  if (!(fraction > 0 && fraction <= 1) || !(share > 0 && share <= 1)) {
    throw new TgError(
      'CONFIG_INVALID',
      `arm '${e.name}': speedFraction ${fraction} and accelShare ${share} must be in (0, 1]`,
    );
  }
  // The spine's limits, channel by channel (arm joints, then the gripper).
  const vmax = channelMaxVelocity(e);
  const amax = channelMaxAcceleration(e);
  return {
    name: e.name,
    armDof,
    actionDim,
    home: Float64Array.from(home),
    lower: Float64Array.from(e.jointLimits.lower),
    upper: Float64Array.from(e.jointLimits.upper),
    maxJointSpeed: Float64Array.from(vmax.slice(0, armDof), (v) => fraction * v),
    maxJointAccel: Math.min(JOINT_ACCEL, share * Math.min(...amax.slice(0, armDof))),
    servoKp: Float64Array.from(servoKp),
    gripper: {
      channel: armDof,
      openM: g.openM ?? e.jointLimits.upper[armDof]! - GRIPPER_LIMIT_MARGIN_M,
      closedM: g.closedM ?? e.jointLimits.lower[armDof]! + GRIPPER_LIMIT_MARGIN_M,
      speedMps: Math.min(g.speedMps ?? GRIPPER_SPEED_SHARE * vmax[armDof]!, vmax[armDof]!),
      accelMps2: Math.min(g.accelMps2 ?? share * amax[armDof]!, share * amax[armDof]!),
      servoKpNPerM: g.servoKpNPerM,
      maxForceN: g.maxForceN,
      fingertipBelowSiteM: g.fingertipBelowSiteM ?? 0,
    },
    workspace: { min: [...e.safety.workspace.min], max: [...e.safety.workspace.max] },
  };
}
