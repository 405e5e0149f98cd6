/**
 * Quality thresholds: one zod-validated object, every field defaulted, any subset overridable
 * (`resolveThresholds({ deadActions: { maxFraction: 0.2 } })`). Unknown keys are rejected so a typo in a
 * thresholds file fails loudly instead of silently keeping the default.
 *
 * Each check also carries its severity: a 'fail' check rejects the episode, a 'warn' check only reports.
 */
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';

const severity = (d: 'fail' | 'warn') => z.enum(['fail', 'warn']).default(d);
const positive = (d: number) => z.number().positive().default(d);
const nonneg = (d: number) => z.number().nonnegative().default(d);
const fraction = (d: number) => z.number().min(0).max(1).default(d);
/** A section whose fields all default; `prefault({})` runs the defaults when the section is omitted. */
// (`{} as never`: every field has a default, which the generic shape type cannot show.)
const section = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape).prefault({} as never);

export const QualityThresholdsSchema = z
  .strictObject({
    timestampsMonotonic: section({ severity: severity('fail') }),
    /** LeRobot's check_timestamps_sync uses tolerance_s = 1e-4 between consecutive frames. */
    timestampsGrid: section({ toleranceSec: positive(1e-4), severity: severity('fail') }),
    /** Coefficient of variation (std / mean) of the frame intervals. */
    timestampsJitter: section({ maxCv: nonneg(0.1), severity: severity('fail') }),
    /** An interval longer than `gapFactor / fps` is a gap (dropped frames). */
    timestampsGaps: section({ gapFactor: positive(2), maxGaps: nonneg(0), severity: severity('fail') }),
    finite: section({ severity: severity('fail') }),
    actionStateLength: section({ severity: severity('fail') }),
    /** Values beyond a limit by more than `tolerance` (channel units: rad or m) are violations. */
    jointLimits: section({ tolerance: nonneg(1e-3), maxViolations: nonneg(0), severity: severity('fail') }),
    /** Fraction of frames with any non-gripper joint within `epsilon` of a limit. */
    limitSaturation: section({
      epsilon: nonneg(0.01),
      maxFraction: fraction(0.1),
      severity: severity('warn'),
    }),
    /** Fraction of frame-to-frame steps where no action channel changed by more than `epsilon`. */
    deadActions: section({ epsilon: nonneg(1e-6), maxFraction: fraction(0.1), severity: severity('warn') }),
    /** Fraction of frame-to-frame steps where no state channel changed by more than `epsilon`. */
    staticState: section({ epsilon: nonneg(1e-5), maxFraction: fraction(0.5), severity: severity('fail') }),
    /** Most open/close transitions of the gripper channel in any one-second window, per second. */
    gripperChatter: section({ maxTransitionsPerSec: nonneg(2), severity: severity('fail') }),
    /** Log dimensionless jerk of the joint-space speed profile; below `minLdlj` is not smooth. */
    smoothness: section({ minLdlj: z.number().default(-25), severity: severity('fail') }),
    /**
     * |joint acceleration| above `accelFactor` x that joint's median |acceleration|. The median is floored
     * at `minMedianAccel` (channel units / s^2) so that a joint resting most of the episode (median ~ 0)
     * does not turn every ordinary movement into a spike.
     */
    collisionSpikes: section({
      accelFactor: positive(15),
      minMedianAccel: nonneg(1),
      severity: severity('fail'),
    }),
    /** Mean |action[t] - state[t+1]| over all channels (position-controlled robots). */
    trackingError: section({ maxMeanAbs: nonneg(0.05), severity: severity('warn') }),
    /** Tukey fences on episode durations across a dataset; skipped below `minEpisodes` episodes. */
    durationOutlier: section({
      iqrFactor: nonneg(1.5),
      minEpisodes: z.number().int().min(4).default(4),
      severity: severity('warn'),
    }),
    /**
     * Fraction of taxel samples at full scale. With `fullScale` null the ceiling is each tactile
     * feature's observed maximum (a clipped sensor sits on it; a healthy one touches it once).
     */
    tactileSaturation: section({
      fullScale: z.number().nullable().default(null),
      maxFraction: fraction(0.05),
      severity: severity('warn'),
    }),
    /** Fraction of a pad's taxels that never change (max - min <= epsilon) while the pad is in contact. */
    tactileDeadTaxels: section({
      epsilon: nonneg(1e-6),
      maxFraction: fraction(0.5),
      severity: severity('warn'),
    }),
    languageInstruction: section({ severity: severity('fail') }),
    successLabel: section({ severity: severity('warn') }),
  })
  .prefault({});

export type QualityThresholds = z.output<typeof QualityThresholdsSchema>;
export type QualityThresholdsInput = z.input<typeof QualityThresholdsSchema>;

export const DEFAULT_THRESHOLDS: QualityThresholds = QualityThresholdsSchema.parse(undefined);

/** Defaults overlaid with `overrides` (validated); throws TgError('CONFIG_INVALID') naming the bad key. */
export function resolveThresholds(overrides?: unknown): QualityThresholds {
  const parsed = QualityThresholdsSchema.safeParse(overrides ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    throw new TgError('CONFIG_INVALID', `quality thresholds: ${path}: ${issue?.message}`);
  }
  return parsed.data;
}
