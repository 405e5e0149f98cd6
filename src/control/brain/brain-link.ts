/**
 * Where the brain sits, as a network link in simulated time. A planning request leaves the robot at sim
 * time t, crosses the uplink (latency + jitter, may be lost), is planned (compute time: measured, or a fixed
 * figure for deterministic runs), and the plan crosses the downlink (latency + jitter, may be lost). The
 * robot waits `timeoutMs` per attempt and retries up to `maxAttempts`; a plan that arrives after its
 * attempt timed out is dropped. Loss and jitter come from one seeded generator, drawn in a fixed order per
 * attempt, so the same seed gives the same arrivals on every run.
 *
 * The link is polled, never awaited: the robot's faster layers keep running while the brain "thinks".
 * The outcome of a request (which attempt lands, when, or that it gives up) is fixed as soon as the planner
 * calls it needs have settled; `poll` then reveals it when sim time gets there. A deterministic simulation
 * awaits `settled()` once after `send`, so wall-clock speed never changes when a plan lands; a real-time
 * loop just polls.
 */
import { type Rng, seededRng } from '../../sim/world.ts';
import { LAYER_BUDGET_MS } from '../contracts.ts';
import type { BrainPlan, Planner, PlanRequest } from './planner.ts';

export type Placement = 'onboard' | 'edge' | 'cloud';

export interface LinkProfile {
  /** One-way latency (ms). */
  oneWayMs: number;
  /** Each one-way latency is oneWayMs + uniform(-jitterMs, +jitterMs), never below 0. */
  jitterMs: number;
  /** Probability that one message (request or reply) is lost. */
  lossRate: number;
}

/**
 * Typical figures: 'onboard' is the robot's own computer; 'edge' a server at the training field (LAN or
 * private 5G, a few ms); 'cloud' the hub over a WAN (tens of ms, occasional loss).
 */
export const PLACEMENTS: Readonly<Record<Placement, LinkProfile>> = {
  onboard: { oneWayMs: 0, jitterMs: 0, lossRate: 0 },
  edge: { oneWayMs: 2, jitterMs: 1, lossRate: 0.001 },
  cloud: { oneWayMs: 40, jitterMs: 15, lossRate: 0.01 },
};

export interface BrainLinkOptions extends Partial<LinkProfile> {
  /** Preset the other fields override (default 'onboard'). */
  placement?: Placement;
  /** How long the robot waits for a reply per attempt (sim ms, default 1000). */
  timeoutMs?: number;
  /** Attempts per request, first included (default 3). */
  maxAttempts?: number;
  seed?: number;
  /** Planning time added to the round trip (ms): a number, or 'measured' wall-clock time (default). */
  computeMs?: number | 'measured';
  /** Wall-clock deadline handed to the planner (ms, default LAYER_BUDGET_MS.brain). */
  planDeadlineMs?: number;
}

/**
 * Link events, stamped with the sim time they happen at (a lost reply: when it would have arrived). They
 * are logged as soon as the outcome is known, which in a fast simulation is before sim time gets there.
 */
export type LinkEvent =
  | { kind: 'sent'; tSec: number; request: number; attempt: number }
  | { kind: 'lost'; tSec: number; request: number; attempt: number; direction: 'uplink' | 'downlink' }
  | { kind: 'late'; tSec: number; request: number; attempt: number; roundTripMs: number }
  | { kind: 'timeout'; tSec: number; request: number; attempt: number }
  | { kind: 'delivered'; tSec: number; request: number; attempt: number; latencyMs: number }
  | { kind: 'gave_up'; tSec: number; request: number; attempts: number };

export type LinkPoll =
  | { status: 'idle' }
  | { status: 'waiting' }
  | { status: 'delivered'; plan: BrainPlan; sentSec: number; arrivedSec: number; attempts: number }
  | { status: 'failed'; reason: string; attempts: number; error?: unknown };

export interface LinkStats {
  requests: number;
  attempts: number;
  lostUplink: number;
  lostDownlink: number;
  late: number;
  delivered: number;
  failed: number;
  /** Request-to-delivery time of each delivered plan (sim ms), retries included. */
  latenciesMs: number[];
}

interface Attempt {
  index: number;
  sendSec: number;
  upLost: boolean;
  downLost: boolean;
  upMs: number;
  downMs: number;
}

/** How a request ends, in sim time: known as soon as the planner calls it needs have settled. */
type Outcome =
  | { kind: 'delivered'; atSec: number; attempts: number; plan: BrainPlan }
  | { kind: 'refused'; atSec: number; attempts: number; error: unknown }
  | { kind: 'gave_up'; atSec: number; attempts: number };

interface InFlight {
  id: number;
  request: PlanRequest;
  sentSec: number;
  abort: AbortController;
  outcome?: Outcome;
  /** Settles when `outcome` is set. */
  resolving: Promise<void>;
  result?: LinkPoll;
}

/** Who plans and how the plan travels; the executor talks to this, never to a Planner directly. */
export interface BrainPort {
  /** Sends a request at sim time `nowSec`; a request still in flight is abandoned. */
  send(request: PlanRequest, nowSec: number): void;
  /** What has arrived by sim time `nowSec`. */
  poll(nowSec: number): LinkPoll;
  /**
   * Non-null while the current request's outcome still depends on planner work in progress. A
   * deterministic simulation awaits it (once, after `send`), so that the plan lands at the same sim time
   * however fast the wall clock runs; a real-time loop just polls on.
   */
  settled(): Promise<void> | null;
}

export class BrainLink implements BrainPort {
  readonly profile: LinkProfile;
  readonly placement: Placement;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly stats: LinkStats = {
    requests: 0,
    attempts: 0,
    lostUplink: 0,
    lostDownlink: 0,
    late: 0,
    delivered: 0,
    failed: 0,
    latenciesMs: [],
  };
  /** Every link event, stamped with its sim time (see LinkEvent). */
  readonly events: LinkEvent[] = [];
  onEvent?: (e: LinkEvent) => void;
  private readonly rng: Rng;
  private readonly computeMs: number | 'measured';
  private readonly planDeadlineMs: number;
  private current: InFlight | null = null;
  private nextId = 1;

  constructor(
    readonly planner: Planner,
    opts: BrainLinkOptions = {},
  ) {
    this.placement = opts.placement ?? 'onboard';
    const p = PLACEMENTS[this.placement];
    this.profile = {
      oneWayMs: opts.oneWayMs ?? p.oneWayMs,
      jitterMs: opts.jitterMs ?? p.jitterMs,
      lossRate: opts.lossRate ?? p.lossRate,
    };
    const { oneWayMs, jitterMs, lossRate } = this.profile;
    if (!(oneWayMs >= 0 && jitterMs >= 0 && lossRate >= 0 && lossRate <= 1)) {
      throw new RangeError(
        `bad link profile ${JSON.stringify(this.profile)}: need latency, jitter >= 0, loss in [0, 1]`,
      );
    }
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.maxAttempts = opts.maxAttempts ?? 3;
    if (!(this.timeoutMs > 0) || !(this.maxAttempts >= 1)) {
      throw new RangeError(
        `bad link retry settings: timeoutMs ${this.timeoutMs}, maxAttempts ${this.maxAttempts}`,
      );
    }
    this.rng = seededRng(opts.seed ?? 0);
    this.computeMs = opts.computeMs ?? 'measured';
    this.planDeadlineMs = opts.planDeadlineMs ?? LAYER_BUDGET_MS.brain;
  }

  send(request: PlanRequest, nowSec: number): void {
    this.current?.abort.abort();
    this.stats.requests++;
    const f: InFlight = {
      id: this.nextId++,
      request,
      sentSec: nowSec,
      abort: new AbortController(),
      resolving: Promise.resolve(),
    };
    this.current = f;
    f.resolving = this.resolve(f);
  }

  poll(nowSec: number): LinkPoll {
    const f = this.current;
    if (!f) return { status: 'idle' };
    if (f.result) return f.result;
    const o = f.outcome;
    if (!o || nowSec < o.atSec) return { status: 'waiting' };
    if (o.kind === 'delivered') {
      f.result = {
        status: 'delivered',
        plan: o.plan,
        sentSec: f.sentSec,
        arrivedSec: o.atSec,
        attempts: o.attempts,
      };
    } else if (o.kind === 'refused') {
      const reason = o.error instanceof Error ? o.error.message : String(o.error);
      f.result = { status: 'failed', reason, attempts: o.attempts, error: o.error };
    } else {
      const reason = `no plan from the ${this.placement} brain after ${o.attempts} attempts of ${this.timeoutMs} ms`;
      f.result = { status: 'failed', reason, attempts: o.attempts };
    }
    return f.result;
  }

  /** Abandons the request in flight (its planner call is aborted); `poll` then reports it failed. */
  cancel(reason = 'cancelled'): void {
    const f = this.current;
    if (!f || f.result) return;
    f.abort.abort();
    this.stats.failed++;
    f.result = { status: 'failed', reason, attempts: 0 };
    f.outcome ??= { kind: 'gave_up', atSec: f.sentSec, attempts: 0 };
  }

  settled(): Promise<void> | null {
    const f = this.current;
    return f && !f.outcome ? f.resolving : null;
  }

  /**
   * Plays the request's attempts out in sim time: each is sent when the previous one timed out, and the
   * planner is called for each that reaches the brain. Ends by setting `f.outcome`.
   */
  private async resolve(f: InFlight): Promise<void> {
    const timeoutSec = this.timeoutMs / 1000;
    let sendSec = f.sentSec;
    for (let index = 1; ; index++) {
      const a = this.draw(index, sendSec);
      this.count(f, { kind: 'sent', tSec: sendSec, request: f.id, attempt: index }, 'attempts');
      const deadlineSec = sendSec + timeoutSec;
      if (a.upLost) {
        this.count(
          f,
          { kind: 'lost', tSec: sendSec, request: f.id, attempt: index, direction: 'uplink' },
          'lostUplink',
        );
      } else {
        const started = performance.now();
        let plan: BrainPlan | undefined;
        let error: unknown;
        try {
          plan = await this.planner.plan(f.request, {
            deadlineMs: this.planDeadlineMs,
            signal: f.abort.signal,
          });
        } catch (err) {
          error = err;
        }
        if (!this.live(f)) return;
        const computeMs = this.computeMs === 'measured' ? performance.now() - started : this.computeMs;
        const atSec = sendSec + (a.upMs + computeMs + a.downMs) / 1000;
        if (a.downLost) {
          const e: LinkEvent = {
            kind: 'lost',
            tSec: atSec,
            request: f.id,
            attempt: index,
            direction: 'downlink',
          };
          this.count(f, e, 'lostDownlink');
        } else if (atSec > deadlineSec) {
          const roundTripMs = (atSec - sendSec) * 1000;
          this.count(
            f,
            { kind: 'late', tSec: deadlineSec, request: f.id, attempt: index, roundTripMs },
            'late',
          );
        } else if (plan) {
          const latencyMs = (atSec - f.sentSec) * 1000;
          this.stats.latenciesMs.push(latencyMs);
          this.count(
            f,
            { kind: 'delivered', tSec: atSec, request: f.id, attempt: index, latencyMs },
            'delivered',
          );
          f.outcome = { kind: 'delivered', atSec, attempts: index, plan };
          return;
        } else {
          // The brain answered that it cannot plan: that answer arrived, so it is not retried.
          this.stats.failed++;
          f.outcome = { kind: 'refused', atSec, attempts: index, error };
          return;
        }
      }
      this.emit({ kind: 'timeout', tSec: deadlineSec, request: f.id, attempt: index });
      if (index >= this.maxAttempts) {
        this.count(f, { kind: 'gave_up', tSec: deadlineSec, request: f.id, attempts: index }, 'failed');
        f.outcome = { kind: 'gave_up', atSec: deadlineSec, attempts: index };
        return;
      }
      sendSec = deadlineSec;
    }
  }

  /** False once the request was superseded or cancelled: its results are dropped. */
  private live(f: InFlight): boolean {
    return this.current === f && !f.abort.signal.aborted;
  }

  private count(f: InFlight, e: LinkEvent, stat: Exclude<keyof LinkStats, 'latenciesMs' | 'requests'>): void {
    if (!this.live(f)) return;
    this.stats[stat]++;
    this.emit(e);
  }

  private jitteredMs(u: number): number {
    const { oneWayMs, jitterMs } = this.profile;
    return Math.max(0, oneWayMs + jitterMs * (2 * u - 1));
  }

  /** Always four draws per attempt, in this order, so one lost message does not shift later ones. */
  private draw(index: number, sendSec: number): Attempt {
    const r = [this.rng.next(), this.rng.next(), this.rng.next(), this.rng.next()];
    return {
      index,
      sendSec,
      upLost: r[0]! < this.profile.lossRate,
      upMs: this.jitteredMs(r[1]!),
      downLost: r[2]! < this.profile.lossRate,
      downMs: this.jitteredMs(r[3]!),
    };
  }

  private emit(e: LinkEvent): void {
    this.events.push(e);
    this.onEvent?.(e);
  }
}
