/**
 * Execution monitoring: walks a plan one skill call at a time, hands each call to the cerebellum, polls
 * its status every tick, and on a failure (or a step that overruns its time) asks the brain for a new plan
 * from the current world state, a bounded number of times. Every decision is an event.
 *
 * It is ticked, never awaited: planning happens through a BrainPort (a BrainLink, possibly across a
 * network) while the cerebellum keeps control of the robot, as DESIGN.md requires of a slow layer.
 */
import type { SkillCall, SkillStatus } from '../contracts.ts';
import type { BrainPort } from './brain-link.ts';
import type { BrainPlan, PlanFailure } from './planner.ts';
import type { WorldSummary } from './world-summary.ts';

/**
 * What the executor needs of the cerebellum. `start` preempts whatever runs and throws when the call
 * cannot start (no such skill, bad goal); `status` reports the call last started.
 */
export interface SkillRunner {
  start(call: SkillCall): void;
  status(): SkillStatus;
  /** Why the last call failed, once `status()` said 'failed'. */
  readonly failure: string | null;
  /** Stops the running call and holds the robot still (used when a step overruns its time). */
  stop?(): void;
}

export type ExecutorState = 'idle' | 'planning' | 'executing' | 'succeeded' | 'failed';

export type ExecutorEvent =
  | { kind: 'plan_requested'; tSec: number; instruction: string; replan: number; reason?: string }
  | {
      kind: 'plan_received';
      tSec: number;
      planner: string;
      steps: SkillCall[];
      fallbackReason?: string;
      /** Request to arrival (sim ms), retries included. */
      latencyMs: number;
      attempts: number;
    }
  | { kind: 'planning_failed'; tSec: number; reason: string }
  | { kind: 'step_started'; tSec: number; index: number; call: SkillCall }
  | { kind: 'step_succeeded'; tSec: number; index: number; call: SkillCall; durationSec: number }
  | { kind: 'step_failed'; tSec: number; index: number; call: SkillCall; reason: string; durationSec: number }
  | { kind: 'finished'; tSec: number; outcome: 'succeeded' | 'failed'; replans: number; reason?: string };

export interface PlanExecutorOptions {
  brain: BrainPort;
  cerebellum: SkillRunner;
  /** The world as the brain should see it now; called for every planning request. */
  world: () => WorldSummary;
  /** New plans asked for after failures before giving up (default 3). */
  maxReplans?: number;
  /** Sim time a step may run (s); default `defaultStepTimeoutSec`. */
  stepTimeoutSec?: (call: SkillCall) => number;
  onEvent?: (e: ExecutorEvent) => void;
}

/** A stand lasts as long as asked, plus time to settle; anything else gets a minute. */
export function defaultStepTimeoutSec(call: SkillCall): number {
  if (call.skill === 'stand' && typeof call.args.seconds === 'number') return call.args.seconds + 10;
  return 60;
}

export class PlanExecutor {
  state: ExecutorState = 'idle';
  plan: BrainPlan | null = null;
  stepIndex = 0;
  replans = 0;
  readonly events: ExecutorEvent[] = [];
  private instruction = '';
  private stepStartSec = 0;
  private readonly maxReplans: number;
  private readonly stepTimeoutSec: (call: SkillCall) => number;

  constructor(private readonly opts: PlanExecutorOptions) {
    this.maxReplans = opts.maxReplans ?? 3;
    this.stepTimeoutSec = opts.stepTimeoutSec ?? defaultStepTimeoutSec;
  }

  /** Asks for a plan for `instruction` at sim time `nowSec`; execution starts when it arrives. */
  begin(instruction: string, nowSec: number): void {
    this.instruction = instruction;
    this.plan = null;
    this.stepIndex = 0;
    this.replans = 0;
    this.request(nowSec);
  }

  get done(): boolean {
    return this.state === 'succeeded' || this.state === 'failed';
  }

  /** The call the cerebellum is running, if any. */
  get current(): SkillCall | null {
    return this.state === 'executing' ? (this.plan?.steps[this.stepIndex] ?? null) : null;
  }

  /** While planning: the brain's work the request's outcome waits on (see BrainPort.settled). */
  settled(): Promise<void> | null {
    return this.state === 'planning' ? this.opts.brain.settled() : null;
  }

  tick(nowSec: number): ExecutorState {
    if (this.state === 'planning') this.receive(nowSec);
    if (this.state === 'executing') this.monitor(nowSec);
    return this.state;
  }

  private request(nowSec: number, failure?: PlanFailure): void {
    this.state = 'planning';
    this.emit({
      kind: 'plan_requested',
      tSec: nowSec,
      instruction: this.instruction,
      replan: this.replans,
      ...(failure ? { reason: failure.reason } : {}),
    });
    const req = { instruction: this.instruction, world: this.opts.world(), ...(failure ? { failure } : {}) };
    this.opts.brain.send(req, nowSec);
  }

  private receive(nowSec: number): void {
    const r = this.opts.brain.poll(nowSec);
    if (r.status === 'waiting' || r.status === 'idle') return;
    if (r.status === 'failed') {
      this.emit({ kind: 'planning_failed', tSec: nowSec, reason: r.reason });
      this.finish(nowSec, 'failed', `planning failed: ${r.reason}`);
      return;
    }
    this.plan = r.plan;
    this.stepIndex = 0;
    this.emit({
      kind: 'plan_received',
      tSec: nowSec,
      planner: r.plan.planner,
      steps: r.plan.steps,
      ...(r.plan.fallbackReason ? { fallbackReason: r.plan.fallbackReason } : {}),
      latencyMs: (r.arrivedSec - r.sentSec) * 1000,
      attempts: r.attempts,
    });
    this.state = 'executing';
    this.startStep(nowSec);
  }

  /** Starts the step at `stepIndex`, or finishes when there is none left. */
  private startStep(nowSec: number): void {
    const plan = this.plan!;
    if (this.stepIndex >= plan.steps.length) {
      this.finish(nowSec, 'succeeded');
      return;
    }
    const call = plan.steps[this.stepIndex]!;
    this.stepStartSec = nowSec;
    this.emit({ kind: 'step_started', tSec: nowSec, index: this.stepIndex, call });
    try {
      this.opts.cerebellum.start(call);
    } catch (err) {
      this.fail(nowSec, `could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private monitor(nowSec: number): void {
    const call = this.plan!.steps[this.stepIndex]!;
    const status = this.opts.cerebellum.status();
    if (status === 'succeeded') {
      this.emit({
        kind: 'step_succeeded',
        tSec: nowSec,
        index: this.stepIndex,
        call,
        durationSec: nowSec - this.stepStartSec,
      });
      this.stepIndex++;
      this.startStep(nowSec);
      return;
    }
    if (status === 'failed') {
      this.fail(nowSec, this.opts.cerebellum.failure ?? 'the skill failed without saying why');
      return;
    }
    const limitSec = this.stepTimeoutSec(call);
    if (nowSec - this.stepStartSec > limitSec) {
      this.opts.cerebellum.stop?.();
      this.fail(nowSec, `still running after ${limitSec} s`);
    }
  }

  /** Records the current step's failure and asks for a new plan, or gives up. */
  private fail(nowSec: number, reason: string): void {
    const plan = this.plan!;
    const call = plan.steps[this.stepIndex]!;
    this.emit({
      kind: 'step_failed',
      tSec: nowSec,
      index: this.stepIndex,
      call,
      reason,
      durationSec: nowSec - this.stepStartSec,
    });
    if (this.replans >= this.maxReplans) {
      this.finish(
        nowSec,
        'failed',
        `step ${this.stepIndex + 1} (${call.skill}) failed: ${reason}; gave up after ${this.replans} replans`,
      );
      return;
    }
    this.replans++;
    this.request(nowSec, {
      index: this.stepIndex,
      step: call,
      reason,
      completed: plan.steps.slice(0, this.stepIndex),
      replan: this.replans,
    });
  }

  private finish(nowSec: number, outcome: 'succeeded' | 'failed', reason?: string): void {
    this.state = outcome;
    this.emit({
      kind: 'finished',
      tSec: nowSec,
      outcome,
      replans: this.replans,
      ...(reason ? { reason } : {}),
    });
  }

  private emit(e: ExecutorEvent): void {
    this.events.push(e);
    this.opts.onEvent?.(e);
  }
}
