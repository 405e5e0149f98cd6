/**
 * One episode through every applicable check, and its verdict. Which channels a check looks at comes from
 * the channel names: a channel (or a whole feature) whose name contains "gripper" is the gripper; it is
 * left out of the smoothness, collision and saturation checks (a gripper closing on an object is a sudden
 * stop by design, and a gripper resting fully open sits at its limit).
 */
import {
  type CheckResult,
  type Column,
  checkActionStateLength,
  checkCollisionSpikes,
  checkDeadActions,
  checkFinite,
  checkGripperChatter,
  checkJointLimits,
  checkLanguageInstruction,
  checkLimitSaturation,
  checkSmoothness,
  checkStaticState,
  checkSuccessLabel,
  checkTactileDeadTaxels,
  checkTactileSaturation,
  checkTimestampsGaps,
  checkTimestampsGrid,
  checkTimestampsJitter,
  checkTimestampsMonotonic,
  checkTrackingError,
  type JointLimits,
  type NamedColumn,
  type Timestamps,
  type Verdict,
} from './checks.ts';
import type { QualityThresholds } from './thresholds.ts';

export const STATE_FEATURE = 'observation.state';
export const ACTION_FEATURE = 'action';
export const TACTILE_PREFIX = 'observation.tactile';

export interface EpisodeQualityInput {
  fps: number;
  length: number;
  timestampsSec: Timestamps;
  /** Feature name -> frame-major values (`length * dim`). */
  columns: Record<string, Float32Array>;
  /** Feature name -> channel names (LeRobot info.json `names`), used to find the gripper. */
  names?: Record<string, readonly string[] | null | undefined>;
  /** Limits per observation.state channel (optional: limit checks run only with them). */
  jointLimits?: JointLimits;
  /** 'position' (default) runs the tracking-error check; torque actions are not comparable with state. */
  actionKind?: 'position' | 'torque';
  instruction?: string | null;
  success?: boolean | null;
}

const isGripper = (name: string) => name.toLowerCase().includes('gripper');

function column(input: EpisodeQualityInput, name: string): Column | undefined {
  const values = input.columns[name];
  if (!values) return undefined;
  const dim = input.length > 0 ? values.length / input.length : 1;
  return { values, dim: Number.isInteger(dim) && dim > 0 ? dim : 1 };
}

function gripperChannels(input: EpisodeQualityInput, feature: string, dim: number): boolean[] {
  const names = input.names?.[feature];
  return Array.from(
    { length: dim },
    (_, c) => isGripper(feature) || (Array.isArray(names) && isGripper(String(names[c] ?? ''))),
  );
}

/** Runs every check the episode has data for, in a fixed order. */
export function checkEpisode(input: EpisodeQualityInput, t: QualityThresholds): CheckResult[] {
  const { fps, timestampsSec: ts } = input;
  const out: CheckResult[] = [
    checkTimestampsMonotonic(ts, t.timestampsMonotonic),
    checkTimestampsGrid(ts, fps, t.timestampsGrid),
    checkTimestampsJitter(ts, t.timestampsJitter),
    checkTimestampsGaps(ts, fps, t.timestampsGaps),
    checkFinite({ timestamp: ts, ...input.columns }, t.finite),
  ];
  const state = column(input, STATE_FEATURE);
  const action = column(input, ACTION_FEATURE);
  out.push(checkActionStateLength(action, state, t.actionStateLength));

  if (state) {
    const gripper = gripperChannels(input, STATE_FEATURE, state.dim);
    const joints = gripper.flatMap((g, c) => (g ? [] : [c]));
    if (input.jointLimits) {
      out.push(checkJointLimits(state, input.jointLimits, t.jointLimits));
      out.push(checkLimitSaturation(state, input.jointLimits, joints, t.limitSaturation));
    }
    out.push(checkStaticState(state, t.staticState));
    out.push(checkSmoothness(state, joints, fps, t.smoothness));
    out.push(checkCollisionSpikes(state, joints, fps, t.collisionSpikes));
  }
  if (action) out.push(checkDeadActions(action, t.deadActions));

  // Gripper chatter on the commanded channel when there is one, else the measured one, else a gripper feature.
  const chatterSource = [ACTION_FEATURE, STATE_FEATURE, ...Object.keys(input.columns)]
    .map((name) => {
      const col = column(input, name);
      const channel = col ? gripperChannels(input, name, col.dim).indexOf(true) : -1;
      return col && channel >= 0 ? { name, col, channel } : undefined;
    })
    .find((x) => x !== undefined);
  if (chatterSource) {
    const { name, col, channel } = chatterSource;
    const range =
      input.jointLimits && (name === STATE_FEATURE || (name === ACTION_FEATURE && action?.dim === state?.dim))
        ? { lower: input.jointLimits.lower[channel]!, upper: input.jointLimits.upper[channel]! }
        : undefined;
    out.push(checkGripperChatter(col, channel, fps, range, t.gripperChatter));
  }

  if (action && state && (input.actionKind ?? 'position') === 'position') {
    out.push(checkTrackingError(action, state, t.trackingError));
  }

  const tactile: NamedColumn[] = Object.keys(input.columns)
    .filter((n) => n.startsWith(TACTILE_PREFIX))
    .flatMap((name) => {
      const col = column(input, name);
      return col ? [{ name, ...col }] : [];
    });
  if (tactile.length > 0) {
    out.push(checkTactileSaturation(tactile, t.tactileSaturation));
    out.push(checkTactileDeadTaxels(tactile, t.tactileDeadTaxels));
  }

  out.push(checkLanguageInstruction(input.instruction, t.languageInstruction));
  out.push(checkSuccessLabel(input.success, t.successLabel));
  return out;
}

/** 'fail' if any check failed, else 'warn' if any warned, else 'pass'. Only 'fail' rejects the episode. */
export function episodeVerdict(results: readonly CheckResult[]): Verdict {
  let verdict: Verdict = 'pass';
  for (const r of results) {
    if (r.verdict === 'fail') return 'fail';
    if (r.verdict === 'warn') verdict = 'warn';
  }
  return verdict;
}
