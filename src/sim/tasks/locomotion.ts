/**
 * Locomotion tasks for the humanoid in the locomotion scene (src/sim/scenes/locomotion.ts):
 *
 * - `locomotion/stand`: stay upright for `durationSec` from a perturbed stand pose (joints jittered, placed
 *   with a random heading). Success: no fall, the time has passed, the pelvis within `radiusM` of its start.
 * - `locomotion/push-recovery`: the same, while seeded pushes (force, direction, start time, duration)
 *   are applied to the torso through `xfrc_applied`. Success: no fall and the pelvis ends within
 *   `radiusM` (default 1 m) of its start: recovery steps are allowed, walking away is not.
 * - `locomotion/walk-route`: pass through seeded waypoints, in order, within `timeLimitSec`. Metrics:
 *   distance walked, average speed, falls, path error (pelvis distance from the route's polyline).
 *
 * A fall is the pelvis below `fallHeightM` or tilted more than `fallTiltRad` from upright; it is latched
 * (the robot does not get up by itself). The judge reads the simulator's true state, never the robot's
 * estimate. All randomness comes from the generator a caller passes (BaseTask).
 */
import { TgError } from '../../errors/index.ts';
import { placeMarkers } from '../scenes/locomotion.ts';
import type { SceneWorld } from '../scenes/scene-world.ts';
import type { Rng } from '../world.ts';
import { BaseTask, planarDistance, uniform, yawQuat } from './task.ts';

/** The robot's standing keyframe, where every episode starts. */
const STAND_KEY = 'stand';

export interface LocomotionStart {
  /** Pelvis start position on the floor (m, world x/y) and heading (rad about z). */
  x: number;
  y: number;
  yaw: number;
  /** Offsets added to the keyframe's leg/waist/arm joints (rad), canonical joint order. */
  jointOffsets: number[];
}

export interface LocomotionTaskOptions {
  /** Fall when the pelvis is below this height (m, default 0.55). */
  fallHeightM?: number;
  /** Fall when the pelvis z axis tilts more than this from vertical (rad, default 0.7). */
  fallTiltRad?: number;
  /** Joint jitter at the start (rad, default 0.02); leg joints are jittered symmetrically in pairs. */
  jointJitterRad?: number;
  /** Start position range around the origin (m, each axis, default 0.2). */
  startShiftM?: number;
}

/** Shared by the three tasks: start states, fall detection, pelvis tracking. */
abstract class LocomotionTask<S extends { start: LocomotionStart }> extends BaseTask<S> {
  readonly fallHeightM: number;
  readonly fallTiltRad: number;
  private readonly jitter: number;
  private readonly shift: number;
  /** Latched once the robot fell; `fallSec` is when. */
  fallen = false;
  fallSec = Number.NaN;
  maxTiltRad = 0;
  protected startSec = 0;
  protected readonly startPos = new Float64Array(3);
  protected readonly pelvisPos = new Float64Array(3);
  private readonly zAxis = new Float64Array(3);
  private pelvisId = -1;

  constructor(opts: LocomotionTaskOptions) {
    super();
    this.fallHeightM = opts.fallHeightM ?? 0.55;
    this.fallTiltRad = opts.fallTiltRad ?? 0.7;
    this.jitter = opts.jointJitterRad ?? 0.02;
    this.shift = opts.startShiftM ?? 0.2;
  }

  protected sampleStart(rng: Rng, jointCount: number): LocomotionStart {
    const x = uniform(rng, -this.shift, this.shift);
    const y = uniform(rng, -this.shift, this.shift);
    const yaw = uniform(rng, -Math.PI, Math.PI);
    const jointOffsets = Array.from({ length: jointCount }, () => uniform(rng, -this.jitter, this.jitter));
    return { x, y, yaw, jointOffsets };
  }

  /** Resets to the stand keyframe, then moves and turns the robot and jitters its joints. */
  protected applyStart(world: SceneWorld, start: LocomotionStart, jointNames: readonly string[]): void {
    world.resetData();
    const key = world.mj.mj_name2id(world.model, world.mj.mjtObj.mjOBJ_KEY.value, STAND_KEY);
    if (key < 0)
      throw new TgError('MODEL_INVALID', `scene '${world.scene.name}' has no '${STAND_KEY}' keyframe`);
    world.mj.mj_resetDataKeyframe(world.model, world.data, key);
    const qpos = world.qpos;
    const z = qpos[world.qposAdr('root') + 2]!;
    world.setFreePose('root', [start.x, start.y, z], yawQuat(start.yaw));
    const ctrl = world.ctrl;
    for (let i = 0; i < jointNames.length && i < start.jointOffsets.length; i++) {
      const adr = world.qposAdr(jointNames[i]!);
      qpos[adr] = qpos[adr]! + start.jointOffsets[i]!;
      ctrl[world.id('actuator', jointNames[i]!)] = qpos[adr]!;
    }
    world.forward();
    // The jitter may have lifted a sole or pushed it into the floor: set the lowest sole on the floor
    // (the sole sites lie on the soles' surfaces).
    const sole = new Float64Array(3);
    let lowest = Infinity;
    for (const s of ['left_sole', 'right_sole']) {
      world.sitePos(world.id('site', s), sole);
      lowest = Math.min(lowest, sole[2]!);
    }
    qpos[world.qposAdr('root') + 2] = qpos[world.qposAdr('root') + 2]! - lowest;
    world.forward();
    this.pelvisId = world.id('body', 'pelvis');
    world.bodyPos(this.pelvisId, this.startPos);
    this.startSec = world.simTimeSec;
    this.fallen = false;
    this.fallSec = Number.NaN;
    this.maxTiltRad = 0;
  }

  override update(world: SceneWorld): void {
    world.bodyPos(this.pelvisId, this.pelvisPos);
    world.bodyZAxis(this.pelvisId, this.zAxis);
    const tilt = Math.acos(Math.max(-1, Math.min(1, this.zAxis[2]!)));
    if (tilt > this.maxTiltRad) this.maxTiltRad = tilt;
    if (!this.fallen && (this.pelvisPos[2]! < this.fallHeightM || tilt > this.fallTiltRad)) {
      this.fallen = true;
      this.fallSec = world.simTimeSec;
    }
  }

  /** Horizontal distance of the pelvis from where it started (m). */
  protected driftM(world: SceneWorld): number {
    world.bodyPos(this.pelvisId, this.pelvisPos);
    return planarDistance(this.pelvisPos[0]!, this.pelvisPos[1]!, this.startPos[0]!, this.startPos[1]!);
  }

  protected elapsedSec(world: SceneWorld): number {
    return world.simTimeSec - this.startSec;
  }
}

// ---------------------------------------------------------------------------------------------------------

export interface StandState {
  start: LocomotionStart;
}

export interface StandTaskOptions extends LocomotionTaskOptions {
  /** How long to stay up (s, default 5). */
  durationSec?: number;
  /** Largest allowed pelvis drift from the start (m, default 0.1). */
  radiusM?: number;
}

/** Standing for a time, within a radius of the start: `stand`, and `push-recovery` with pushes added. */
abstract class UprightTask<S extends StandState> extends LocomotionTask<S> {
  readonly durationSec: number;
  readonly radiusM: number;
  protected readonly jointNames: readonly string[];

  constructor(jointNames: readonly string[], opts: StandTaskOptions = {}) {
    super(opts);
    this.jointNames = jointNames;
    this.durationSec = opts.durationSec ?? 5;
    this.radiusM = opts.radiusM ?? 0.1;
    if (!(this.durationSec > 0))
      throw new TgError('CONFIG_INVALID', `locomotion task durationSec ${this.durationSec} must be > 0`);
  }

  apply(world: SceneWorld, state: S): void {
    this.applyStart(world, state.start, this.jointNames);
    placeMarkers(world, []);
  }

  success(world: SceneWorld): boolean {
    return (
      !this.fallen && this.elapsedSec(world) >= this.durationSec - 1e-9 && this.driftM(world) <= this.radiusM
    );
  }

  metrics(world: SceneWorld): Record<string, number> {
    const t = this.elapsedSec(world);
    return {
      fell: this.fallen ? 1 : 0,
      uprightSec: this.fallen ? this.fallSec - this.startSec : t,
      maxTiltRad: this.maxTiltRad,
      driftM: this.driftM(world),
    };
  }
}

export class StandTask extends UprightTask<StandState> {
  readonly name = 'locomotion/stand';

  sampleInitialState(rng: Rng): StandState {
    return { start: this.sampleStart(rng, this.jointNames.length) };
  }
}

// ---------------------------------------------------------------------------------------------------------

export interface Push {
  /** Start, relative to the episode start (s). */
  atSec: number;
  durationSec: number;
  forceN: number;
  /** Direction in the world's horizontal plane (rad from +x). */
  dirRad: number;
}

export interface PushRecoveryState {
  start: LocomotionStart;
  pushes: Push[];
}

export interface PushRecoveryOptions extends StandTaskOptions {
  /** Body the pushes act on (default 'torso', at its centre of mass). */
  body?: string;
  /** Pushes per episode (default 3). */
  count?: number;
  /** Force range (N, default 100-200). */
  forceRangeN?: [number, number];
  /** Push duration (s, default 0.1). */
  pushSec?: number;
  /** First push at (s, default 1), then one every `spacingSec` (default 2.5) plus up to 0.5 s of jitter. */
  firstSec?: number;
  spacingSec?: number;
}

export class PushRecoveryTask extends UprightTask<PushRecoveryState> {
  readonly name = 'locomotion/push-recovery';
  readonly body: string;
  readonly count: number;
  readonly forceRangeN: [number, number];
  readonly pushSec: number;
  private readonly firstSec: number;
  private readonly spacingSec: number;
  private pushes: Push[] = [];
  private bodyId = -1;
  private applied = 0;
  private survivedImpulse = 0;
  private maxImpulse = 0;

  constructor(jointNames: readonly string[], opts: PushRecoveryOptions = {}) {
    const count = opts.count ?? 3;
    const firstSec = opts.firstSec ?? 1;
    const spacingSec = opts.spacingSec ?? 2.5;
    // The episode lasts until the last push has had time to settle.
    super(jointNames, {
      ...opts,
      radiusM: opts.radiusM ?? 1.0,
      durationSec: opts.durationSec ?? firstSec + count * spacingSec + 0.5,
    });
    this.body = opts.body ?? 'torso';
    this.count = count;
    this.forceRangeN = opts.forceRangeN ?? [100, 200];
    this.pushSec = opts.pushSec ?? 0.1;
    this.firstSec = firstSec;
    this.spacingSec = spacingSec;
    const [lo, hi] = this.forceRangeN;
    if (!(lo >= 0 && hi >= lo))
      throw new TgError('CONFIG_INVALID', `push forceRangeN [${lo}, ${hi}] is not a range`);
    if (!(this.pushSec > 0)) throw new TgError('CONFIG_INVALID', `push pushSec ${this.pushSec} must be > 0`);
  }

  sampleInitialState(rng: Rng): PushRecoveryState {
    const start = this.sampleStart(rng, this.jointNames.length);
    const pushes: Push[] = [];
    for (let k = 0; k < this.count; k++) {
      pushes.push({
        atSec: this.firstSec + k * this.spacingSec + uniform(rng, 0, 0.5),
        durationSec: this.pushSec,
        forceN: uniform(rng, this.forceRangeN[0], this.forceRangeN[1]),
        dirRad: uniform(rng, -Math.PI, Math.PI),
      });
    }
    return { start, pushes };
  }

  override apply(world: SceneWorld, state: PushRecoveryState): void {
    super.apply(world, state);
    this.pushes = state.pushes.map((p) => ({ ...p }));
    this.bodyId = world.id('body', this.body);
    this.applied = 0;
    this.survivedImpulse = 0;
    this.maxImpulse = 0;
    world.xfrcApplied.fill(0);
  }

  /** The push acting at the current time, if any. */
  activePush(world: SceneWorld): Push | undefined {
    const t = this.elapsedSec(world);
    return this.pushes.find((p) => t >= p.atSec && t < p.atSec + p.durationSec);
  }

  override update(world: SceneWorld): void {
    super.update(world);
    const t = this.elapsedSec(world);
    // xfrc_applied holds for the next step: write the force of the step that starts now.
    const f = world.xfrcApplied;
    const o = 6 * this.bodyId;
    const p = this.activePush(world);
    f[o] = p ? p.forceN * Math.cos(p.dirRad) : 0;
    f[o + 1] = p ? p.forceN * Math.sin(p.dirRad) : 0;
    f[o + 2] = 0;
    // Count each push once it is over; it was survived if the robot is up one spacing later (or at the end).
    this.applied = this.pushes.filter((q) => t >= q.atSec + q.durationSec).length;
    for (const q of this.pushes) {
      const impulse = q.forceN * q.durationSec;
      if (t >= q.atSec + q.durationSec && impulse > this.maxImpulse) this.maxImpulse = impulse;
      const settled = t >= q.atSec + q.durationSec + 1.5;
      if (settled && !this.fallen && impulse > this.survivedImpulse) this.survivedImpulse = impulse;
    }
  }

  override metrics(world: SceneWorld): Record<string, number> {
    return {
      ...super.metrics(world),
      pushesApplied: this.applied,
      maxImpulseNs: this.maxImpulse,
      maxSurvivedImpulseNs: this.survivedImpulse,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------

export interface WalkRouteState {
  start: LocomotionStart;
  /** Waypoints (m, world x/y), in order. */
  waypoints: [number, number][];
}

export interface WalkRouteOptions extends LocomotionTaskOptions {
  /** Waypoints per route (default 3, at most the scene's markers). */
  waypoints?: number;
  /** Leg length range between waypoints (m, default 0.8-1.2). */
  legM?: [number, number];
  /** Largest heading change between legs (rad, default 0.6). */
  maxTurnRad?: number;
  /** A waypoint is reached when the pelvis passes within this distance (m, default 0.25). */
  reachM?: number;
  /** Time limit (s, default 40). */
  timeLimitSec?: number;
}

export class WalkRouteTask extends LocomotionTask<WalkRouteState> {
  readonly name = 'locomotion/walk-route';
  readonly reachM: number;
  readonly timeLimitSec: number;
  private readonly count: number;
  private readonly legM: [number, number];
  private readonly maxTurn: number;
  private readonly jointNames: readonly string[];
  private route: [number, number][] = [];
  private reached = 0;
  private reachedSec = Number.NaN;
  private distance = 0;
  private errSum = 0;
  private errMax = 0;
  private samples = 0;
  private readonly last = new Float64Array(3);
  private nextSampleSec = 1;

  constructor(jointNames: readonly string[], opts: WalkRouteOptions = {}) {
    super({ startShiftM: 0, ...opts });
    this.jointNames = jointNames;
    this.count = opts.waypoints ?? 3;
    this.legM = opts.legM ?? [0.8, 1.2];
    this.maxTurn = opts.maxTurnRad ?? 0.6;
    this.reachM = opts.reachM ?? 0.25;
    this.timeLimitSec = opts.timeLimitSec ?? 40;
    if (!(this.count >= 1))
      throw new TgError('CONFIG_INVALID', `walk-route waypoints ${this.count} must be >= 1`);
  }

  sampleInitialState(rng: Rng): WalkRouteState {
    const start = this.sampleStart(rng, this.jointNames.length);
    start.yaw = uniform(rng, -Math.PI, Math.PI);
    const waypoints: [number, number][] = [];
    let x = start.x;
    let y = start.y;
    let heading = start.yaw;
    for (let k = 0; k < this.count; k++) {
      if (k > 0) heading += uniform(rng, -this.maxTurn, this.maxTurn);
      const len = uniform(rng, this.legM[0], this.legM[1]);
      x += len * Math.cos(heading);
      y += len * Math.sin(heading);
      waypoints.push([x, y]);
    }
    return { start, waypoints };
  }

  apply(world: SceneWorld, state: WalkRouteState): void {
    this.applyStart(world, state.start, this.jointNames);
    this.route = [
      [this.startPos[0]!, this.startPos[1]!],
      ...state.waypoints.map((p): [number, number] => [p[0], p[1]]),
    ];
    placeMarkers(world, state.waypoints);
    this.reached = 0;
    this.reachedSec = Number.NaN;
    this.distance = 0;
    this.errSum = 0;
    this.errMax = 0;
    this.samples = 0;
    this.last.set(this.startPos);
    this.nextSampleSec = 1;
  }

  /** Route length from the start through every waypoint (m). */
  routeLengthM(): number {
    let len = 0;
    for (let k = 1; k < this.route.length; k++) {
      len += Math.hypot(this.route[k]![0] - this.route[k - 1]![0], this.route[k]![1] - this.route[k - 1]![1]);
    }
    return len;
  }

  override update(world: SceneWorld): void {
    super.update(world);
    const p = this.pelvisPos;
    // Distance is measured on the pelvis sampled once a second: a gait's side-to-side sway (one period is
    // two steps, about a second) would otherwise count as distance walked.
    const t = this.elapsedSec(world);
    if (t >= this.nextSampleSec) {
      this.distance += planarDistance(p[0]!, p[1]!, this.last[0]!, this.last[1]!);
      this.last.set(p);
      this.nextSampleSec += 1;
    }
    const n = this.route.length - 1;
    if (this.reached < n) {
      const wp = this.route[this.reached + 1]!;
      if (planarDistance(p[0]!, p[1]!, wp[0], wp[1]) <= this.reachM) {
        this.reached++;
        if (this.reached === n) this.reachedSec = this.elapsedSec(world);
      }
    }
    if (this.reached < n || Number.isNaN(this.reachedSec) || this.elapsedSec(world) <= this.reachedSec) {
      const e = distanceToPolyline(p[0]!, p[1]!, this.route);
      this.errSum += e;
      this.samples++;
      if (e > this.errMax) this.errMax = e;
    }
  }

  /** Waypoints reached so far, in order. */
  get waypointsReached(): number {
    return this.reached;
  }

  success(_world: SceneWorld): boolean {
    return !this.fallen && this.reached === this.route.length - 1 && this.reachedSec <= this.timeLimitSec;
  }

  /**
   * `timeSec`: until the last waypoint was reached (or so far); `distanceM`: walked so far (pelvis, 1 s
   * samples, plus the stretch since the last sample); `speedMps` = distanceM over the elapsed time.
   */
  metrics(world: SceneWorld): Record<string, number> {
    const elapsed = this.elapsedSec(world);
    const t = Number.isNaN(this.reachedSec) ? elapsed : this.reachedSec;
    world.bodyPos(world.id('body', 'pelvis'), this.pelvisPos);
    const p = this.pelvisPos;
    const distance = this.distance + planarDistance(p[0]!, p[1]!, this.last[0]!, this.last[1]!);
    return {
      routeLengthM: this.routeLengthM(),
      distanceM: distance,
      timeSec: t,
      speedMps: elapsed > 0 ? distance / elapsed : 0,
      falls: this.fallen ? 1 : 0,
      waypointsReached: this.reached,
      pathErrorM: this.samples > 0 ? this.errSum / this.samples : 0,
      maxPathErrorM: this.errMax,
    };
  }
}

/** Distance from a point to a polyline (m). */
export function distanceToPolyline(
  x: number,
  y: number,
  pts: readonly (readonly [number, number])[],
): number {
  let best = Infinity;
  for (let k = 1; k < pts.length; k++) {
    const a = pts[k - 1]!;
    const b = pts[k]!;
    const ax = a[0];
    const ay = a[1];
    const dx = b[0] - ax;
    const dy = b[1] - ay;
    const l2 = dx * dx + dy * dy;
    const u = l2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / l2)) : 0;
    const d = planarDistance(x, y, ax + u * dx, ay + u * dy);
    if (d < best) best = d;
  }
  return best;
}
