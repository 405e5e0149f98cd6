/**
 * What one episode of the control stack reports: the plan, the task's verdict and metrics, the safety
 * events, and each layer's timing against its budget. Plain JSON (`tg run --json` prints it as is).
 */
import type { ExecutorEvent, LinkStats, Placement } from '../brain/index.ts';
import type { LayerName, SafetyEvent, SkillCall } from '../contracts.ts';
import type { LayerFault, LayerReport } from '../scheduler/index.ts';
import type { SpineMode, StopCategory } from '../spine/index.ts';

export interface PlanReport {
  /** 'builtin', 'llm', 'llm->builtin' (the LLM's answer was not used: `fallbackReason` says why). */
  planner: string;
  steps: SkillCall[];
  fallbackReason?: string;
  /** Request to arrival over the brain's link (sim ms). */
  latencyMs: number;
}

export interface SafeStop {
  /** The stop's cause: the first stop event ('estop: cerebellum: exception: ...', 'contact_force: ...'). */
  reason: string;
  category: StopCategory;
  tSec: number;
  mode: SpineMode;
}

export interface EpisodeOutcome {
  robot: string;
  embodimentHash: string;
  scene: string;
  task: string;
  instruction: string;
  seed: number;
  /** The task's success predicate at the end of the episode. */
  success: boolean;
  /** Why it did not succeed, in words. */
  reason?: string;
  executor: 'idle' | 'planning' | 'executing' | 'succeeded' | 'failed';
  /** The first plan, and every plan (replans after failures). */
  plan: PlanReport | null;
  plans: PlanReport[];
  /** The brain's refusal when the instruction could not be planned. */
  planningError: string | null;
  replans: number;
  /** The task's metrics (SI units in the names). */
  metrics: Record<string, number>;
  simSec: number;
  wallSec: number;
  safeStop: SafeStop | null;
  /** Spine interventions as episode events (the first `maxEvents`), and how many there were in all. */
  safetyEvents: SafetyEvent[];
  safetyEventCount: number;
  safetyEventsDropped: number;
  spine: { mode: SpineMode; interventions: number };
  faults: LayerFault[];
  layers: Record<LayerName, LayerReport>;
  deadlineMisses: number;
  overruns: number;
  /** The executor's decisions (plan requests and arrivals, steps started/succeeded/failed). */
  timeline: ExecutorEvent[];
  link: LinkStats & { placement: Placement };
  rates: { spineHz: number; cerebellumHz: number; perceptionHz: number };
}
