/**
 * The spinal cord: the last check between every command and the actuators, run on every physics tick.
 *
 * Per channel it enforces position limits (including braking before them), velocity, acceleration and
 * (through the servo model) torque limits; per robot it rejects non-finite commands, holds on a stale
 * command and then stops (watchdog), stops on a sensor dropout, on a contact force over its body region's
 * limit, or when a TCP would leave the workspace box, and executes e-stops of IEC 60204-1 categories 0, 1
 * and 2. Every intervention is queued as a SafetyEvent (edge-triggered: once when it begins, counted on
 * every tick in `stats`).
 *
 * The spine owns the robot's `ActuatorPort`: `tick` is the only path that writes targets. `check` is the
 * same filter without the port, for loops that write the result themselves (src/control/episode-loop.ts).
 * Nothing on the per-tick path allocates or throws; cost is O(channels).
 */
import { channelMaxVelocity, type Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { SafetyEventKind } from '../contracts.ts';
import type { ActuatorPort } from './actuator-port.ts';
import { brakingSpeed } from './braking.ts';
import { SafetyEventQueue, type SafetyEventSink } from './events.ts';
import { SpineFeedback } from './feedback.ts';
import { type CompiledLimits, channelMaxAcceleration, compileLimits, type SpineLimits } from './limits.ts';

/** Bits of the value `check` and `tick` return (0 = the command passed untouched). */
export const SpineBit = {
  CLAMPED: 1,
  RATE_LIMITED: 2,
  REJECTED_NONFINITE: 4,
  ACCEL_LIMITED: 8,
  TORQUE_LIMITED: 16,
  WATCHDOG_HOLD: 32,
  /** The output follows a stop profile, or the robot is stopped. */
  STOPPING: 64,
} as const;
const {
  CLAMPED: SPINE_CLAMPED,
  RATE_LIMITED: SPINE_RATE_LIMITED,
  REJECTED_NONFINITE: SPINE_REJECTED_NONFINITE,
  ACCEL_LIMITED: SPINE_ACCEL_LIMITED,
  TORQUE_LIMITED: SPINE_TORQUE_LIMITED,
  WATCHDOG_HOLD: SPINE_WATCHDOG_HOLD,
  STOPPING: SPINE_STOPPING,
} = SpineBit;

export type SpineMode = 'run' | 'stopping' | 'stopped' | 'off';
/** IEC 60204-1 stop categories: 0 remove power now, 1 controlled stop then power off, 2 controlled stop. */
export type StopCategory = 0 | 1 | 2;

export interface SpineStats {
  /** Calls to `check` or `tick`. */
  ticks: number;
  /** Ticks on which the spine changed the command in any way. */
  interventions: number;
  /** Ticks on which at least one channel was held inside its position limits. */
  clamped: number;
  /** Ticks on which at least one channel was slowed to its velocity limit. */
  rateLimited: number;
  /** Ticks held because the command was non-finite. */
  rejectedNonFinite: number;
  accelLimited: number;
  torqueLimited: number;
  /** Ticks held because the command was stale. */
  watchdogHolds: number;
  /** Commands given through `submit`, and those refused for a non-finite value. */
  commands: number;
  rejectedCommands: number;
  /** Stops begun (any cause, any category), and releases from a stop. */
  stops: number;
  releases: number;
}

export interface SpineOptions {
  /** The actuators; `tick` writes only here. Without one only `check` is usable. */
  actuators?: ActuatorPort;
  /** Receives the queued events on `flushEvents` (the episode recorder). Without one nothing is queued. */
  sink?: SafetyEventSink;
  eventCapacity?: number;
}

const RUN = 0;
const STOPPING = 1;
const STOPPED = 2;
const OFF = 3;
const MODE_NAMES: readonly SpineMode[] = ['run', 'stopping', 'stopped', 'off'];

// Per-channel interventions that raise an event when they begin (bit -> event kind, value slot).
const CHANNEL_BITS = [SPINE_CLAMPED, SPINE_RATE_LIMITED, SPINE_ACCEL_LIMITED, SPINE_TORQUE_LIMITED] as const;
const CHANNEL_KINDS: readonly SafetyEventKind[] = [
  'clamp_position',
  'limit_velocity',
  'limit_acceleration',
  'limit_torque',
];
const ACCEL_TOLERANCE = 1 + 1e-9;
/** A TCP slower than this is at rest for the workspace check (m/s): keeps sensor noise from tripping it. */
const TCP_REST_MPS = 1e-3;

export class Spine {
  readonly stats: SpineStats = {
    ticks: 0,
    interventions: 0,
    clamped: 0,
    rateLimited: 0,
    rejectedNonFinite: 0,
    accelLimited: 0,
    torqueLimited: 0,
    watchdogHolds: 0,
    commands: 0,
    rejectedCommands: 0,
    stops: 0,
    releases: 0,
  };
  readonly limits: CompiledLimits;
  /** Filled by the robot's sensor adapter before each tick (read by the feedback interlocks). */
  readonly feedback: SpineFeedback;

  private readonly actuators: ActuatorPort | null;
  private readonly sink: SafetyEventSink | null;
  private readonly events: SafetyEventQueue | null;
  /** Last output (the command the actuators hold) and its per-tick velocity. */
  private readonly last: Float64Array;
  private readonly vel: Float64Array;
  private readonly out: Float64Array;
  /** Reference of the previous tick: its change is the reference velocity the output brakes into. */
  private readonly refPrev: Float64Array;
  private readonly ref: Float64Array;
  /** Submitted command and where its first-order-hold ramp starts. */
  private readonly target: Float64Array;
  private readonly rampFrom: Float64Array;
  /** Active per-channel intervention bits and their event values (4 slots per channel). */
  private readonly active: Uint8Array;
  private readonly evValue: Float64Array;
  private readonly evLimit: Float64Array;
  private readonly contactSince: Float64Array;
  private readonly tcpPrev: Float64Array;
  private readonly tcpVel: Float64Array;
  private tcpStamp = Number.NaN;
  private robotActive = 0;
  private rejectChannel = 0;
  private rejectPending = false;
  private holdAgeSec = 0;
  private tSubmit = 0;
  private rampSec = 0;
  private nowSec = 0;
  private state = RUN;
  private category: StopCategory = 2;
  private primed = false;

  constructor(limits: SpineLimits, opts: SpineOptions = {}) {
    this.limits = compileLimits(limits);
    const L = this.limits;
    const n = L.n;
    if (opts.actuators && opts.actuators.channels !== n) {
      throw new TgError(
        'CONFIG_INVALID',
        `spine has ${n} channels but its actuator port has ${opts.actuators.channels}`,
      );
    }
    this.actuators = opts.actuators ?? null;
    this.sink = opts.sink ?? null;
    this.events = this.sink ? new SafetyEventQueue(opts.eventCapacity ?? 256) : null;
    this.feedback = new SpineFeedback(n, L.workspace?.sites.length ?? 0, L.regions.length);
    this.last = new Float64Array(n);
    this.vel = new Float64Array(n);
    this.out = new Float64Array(n);
    this.refPrev = new Float64Array(n);
    this.ref = new Float64Array(n);
    this.target = new Float64Array(n);
    this.rampFrom = new Float64Array(n);
    this.active = new Uint8Array(n);
    this.evValue = new Float64Array(4 * n);
    this.evLimit = new Float64Array(4 * n);
    this.contactSince = new Float64Array(L.regions.length).fill(Number.NaN);
    this.tcpPrev = new Float64Array(this.feedback.tcp.length);
    this.tcpVel = new Float64Array(this.feedback.tcp.length);
  }

  /**
   * A spine with only the embodiment's per-channel limits (no feedback interlocks): positions and speeds
   * (`channelMaxVelocity`), and accelerations as `spineLimitsFor` sets them when `accelerationTimeSec` is
   * given (`channelMaxAcceleration`).
   */
  static forEmbodiment(
    e: Embodiment,
    tickSec: number,
    opts: { maxVelocity?: ArrayLike<number>; accelerationTimeSec?: number } = {},
  ): Spine {
    return new Spine({
      lower: e.jointLimits.lower,
      upper: e.jointLimits.upper,
      maxVelocity: opts.maxVelocity ?? channelMaxVelocity(e),
      ...(opts.accelerationTimeSec !== undefined
        ? { maxAcceleration: channelMaxAcceleration(e, opts.accelerationTimeSec) }
        : {}),
      names: e.actionNames,
      tickSec,
    });
  }

  get size(): number {
    return this.limits.n;
  }

  get mode(): SpineMode {
    return MODE_NAMES[this.state]!;
  }

  /** Category of the stop in progress or in force; null while running. */
  get stopCategory(): StopCategory | null {
    return this.state === RUN ? null : this.category;
  }

  /** The command the actuators hold now (read-only view). */
  get output(): Float64Array {
    return this.out;
  }

  /** Events that did not fit the queue (the sink was not drained often enough). */
  get eventsDropped(): number {
    return this.events?.dropped ?? 0;
  }

  /**
   * Starts an episode: the last command becomes `current` (normally the measured position), motion is at
   * rest, stops are cleared and power is on. Must precede the first `check`/`tick`.
   */
  reset(current: ArrayLike<number>, tSec = 0): void {
    const L = this.limits;
    for (let i = 0; i < L.n; i++) {
      const v = current[i]!;
      this.last[i] = Number.isFinite(v) ? Math.min(L.upper[i]!, Math.max(L.lower[i]!, v)) : L.lower[i]!;
    }
    this.restart(tSec);
    this.primed = true;
  }

  /**
   * Gives a command (canonical action order) for `tick` to follow, stamped `tSec` for the watchdog. With
   * `rampSec` > 0 the spine moves to it along a straight line over that time (first-order hold), so a
   * slower layer's staircase is not a velocity step. A non-finite command is refused (returns false): the
   * spine holds until a valid one comes, and the watchdog keeps counting from the last valid one.
   */
  submit(command: ArrayLike<number>, tSec: number, rampSec = 0): boolean {
    const n = this.limits.n;
    if (command.length !== n) {
      throw new TgError('INPUT_INVALID', `spine command has ${command.length} values for ${n} channels`);
    }
    this.stats.commands++;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(command[i]!)) {
        this.stats.rejectedCommands++;
        this.rejectPending = true;
        this.rejectChannel = i;
        return false;
      }
    }
    this.rejectPending = false;
    this.rampFrom.set(this.last);
    for (let i = 0; i < n; i++) this.target[i] = command[i]!;
    this.tSubmit = tSec;
    this.rampSec = rampSec > 0 && Number.isFinite(rampSec) ? rampSec : 0;
    return true;
  }

  /**
   * One actuator period at `tSec`: applies the watchdog to the submitted command, runs every interlock on
   * the feedback, and writes the safe targets to the actuators (not while power is off). Returns SpineBit
   * bits.
   */
  tick(tSec: number): number {
    if (!this.primed) throw new TgError('CONFIG_INVALID', 'Spine.tick before Spine.reset');
    if (!this.actuators) throw new TgError('CONFIG_INVALID', 'Spine.tick needs an actuator port');
    const L = this.limits;
    let hold = 0;
    if (this.state === RUN) {
      const age = tSec - this.tSubmit;
      if (age > L.watchdog.stopAfterSec) {
        this.beginStop(2, 'watchdog_stop', tSec, 'command', age, L.watchdog.stopAfterSec);
      } else if (age > L.watchdog.holdAfterSec) {
        hold = SPINE_WATCHDOG_HOLD;
        this.holdAgeSec = age;
      }
      if (this.rejectPending) hold |= SPINE_REJECTED_NONFINITE;
    }
    const ramp = this.rampSec;
    const alpha = ramp > 0 ? Math.min(1, Math.max(0, (tSec - this.tSubmit + L.tickSec) / ramp)) : 1;
    const from = this.rampFrom;
    const to = this.target;
    const ref = this.ref;
    for (let i = 0; i < L.n; i++) ref[i] = from[i]! + alpha * (to[i]! - from[i]!);
    const mask = this.step(ref, hold, tSec);
    if (this.state !== OFF) this.actuators.write(this.out);
    return mask;
  }

  /**
   * The filter alone, for a loop that writes the actuators itself: writes the safe version of `command`
   * into `out` (one tick after the previous call) and returns SpineBit bits. No watchdog (the caller
   * supplies a command every tick).
   */
  check(command: Float64Array, out: Float64Array): number {
    if (!this.primed) throw new TgError('CONFIG_INVALID', 'Spine.check before Spine.reset');
    const n = this.limits.n;
    let hold = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(command[i]!)) {
        hold = SPINE_REJECTED_NONFINITE;
        this.rejectChannel = i;
        break;
      }
    }
    const mask = this.step(command, hold, this.nowSec + this.limits.tickSec);
    for (let i = 0; i < n; i++) out[i] = this.out[i]!;
    return mask;
  }

  /**
   * Emergency or protective stop of the given category, effective now: category 0 removes power at once
   * (the output freezes), 1 and 2 decelerate every channel at its acceleration limit to standstill, then 1
   * removes power and 2 holds. A harder category overrides a softer one in progress; never the reverse.
   */
  estop(category: StopCategory, tSec: number, reason = 'estop'): void {
    this.beginStop(category, 'estop', tSec, reason, Number.NaN, Number.NaN);
  }

  /**
   * Leaves a finished stop (not one still decelerating: returns false then). Power comes back and the
   * held command restarts from the measured position when feedback is fresh, so power-up does not move
   * the robot; the spine then holds until a new command arrives.
   */
  release(tSec: number): boolean {
    if (this.state === RUN) return true;
    if (this.state === STOPPING) return false;
    const L = this.limits;
    const fb = this.feedback;
    if (tSec - fb.stampSec <= L.feedbackTimeoutSec) {
      for (let i = 0; i < L.n; i++) {
        const q = fb.q[i]!;
        if (Number.isFinite(q)) this.last[i] = Math.min(L.upper[i]!, Math.max(L.lower[i]!, q));
      }
    }
    this.restart(tSec);
    this.stats.releases++;
    return true;
  }

  /** Delivers queued events to the sink (outside the timed tick); returns how many. */
  flushEvents(): number {
    return this.events && this.sink ? this.events.drain(this.sink) : 0;
  }

  // ---- internals ----

  private restart(tSec: number): void {
    const wasOff = this.state === OFF;
    this.vel.fill(0);
    this.refPrev.set(this.last);
    this.target.set(this.last);
    this.rampFrom.set(this.last);
    this.out.set(this.last);
    this.active.fill(0);
    this.contactSince.fill(Number.NaN);
    this.tcpStamp = Number.NaN;
    this.tcpVel.fill(0);
    this.robotActive = 0;
    this.rejectPending = false;
    this.tSubmit = tSec;
    this.rampSec = 0;
    this.nowSec = tSec;
    this.state = RUN;
    this.category = 2;
    if (wasOff || !this.primed) this.actuators?.setPower(true);
  }

  private beginStop(
    category: StopCategory,
    kind: SafetyEventKind,
    tSec: number,
    target: string,
    value: number,
    limit: number,
  ): void {
    if (this.state === OFF) return;
    if (this.state !== RUN && category >= this.category) return;
    this.stats.stops++;
    this.events?.push(kind, tSec, target, value, limit, category);
    this.category = category;
    if (category === 0 || (category === 1 && this.state === STOPPED)) this.powerOff();
    else this.state = STOPPING;
  }

  private powerOff(): void {
    this.state = OFF;
    this.vel.fill(0);
    this.actuators?.setPower(false);
  }

  /** One tick of the filter; `hold` carries robot-level hold bits from the caller. */
  private step(ref: Float64Array, hold: number, tSec: number): number {
    const L = this.limits;
    const n = L.n;
    const dt = L.tickSec;
    this.nowSec = tSec;
    this.stats.ticks++;
    if (L.needsFeedback && this.state !== OFF) this.checkFeedback(tSec);
    let mask = hold;
    const last = this.last;
    const vel = this.vel;
    const out = this.out;
    if (this.state === OFF) {
      out.set(last);
      mask |= SPINE_STOPPING;
    } else {
      const holding = this.state !== RUN || hold !== 0;
      if (this.state !== RUN) mask |= SPINE_STOPPING;
      const { lower, upper, maxVelocity, maxAcceleration, kp, kd, maxTorque, hasTorque } = L;
      const q = this.feedback.q;
      const qd = this.feedback.qd;
      const refPrev = this.refPrev;
      const evValue = this.evValue;
      const evLimit = this.evLimit;
      let standstill = true;
      for (let i = 0; i < n; i++) {
        const c = last[i]!;
        const v = vel[i]!;
        const lo = lower[i]!;
        const hi = upper[i]!;
        const a = maxAcceleration[i]!;
        const adt = a * dt;
        let bits = 0;
        let vNew: number;
        let r = c;
        let exact = false;
        if (holding) {
          // Decelerate to standstill at the channel's limit (at once where there is none).
          vNew = v > adt ? v - adt : v < -adt ? v + adt : 0;
        } else {
          r = ref[i]!;
          if (r < lo) {
            evValue[4 * i] = r;
            evLimit[4 * i] = lo;
            r = lo;
            bits |= SPINE_CLAMPED;
          } else if (r > hi) {
            evValue[4 * i] = r;
            evLimit[4 * i] = hi;
            r = hi;
            bits |= SPINE_CLAMPED;
          }
          if (hasTorque && kp[i]! > 0) {
            // Keep kp (r - q) - kd qd within +-maxTorque: the servo then never saturates.
            const k = kp[i]!;
            const centre = q[i]! + (kd[i]! * qd[i]!) / k;
            const half = maxTorque[i]! / k;
            if (r > centre + half || r < centre - half) {
              evValue[4 * i + 3] = Math.abs(k * (r - centre));
              evLimit[4 * i + 3] = maxTorque[i]!;
              r = r > centre + half ? centre + half : centre - half;
              if (r > hi) r = hi;
              else if (r < lo) r = lo;
              bits |= SPINE_TORQUE_LIMITED;
            }
          }
          const d = r - c;
          let vDes = d / dt;
          exact = true;
          if (adt < Number.POSITIVE_INFINITY) {
            // Brake into the reference (relative to its own velocity) so that a step does not ring.
            const vmaxR = maxVelocity[i]!;
            let vRef = (r - refPrev[i]!) / dt;
            vRef = vRef > vmaxR ? vmaxR : vRef < -vmaxR ? -vmaxR : vRef;
            if (d !== 0) {
              // One braking call site for both directions (see the limit braking below).
              const b = brakingSpeed(d > 0 ? d : -d, adt, dt);
              if (d > 0) {
                const vb = vRef + b;
                if (vDes > vb) {
                  vDes = vb;
                  exact = false;
                }
              } else {
                const vb = vRef - b;
                if (vDes < vb) {
                  vDes = vb;
                  exact = false;
                }
              }
            }
          }
          vNew = vDes;
          const vmax = maxVelocity[i]!;
          if (vNew > vmax || vNew < -vmax) {
            evValue[4 * i + 1] = Math.abs(vNew);
            evLimit[4 * i + 1] = vmax;
            vNew = vNew > 0 ? vmax : -vmax;
            bits |= SPINE_RATE_LIMITED;
            exact = false;
          }
          // (The tolerance keeps rounding in the braking terms from counting as an intervention.)
          if (vNew > v + adt * ACCEL_TOLERANCE || vNew < v - adt * ACCEL_TOLERANCE) {
            evValue[4 * i + 2] = Math.abs(vNew - v) / dt;
            evLimit[4 * i + 2] = a;
            vNew = vNew > v ? v + adt : v - adt;
            bits |= SPINE_ACCEL_LIMITED;
            exact = false;
          }
        }
        if (adt < Number.POSITIVE_INFINITY && vNew !== 0) {
          // Never faster than the channel can brake to rest before its position limits. Only the limit
          // ahead matters (brakingSpeed >= 0). One call site, with `d !== 0` above: both stay inlined
          // into this loop, so no double is boxed across a call on the per-tick path.
          const vMax = brakingSpeed(vNew > 0 ? hi - c : c - lo, adt, dt);
          if (vNew > vMax || vNew < -vMax) {
            if (!holding && (bits & SPINE_CLAMPED) === 0) {
              evValue[4 * i] = c;
              evLimit[4 * i] = vNew > 0 ? hi : lo;
              bits |= SPINE_CLAMPED;
            }
            vNew = vNew > 0 ? vMax : -vMax;
            exact = false;
          }
        }
        let cNew = exact ? r : c + vNew * dt;
        if (cNew > hi) cNew = hi;
        else if (cNew < lo) cNew = lo;
        const vOut = (cNew - c) / dt;
        if (vOut !== 0) standstill = false;
        vel[i] = vOut;
        last[i] = cNew;
        out[i] = cNew;
        refPrev[i] = holding ? cNew : r;
        const fresh = bits & ~this.active[i]!;
        this.active[i] = bits;
        if (fresh !== 0 && this.events) this.channelEvents(i, fresh, tSec);
        mask |= bits;
      }
      if (this.state === STOPPING && standstill) {
        if (this.category === 1) this.powerOff();
        else this.state = STOPPED;
      }
    }
    this.robotEvents(mask, tSec);
    this.count(mask);
    return mask;
  }

  private channelEvents(i: number, fresh: number, tSec: number): void {
    const name = this.limits.names[i];
    for (let k = 0; k < 4; k++) {
      if (fresh & CHANNEL_BITS[k]!) {
        this.events?.push(CHANNEL_KINDS[k]!, tSec, name, this.evValue[4 * i + k]!, this.evLimit[4 * i + k]!);
      }
    }
  }

  private robotEvents(mask: number, tSec: number): void {
    const fresh = mask & ~this.robotActive;
    this.robotActive = mask & (SPINE_REJECTED_NONFINITE | SPINE_WATCHDOG_HOLD);
    if (fresh & SPINE_REJECTED_NONFINITE) {
      this.events?.push(
        'reject_nonfinite',
        tSec,
        this.limits.names[this.rejectChannel],
        Number.NaN,
        Number.NaN,
      );
    }
    if (fresh & SPINE_WATCHDOG_HOLD) {
      this.events?.push('watchdog_hold', tSec, 'command', this.holdAgeSec, this.limits.watchdog.holdAfterSec);
    }
  }

  private count(mask: number): void {
    const s = this.stats;
    if (mask === 0) return;
    s.interventions++;
    if (mask & SPINE_CLAMPED) s.clamped++;
    if (mask & SPINE_RATE_LIMITED) s.rateLimited++;
    if (mask & SPINE_REJECTED_NONFINITE) s.rejectedNonFinite++;
    if (mask & SPINE_ACCEL_LIMITED) s.accelLimited++;
    if (mask & SPINE_TORQUE_LIMITED) s.torqueLimited++;
    if (mask & SPINE_WATCHDOG_HOLD) s.watchdogHolds++;
  }

  /** Sensor dropout, contact force and workspace interlocks; each may begin a stop. */
  private checkFeedback(tSec: number): void {
    const L = this.limits;
    const fb = this.feedback;
    const age = tSec - fb.stampSec;
    if (!(age <= L.feedbackTimeoutSec)) {
      // Without measurements the servos cannot be trusted to hold: stop, then remove power (category 1).
      this.beginStop(1, 'watchdog_stop', tSec, 'feedback', age, L.feedbackTimeoutSec);
      return;
    }
    const q = fb.q;
    const qd = fb.qd;
    for (let i = 0; i < L.n; i++) {
      if (!Number.isFinite(q[i]!) || !Number.isFinite(qd[i]!)) {
        this.beginStop(1, 'watchdog_stop', tSec, 'feedback', Number.NaN, Number.NaN);
        return;
      }
    }
    if (this.state !== RUN) return;
    const regions = L.regions;
    const forces = fb.contactForceN;
    for (let r = 0; r < regions.length; r++) {
      const f = forces[r]!;
      if (!(f >= 0) || f === Number.POSITIVE_INFINITY) {
        this.beginStop(1, 'watchdog_stop', tSec, 'feedback', f, Number.NaN);
        return;
      }
      if (f <= L.contactThresholdN) {
        this.contactSince[r] = Number.NaN;
        continue;
      }
      if (Number.isNaN(this.contactSince[r]!)) this.contactSince[r] = tSec;
      const region = regions[r]!;
      const limit = tSec - this.contactSince[r]! <= L.transientSec ? region.transientN : region.quasiStaticN;
      if (f > limit) {
        this.beginStop(2, 'contact_force', tSec, region.name, f, limit);
        return;
      }
    }
    if (L.workspace) this.checkWorkspace(tSec);
  }

  /**
   * Stops (category 2) when a TCP moving outward would come to rest outside the box shrunk by the
   * margin: the rest point is the TCP plus its velocity times half the time the command needs to stop
   * (constant deceleration).
   */
  private checkWorkspace(tSec: number): void {
    const ws = this.limits.workspace!;
    const fb = this.feedback;
    const tcp = fb.tcp;
    const dtFb = fb.stampSec - this.tcpStamp;
    if (dtFb > 0) {
      for (let k = 0; k < tcp.length; k++) this.tcpVel[k] = (tcp[k]! - this.tcpPrev[k]!) / dtFb;
    }
    if (!(dtFb === 0)) {
      this.tcpPrev.set(tcp);
      this.tcpStamp = fb.stampSec;
    }
    let tStop = 0;
    const acc = this.limits.maxAcceleration;
    for (let i = 0; i < this.limits.n; i++) {
      const t = Math.abs(this.vel[i]!) / acc[i]!;
      if (t > tStop) tStop = t;
    }
    const half = 0.5 * tStop;
    const m = ws.marginM;
    for (let s = 0; s < ws.sites.length; s++) {
      for (let k = 0; k < 3; k++) {
        const p = tcp[3 * s + k]!;
        if (!Number.isFinite(p)) {
          this.beginStop(1, 'watchdog_stop', tSec, 'feedback', p, Number.NaN);
          return;
        }
        const v = this.tcpVel[3 * s + k]!;
        const rest = p + v * half;
        const lo = ws.min[k]! + m;
        const hi = ws.max[k]! - m;
        if ((v < -TCP_REST_MPS && rest < lo) || (v > TCP_REST_MPS && rest > hi)) {
          this.beginStop(2, 'workspace', tSec, ws.sites[s]!, rest, rest < lo ? lo : hi);
          return;
        }
      }
    }
  }
}
