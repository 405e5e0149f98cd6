/**
 * What the spine enforces, as configuration. `spineLimitsFor` derives it from an embodiment (position,
 * speed and torque limits, the safety envelope's workspace box and contact force); `compileLimits`
 * validates it once into the typed arrays the hot path reads.
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { channelMaxVelocity } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { type ContactRegionLimit, environmentRegion } from './contact-regions.ts';

/**
 * A position servo per channel: effort = kp (target - q) - kd qd, saturating at maxEffort. With it the
 * spine keeps each target inside the window where the servo's effort stays within the torque limit.
 */
export interface ServoModel {
  kp: ArrayLike<number>;
  kd: ArrayLike<number>;
}

export interface WorkspaceLimits {
  /** Box the tool-centre points must stay inside, in the robot's base frame (m). */
  min: readonly [number, number, number];
  max: readonly [number, number, number];
  /** Names of the TCP sites, in the order of `SpineFeedback.tcp`. */
  sites: readonly string[];
  /** Extra distance kept from the box (m): covers the servos' lag behind the command. */
  marginM?: number;
}

export interface ContactLimits {
  /** Regions in the order of `SpineFeedback.contactForceN`. */
  regions: readonly ContactRegionLimit[];
  /** A contact younger than this is transient (s). The TS leaves it to the risk assessment; 0.5 s default. */
  transientSec?: number;
  /** Below this force a region is not in contact (N); default 1. */
  thresholdN?: number;
}

export interface WatchdogLimits {
  /** A command older than this is stale: the spine holds (decelerates to standstill) (s). */
  holdAfterSec: number;
  /** A command older than this ends in a protective stop (category 2) (s). */
  stopAfterSec: number;
}

export interface SpineLimits {
  /** Period of the tick the spine runs at (s): the physics / actuator period. */
  tickSec: number;
  /** Position limits per channel (rad, m). */
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  /** Per channel, units per second (rad/s for joints, m/s for the gripper opening). */
  maxVelocity: ArrayLike<number>;
  /** Per channel, units per second squared. Omitted: no acceleration limit and stops are immediate. */
  maxAcceleration?: ArrayLike<number>;
  /** Per channel effort limit (N m, N); applied through `servo` (needs feedback). */
  maxTorque?: ArrayLike<number>;
  servo?: ServoModel;
  /** Channel names for events (default: the index). */
  names?: readonly string[];
  workspace?: WorkspaceLimits;
  contact?: ContactLimits;
  /** Command watchdog; applies to commands given through `Spine.submit`. */
  watchdog?: WatchdogLimits;
  /** Feedback older than this is a sensor dropout and stops the robot (s); default 1.5 ticks. */
  feedbackTimeoutSec?: number;
}

/** Time to reach full speed from rest, when an embodiment declares no acceleration limits (s). */
export const DEFAULT_ACCELERATION_TIME_SEC = 0.05;
export const DEFAULT_WATCHDOG: WatchdogLimits = { holdAfterSec: 0.02, stopAfterSec: 0.1 };

export interface SpineLimitsOptions {
  /** Default acceleration = maxVelocity / accelerationTimeSec (default 0.05 s). */
  accelerationTimeSec?: number;
  /** Position servo gains (e.g. from the compiled model: `servoModelFromScene`) to enforce torque limits. */
  servo?: ServoModel & { maxEffort?: ArrayLike<number> };
  /** Contact regions after the robot's own `environment` envelope (e.g. ISO_TS_15066_REGIONS). */
  humanRegions?: readonly ContactRegionLimit[];
  watchdog?: WatchdogLimits;
  workspaceMarginM?: number;
  feedbackTimeoutSec?: number;
}

/**
 * Per channel acceleration limits (joints, then grippers) in state order: each channel's speed limit
 * (`channelMaxVelocity`) reached from rest in `accelerationTimeSec`. What the spine enforces, and what the
 * cerebellum's command profiles stay under.
 */
export function channelMaxAcceleration(
  e: Embodiment,
  accelerationTimeSec = DEFAULT_ACCELERATION_TIME_SEC,
): number[] {
  return channelMaxVelocity(e).map((v) => v / accelerationTimeSec);
}

/** Every interlock of the spine, from an embodiment's declared limits and safety envelope. */
export function spineLimitsFor(e: Embodiment, tickSec: number, opts: SpineLimitsOptions = {}): SpineLimits {
  const n = e.actionNames.length;
  const limits: SpineLimits = {
    tickSec,
    lower: e.jointLimits.lower,
    upper: e.jointLimits.upper,
    maxVelocity: channelMaxVelocity(e),
    maxAcceleration: channelMaxAcceleration(e, opts.accelerationTimeSec),
    names: e.actionNames,
    workspace: {
      min: e.safety.workspace.min,
      max: e.safety.workspace.max,
      sites: e.safety.tcpSites,
      ...(opts.workspaceMarginM !== undefined ? { marginM: opts.workspaceMarginM } : {}),
    },
    contact: {
      regions: [environmentRegion(e.safety.maxContactForceN), ...(opts.humanRegions ?? [])],
    },
    watchdog: opts.watchdog ?? DEFAULT_WATCHDOG,
  };
  if (opts.feedbackTimeoutSec !== undefined) limits.feedbackTimeoutSec = opts.feedbackTimeoutSec;
  if (opts.servo) {
    // Joints carry their declared torque; channels past them (grippers) take the drive's own limit.
    const effort = opts.servo.maxEffort;
    limits.servo = { kp: opts.servo.kp, kd: opts.servo.kd };
    limits.maxTorque = Array.from({ length: n }, (_, i) =>
      i < e.joints.length ? e.joints[i]!.maxTorque : (effort?.[i] ?? Number.POSITIVE_INFINITY),
    );
  }
  return limits;
}

/** The validated limits as the hot path reads them. */
export interface CompiledLimits {
  readonly n: number;
  readonly tickSec: number;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly maxVelocity: Float64Array;
  /** Infinity where there is no acceleration limit. */
  readonly maxAcceleration: Float64Array;
  readonly hasAcceleration: boolean;
  /** Per channel: servo window half-width terms (zero kp = no torque limit on that channel). */
  readonly maxTorque: Float64Array;
  readonly kp: Float64Array;
  readonly kd: Float64Array;
  readonly hasTorque: boolean;
  readonly names: readonly string[];
  readonly workspace: {
    readonly min: Float64Array;
    readonly max: Float64Array;
    readonly sites: readonly string[];
    readonly marginM: number;
  } | null;
  readonly regions: readonly ContactRegionLimit[];
  readonly transientSec: number;
  readonly contactThresholdN: number;
  readonly watchdog: WatchdogLimits;
  readonly feedbackTimeoutSec: number;
  /** Any interlock that reads feedback (torque window, workspace, contact). */
  readonly needsFeedback: boolean;
}

function bad(message: string): TgError {
  return new TgError('CONFIG_INVALID', `spine limits: ${message}`);
}

function channels(name: string, values: ArrayLike<number>, n: number): Float64Array {
  if (values.length !== n) throw bad(`${name} has ${values.length} values for ${n} channels`);
  return Float64Array.from(values);
}

export function compileLimits(l: SpineLimits): CompiledLimits {
  const n = l.lower.length;
  if (!(l.tickSec > 0) || !Number.isFinite(l.tickSec)) throw bad(`tickSec ${l.tickSec} must be > 0`);
  const lower = channels('lower', l.lower, n);
  const upper = channels('upper', l.upper, n);
  const maxVelocity = channels('maxVelocity', l.maxVelocity, n);
  const maxAcceleration = l.maxAcceleration
    ? channels('maxAcceleration', l.maxAcceleration, n)
    : new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    if (!(lower[i]! <= upper[i]!) || !Number.isFinite(lower[i]!) || !Number.isFinite(upper[i]!)) {
      throw bad(`channel ${i} range [${lower[i]}, ${upper[i]}] is not a valid range`);
    }
    if (!(maxVelocity[i]! > 0) || !Number.isFinite(maxVelocity[i]!)) {
      throw bad(`channel ${i} maxVelocity ${maxVelocity[i]} must be finite and > 0`);
    }
    if (!(maxAcceleration[i]! > 0))
      throw bad(`channel ${i} maxAcceleration ${maxAcceleration[i]} must be > 0`);
  }
  const kp = new Float64Array(n);
  const kd = new Float64Array(n);
  const maxTorque = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let hasTorque = false;
  if (l.servo || l.maxTorque) {
    if (!l.servo || !l.maxTorque) throw bad('maxTorque and servo go together (the window needs both)');
    kp.set(channels('servo.kp', l.servo.kp, n));
    kd.set(channels('servo.kd', l.servo.kd, n));
    maxTorque.set(channels('maxTorque', l.maxTorque, n));
    for (let i = 0; i < n; i++) {
      if (!(kp[i]! >= 0) || !(kd[i]! >= 0) || !(maxTorque[i]! > 0)) {
        throw bad(
          `channel ${i} servo kp ${kp[i]}, kd ${kd[i]}, maxTorque ${maxTorque[i]} must be >= 0, >= 0, > 0`,
        );
      }
      if (kp[i]! > 0 && Number.isFinite(maxTorque[i]!)) hasTorque = true;
    }
  }
  const names = l.names ?? Array.from({ length: n }, (_, i) => String(i));
  if (names.length !== n) throw bad(`names has ${names.length} entries for ${n} channels`);

  let workspace: CompiledLimits['workspace'] = null;
  if (l.workspace) {
    const w = l.workspace;
    const min = Float64Array.from(w.min);
    const max = Float64Array.from(w.max);
    if (min.length !== 3 || max.length !== 3 || [0, 1, 2].some((k) => !(min[k]! < max[k]!))) {
      throw bad('workspace min/max must be 3 values each with min < max');
    }
    if (w.sites.length === 0) throw bad('workspace needs at least one TCP site');
    const marginM = w.marginM ?? 0;
    if (!(marginM >= 0)) throw bad(`workspace marginM ${marginM} must be >= 0`);
    workspace = { min, max, sites: [...w.sites], marginM };
  }
  const regions = [...(l.contact?.regions ?? [])];
  for (const r of regions) {
    if (!(r.quasiStaticN > 0) || !(r.transientN >= r.quasiStaticN)) {
      throw bad(`contact region '${r.name}' needs quasiStaticN > 0 and transientN >= quasiStaticN`);
    }
  }
  if (new Set(regions.map((r) => r.name)).size !== regions.length) throw bad('contact region names repeat');
  const transientSec = l.contact?.transientSec ?? 0.5;
  const contactThresholdN = l.contact?.thresholdN ?? 1;
  if (!(transientSec >= 0) || !(contactThresholdN >= 0)) {
    throw bad('contact transientSec and thresholdN must be >= 0');
  }
  const watchdog = l.watchdog ?? {
    holdAfterSec: Number.POSITIVE_INFINITY,
    stopAfterSec: Number.POSITIVE_INFINITY,
  };
  if (!(watchdog.holdAfterSec > 0) || !(watchdog.stopAfterSec >= watchdog.holdAfterSec)) {
    throw bad(
      `watchdog needs 0 < holdAfterSec <= stopAfterSec (got ${watchdog.holdAfterSec}, ${watchdog.stopAfterSec})`,
    );
  }
  const feedbackTimeoutSec = l.feedbackTimeoutSec ?? 1.5 * l.tickSec;
  if (!(feedbackTimeoutSec > 0)) throw bad(`feedbackTimeoutSec ${feedbackTimeoutSec} must be > 0`);
  return {
    n,
    tickSec: l.tickSec,
    lower,
    upper,
    maxVelocity,
    maxAcceleration,
    hasAcceleration: maxAcceleration.some(Number.isFinite),
    maxTorque,
    kp,
    kd,
    hasTorque,
    names: [...names],
    workspace,
    regions,
    transientSec,
    contactThresholdN,
    watchdog,
    feedbackTimeoutSec,
    needsFeedback: hasTorque || workspace !== null || regions.length > 0,
  };
}
