/** The per-robot control stack: scenes it runs, the stack, the cerebellum adapter, the episode outcome. */
export {
  ARM_SCENE_IDS,
  ARM_SCENES,
  type ArmScene,
  type ContainerSlots,
  chooseArmScene,
  type TrackedPose,
} from './arm-scenes.ts';
export { HumanoidSpinePort } from './humanoid-port.ts';
export { LocomotionSkillRunner } from './locomotion-runner.ts';
export {
  chooseLocomotionScene,
  instructedSteps,
  LOCOMOTION_SCENE_IDS,
  LOCOMOTION_SCENES,
  type LocomotionScene,
  pushRecoveryScene,
  type SizedTask,
} from './locomotion-scenes.ts';
export {
  type EpisodeOutcome,
  type PlanReport,
  type SafeStop,
  type SafetyEventGroup,
  SafetyEventTally,
} from './outcome.ts';
export {
  type BrainConfig,
  RobotStack,
  type RobotStackOptions,
  type StackPerception,
} from './robot-stack.ts';
export { ArmSkillRunner } from './skill-runner.ts';
