// Object poses from a rotation matrix (the stack's tracked poses).
export { matToQuat } from '../rotation.ts';
export type {
  ArmPerceptionOptions,
  DepthFrameSource,
  ObjectPerception,
  SensorChannels,
} from './arm-perception.ts';
export { ArmPerception } from './arm-perception.ts';
export type { DepthDetectorOptions, DepthObjectModel } from './depth-objects.ts';
export { DepthObjectDetector } from './depth-objects.ts';
export { HeldChannel } from './proprioception.ts';
export type { ObjectPoseSource, SceneObjectSpec, SimObjectNoise } from './sim-objects.ts';
export { SimObjectTracker, sceneObjectSource } from './sim-objects.ts';
export type { TactileCalibration, TactileFeatureOptions } from './tactile.ts';
export { ARM7_PAD_CALIBRATION, TactileFeatureExtractor } from './tactile.ts';
export type { WorldStateShape } from './world-state.ts';
export { createWorldState, emptyObjectEstimate, emptyTactileFeatures } from './world-state.ts';
export { WristWrenchCompensator } from './wrist-wrench.ts';
