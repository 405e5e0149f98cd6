/**
 * Where the brain sits, as a network link in simulated time. A planning request leaves the robot at sim
 * time t, crosses the uplink (latency + jitter, may be lost), is planned (compute time: measured, or a fixed
 * figure for deterministic runs), and the plan crosses the downlink (latency + jitter, may be lost). The
 * robot waits `timeoutMs` per attempt and retries up to `maxAttempts`; a plan that arrives after its
 * attempt timed out is dropped. Loss and jitter come from one seeded generator, drawn in a fixed order per
 * attempt, so the same seed gives the same arrivals on every run.
 *
 * The link is polled, never awaited: the robot's faster layers keep running while the brain "thinks". A
 * deterministic simulation that reaches the moment a reply is due while the planner is still computing
 * awaits `computing()` before stepping on; a real-time loop does not.
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

/** Link events; `tSec` is when the attempt was sent (sent, lost) or when the robot learns the outcome. */
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
  /** Set once the request reaches the brain. */
  work?: Promise<void>;
  done: boolean;
  plan?: BrainPlan;
  error?: unknown;
  computeMs: number;
}

interface InFlight {
  id: number;
  request: PlanRequest;
  sentSec: number;
  attempts: Attempt[];
  result?: LinkPoll;
}

/** Who plans and how the plan travels; the executor talks to this, never to a Planner directly. */
export interface BrainPort {
  send(request: PlanRequest, nowSec: number): void;
  poll(nowSec: number): LinkPoll;
  /**
   * Non-null while the planner is computing the current attempt. A deterministic simulation awaits it
   * before stepping past the time the reply could be due; a real-time loop polls on.
   */
  computing(): Promise<void> | null;
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

  /** Sends a request at sim time `nowSec`; a request still in flight is abandoned (its reply ignored). */
  send(request: PlanRequest, nowSec: number): void {
    this.stats.requests++;
    this.current = { id: this.nextId++, request, sentSec: nowSec, attempts: [] };
    this.launch(this.current, nowSec);
  }

  poll(nowSec: number): LinkPoll {
    const f = this.current;
    if (!f) return { status: 'idle' };
    if (f.result) return f.result;
    for (;;) {
      const a = f.attempts.at(-1)!;
      const deadlineSec = a.sendSec + this.timeoutMs / 1000;
      if (!a.upLost && !a.downLost) {
        if (!a.done) return { status: 'waiting' };
        const rttMs = a.upMs + a.computeMs + a.downMs;
        const arriveSec = a.sendSec + rttMs / 1000;
        if (arriveSec <= deadlineSec) {
          if (nowSec < arriveSec) return { status: 'waiting' };
          return this.finish(f, a, arriveSec);
        }
        if (nowSec < deadlineSec) return { status: 'waiting' };
        this.emit({ kind: 'late', tSec: deadlineSec, request: f.id, attempt: a.index, roundTripMs: rttMs });
        this.stats.late++;
      } else if (nowSec < deadlineSec) {
        return { status: 'waiting' };
      }
      this.emit({ kind: 'timeout', tSec: deadlineSec, request: f.id, attempt: a.index });
      if (f.attempts.length >= this.maxAttempts) {
        this.stats.failed++;
        this.emit({ kind: 'gave_up', tSec: deadlineSec, request: f.id, attempts: f.attempts.length });
        f.result = {
          status: 'failed',
          reason: `no plan from the ${this.placement} brain after ${f.attempts.length} attempts of ${this.timeoutMs} ms`,
          attempts: f.attempts.length,
        };
        return f.result;
      }
      this.launch(f, deadlineSec);
    }
  }

  computing(): Promise<void> | null {
    const a = this.current?.result ? undefined : this.current?.attempts.at(-1);
    return a?.work && !a.done ? a.work : null;
  }

  private finish(f: InFlight, a: Attempt, arriveSec: number): LinkPoll {
    const latencyMs = (arriveSec - f.sentSec) * 1000;
    if (a.plan) {
      this.stats.delivered++;
      this.stats.latenciesMs.push(latencyMs);
      this.emit({ kind: 'delivered', tSec: arriveSec, request: f.id, attempt: a.index, latencyMs });
      f.result = {
        status: 'delivered',
        plan: a.plan,
        sentSec: f.sentSec,
        arrivedSec: arriveSec,
        attempts: f.attempts.length,
      };
    } else {
      // The brain answered that it cannot plan: that answer arrived, so it is not retried.
      this.stats.failed++;
      const reason = a.error instanceof Error ? a.error.message : String(a.error);
      f.result = { status: 'failed', reason, attempts: f.attempts.length, error: a.error };
    }
    return f.result;
  }

  private jitteredMs(u: number): number {
    const { oneWayMs, jitterMs } = this.profile;
    return Math.max(0, oneWayMs + jitterMs * (2 * u - 1));
  }

  private launch(f: InFlight, sendSec: number): void {
    // Always four draws per attempt, in this order, so one lost message does not shift later ones.
    const r = [this.rng.next(), this.rng.next(), this.rng.next(), this.rng.next()];
    const a: Attempt = {
      index: f.attempts.length + 1,
      sendSec,
      upLost: r[0]! < this.profile.lossRate,
      upMs: this.jitteredMs(r[1]!),
      downLost: r[2]! < this.profile.lossRate,
      downMs: this.jitteredMs(r[3]!),
      done: false,
      computeMs: 0,
    };
    f.attempts.push(a);
    this.stats.attempts++;
    this.emit({ kind: 'sent', tSec: sendSec, request: f.id, attempt: a.index });
    if (a.upLost) {
      this.stats.lostUplink++;
      this.emit({ kind: 'lost', tSec: sendSec, request: f.id, attempt: a.index, direction: 'uplink' });
      return;
    }
    if (a.downLost) {
      this.stats.lostDownlink++;
      this.emit({ kind: 'lost', tSec: sendSec, request: f.id, attempt: a.index, direction: 'downlink' });
    }
    const started = performance.now();
    a.work = this.planner.plan(f.request, { deadlineMs: this.planDeadlineMs }).then(
      (plan) => {
        a.plan = plan;
      },
      (err: unknown) => {
        a.error = err;
      },
    );
    a.work = a.work.then(() => {
      a.computeMs = this.computeMs === 'measured' ? performance.now() - started : this.computeMs;
      a.done = true;
    });
  }

  private emit(e: LinkEvent): void {
    this.events.push(e);
    this.onEvent?.(e);
  }
}
