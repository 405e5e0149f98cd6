/**
 * The brain in the rate scheduler's brain slot (src/control/scheduler, `PlannerLayer`): the executor's
 * requests are started by the scheduler at its next cerebellum tick, the scheduler measures the brain's
 * wall-clock compute time against its budget and, in simulated time, waits for the link's outcome
 * (`BrainLink.settled`) before the plan's landing time, so plans land at the same sim time on any machine.
 * The plan itself reaches the executor through `poll`, when the link says it has arrived.
 *
 * Typed structurally, so the brain does not depend on the scheduler's module.
 */
import type { BrainLink, BrainPort, LinkPoll } from './brain-link.ts';
import type { PlanRequest } from './planner.ts';

export class ScheduledBrain implements BrainPort {
  private pending: PlanRequest | null = null;

  /** `requestPlan` is the scheduler's own (`RateScheduler.requestPlan`). */
  constructor(
    readonly link: BrainLink,
    private readonly requestPlan: () => void,
  ) {}

  send(request: PlanRequest, _nowSec: number): void {
    this.pending = request;
    this.requestPlan();
  }

  poll(nowSec: number): LinkPoll {
    return this.pending ? { status: 'waiting' } : this.link.poll(nowSec);
  }

  /** The scheduler does the waiting. */
  settled(): null {
    return null;
  }

  /** PlannerLayer.start: sends the pending request over the link at the scheduler's tick. */
  start(tSec: number, signal: AbortSignal): Promise<void> {
    const request = this.pending;
    this.pending = null;
    if (!request) return Promise.resolve();
    this.link.send(request, tSec);
    signal.addEventListener('abort', () => this.link.cancel('the scheduler timed the brain out'), {
      once: true,
    });
    return this.link.settled() ?? Promise.resolve();
  }

  /** PlannerLayer.deliver: nothing to hand over; the executor polls the link. */
  deliver(_result: unknown, _tSec: number): void {}
}
