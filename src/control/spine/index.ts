export type { ActuatorPort } from './actuator-port.ts';
export { brakingSpeed } from './braking.ts';
export {
  type ContactRegionLimit,
  ENVIRONMENT_REGION,
  environmentRegion,
  ISO_TS_15066_REGIONS,
} from './contact-regions.ts';
export { SafetyEventQueue, type SafetyEventSink, toEpisodeEvent } from './events.ts';
export { SpineFeedback } from './feedback.ts';
export {
  type CompiledLimits,
  type ContactLimits,
  channelMaxAcceleration,
  compileLimits,
  DEFAULT_ACCELERATION_TIME_SEC,
  DEFAULT_WATCHDOG,
  type ServoModel,
  type SpineLimits,
  type SpineLimitsOptions,
  spineLimitsFor,
  type WatchdogLimits,
  type WorkspaceLimits,
} from './limits.ts';
export { type ScenePortOptions, SceneSpinePort, servoModelFromScene } from './scene-port.ts';
export {
  Spine,
  SpineBit,
  type SpineMode,
  type SpineOptions,
  type SpineStats,
  type StopCategory,
} from './spine.ts';
