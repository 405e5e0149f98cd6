/** The brain (planning): planners, their placement on a network link, and execution monitoring. */
export {
  BrainLink,
  type BrainLinkOptions,
  type BrainPort,
  type LinkEvent,
  type LinkPoll,
  type LinkProfile,
  type LinkStats,
  PLACEMENTS,
  type Placement,
} from './brain-link.ts';
export { BuiltinPlanner, DEFAULT_STAND_SEC, planInstruction } from './builtin-planner.ts';
export {
  chatCompletionsUrl,
  FALLBACK_RESERVE_MS,
  LlmPlanner,
  type LlmPlannerOptions,
} from './llm-planner.ts';
export { parsePlanReply, systemPrompt, userPrompt } from './llm-prompt.ts';
export {
  defaultStepTimeoutSec,
  type ExecutorEvent,
  type ExecutorState,
  PlanExecutor,
  type PlanExecutorOptions,
  type SkillRunner,
} from './plan-executor.ts';
export { MAX_PLAN_STEPS, type PlanCheck, validateSteps } from './plan-validation.ts';
export {
  type BrainPlan,
  isPlanningError,
  type PlanFailure,
  type Planner,
  PlanningError,
  type PlanOptions,
  type PlanRequest,
} from './planner.ts';
export { ScheduledBrain } from './scheduled-brain.ts';
export {
  defaultSkills,
  isOnTarget,
  type ObjectSummary,
  type RobotKind,
  type RobotSummary,
  robotSkills,
  type SceneDescription,
  summarizeWorld,
  type TargetSummary,
  type Vec3,
  type WorldSummary,
} from './world-summary.ts';
