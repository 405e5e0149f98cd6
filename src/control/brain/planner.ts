/**
 * The brain's one seam: a planner turns an instruction and a world summary into a plan of skill calls.
 * The built-in planner, the LLM planner and anything else (a learned one, a human at a console) sit behind
 * it; BrainLink puts any of them at the far end of a network link.
 */
import { TgError } from '../../errors/index.ts';
import type { Plan, SkillCall } from '../contracts.ts';
import type { WorldSummary } from './world-summary.ts';

/** What went wrong when a plan is asked for again (replanning). */
export interface PlanFailure {
  /** Index of the failed step in the previous plan, and the call. */
  index: number;
  step: SkillCall;
  reason: string;
  /** Steps of the previous plan that succeeded before it. */
  completed: SkillCall[];
  /** 1 for the first replan. */
  replan: number;
}

export interface PlanRequest {
  instruction: string;
  world: WorldSummary;
  failure?: PlanFailure;
}

export interface PlanOptions {
  /** Wall-clock time the planner may take (ms); default LAYER_BUDGET_MS.brain. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** A plan as the brain hands it out: a `Plan` plus why a fallback happened, when one did. */
export interface BrainPlan extends Plan {
  /** When `planner` is 'llm->builtin': why the LLM's answer was not used. */
  fallbackReason?: string;
}

export interface Planner {
  /** 'builtin', 'llm', ...: what `Plan.planner` says when this planner answers by itself. */
  readonly name: string;
  /** Resolves to a plan, or rejects with a PlanningError that says what could not be planned. */
  plan(request: PlanRequest, options?: PlanOptions): Promise<BrainPlan>;
}

/** An instruction the planner could not turn into a plan; `problems` names each part it did not understand. */
export class PlanningError extends TgError {
  readonly problems: readonly string[];

  constructor(instruction: string, problems: readonly string[], options?: { cause?: unknown }) {
    super('INPUT_INVALID', `cannot plan "${instruction}": ${problems.join('; ')}`, options);
    this.name = 'PlanningError';
    this.problems = problems;
  }
}

export function isPlanningError(err: unknown): err is PlanningError {
  return err instanceof PlanningError;
}
