export type { CheckResult, Column, JointLimits, Severity, Verdict } from './checks.ts';
export {
  checkActionStateLength,
  checkCollisionSpikes,
  checkDeadActions,
  checkDurationOutliers,
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
  ldlj,
} from './checks.ts';
export { checkEpisode, type EpisodeQualityInput, episodeVerdict } from './episode-quality.ts';
export {
  DEFAULT_THRESHOLDS,
  type QualityThresholds,
  type QualityThresholdsInput,
  QualityThresholdsSchema,
  resolveThresholds,
} from './thresholds.ts';
export {
  type DatasetQualityReport,
  type EpisodeQualityReport,
  type ValidateDatasetOptions,
  validateDataset,
} from './validate-dataset.ts';
export {
  computeYield,
  type DataYield,
  type EpisodeVerdictRecord,
  UNKNOWN_LABEL,
  YIELD_DIMENSIONS,
  type YieldBucket,
  type YieldDimension,
} from './yield.ts';
