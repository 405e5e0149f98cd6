/**
 * What one episode of the control stack reports: the plan, the task's verdict and metrics, the safety
 * events, and each layer's timing against its budget. Plain JSON (`tg run --json` prints it as is).
 */
import type { ExecutorEvent, LinkStats, Placement } from '../brain/index.ts';
import type { LayerName, SafetyEvent, SafetyEventKind, SkillCall } from '../contracts.ts';
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

/** The safety events of one kind on one target (channel, region, site), folded together. */
export interface SafetyEventGroup {
  kind: SafetyEventKind;
  target?: string;
  count: number;
  firstSec: number;
  lastSec: number;
  /** Largest measured value and the limit it broke (units of the check). */
  maxValue?: number;
  limit?: number;
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
  /** Every event, grouped by kind and target, most frequent first. */
  safetySummary: SafetyEventGroup[];
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

/** Folds events into groups by kind and target, as `tg run` prints them. */
export class SafetyEventTally {
  private readonly groups = new Map<string, SafetyEventGroup>();

  add(e: SafetyEvent): void {
    const key = `${e.kind}\u0000${e.target ?? ''}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { kind: e.kind, count: 0, firstSec: e.tSec, lastSec: e.tSec };
      if (e.target !== undefined) g.target = e.target;
      this.groups.set(key, g);
    }
    g.count++;
    g.lastSec = e.tSec;
    if (e.value !== undefined && !(e.value <= (g.maxValue ?? Number.NEGATIVE_INFINITY))) g.maxValue = e.value;
    if (e.limit !== undefined) g.limit = e.limit;
  }

  clear(): void {
    this.groups.clear();
  }

  summary(): SafetyEventGroup[] {
    return [...this.groups.values()]
      .map((g) => ({ ...g }))
      .sort((a, b) => b.count - a.count || a.firstSec - b.firstSec);
  }
}
