/**
 * Mall task: serve the cup on the counter to the marked hand-over spot (src/sim/scenes/serve-cup.ts).
 *
 * Initial states: the arm at home (joints optionally jittered), the cup upright anywhere in its spawn
 * region at any yaw, the hand-over spot anywhere in its region. Success: the cup stands on the counter,
 * upright (tilt under `maxTiltRad`), its centre inside the marked spot, and the robot has let go (the
 * hand is clear above the rim). Metrics: the cup's distance to the spot centre, its tilt at the end and
 * the largest tilt over the episode (what a full cup would have spilled at), the hand's clearance.
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import type { Rng } from '../rng.ts';
import { tiltRad } from '../scenes/props.ts';
import type { SceneWorld } from '../scenes/scene-world.ts';
import { SERVE_CUP_LAYOUT, type ServeCupLayout } from '../scenes/serve-cup.ts';
import { BaseTask, jitteredHome, uniform, yawQuat } from './task.ts';

export interface ServeCupState {
  /** Canonical arm state (joints, gripper opening). */
  arm: number[];
  /** Cup centre on the counter (m, world) and yaw (rad). */
  cupXY: [number, number];
  cupYaw: number;
  /** Hand-over spot centre on the counter (m, world). */
  spotXY: [number, number];
}

export interface ServeCupOptions {
  layout?: ServeCupLayout;
  /** The arm whose home pose starts each episode (default arm7). */
  arm?: Embodiment;
  /** Arm joint jitter around home (rad, default 0.05). */
  jointJitterRad?: number;
  /** Largest tilt that counts as upright (rad, default 0.15). */
  maxTiltRad?: number;
  /** The hand counts as clear this far above the rim (m, default 0.03). */
  handClearanceM?: number;
}

export class ServeCupTask extends BaseTask<ServeCupState> {
  readonly name = 'mall/serve-cup';
  readonly layout: ServeCupLayout;
  readonly arm: Embodiment;
  readonly maxTiltRad: number;
  private readonly handClearanceM: number;
  private readonly jointJitterRad: number;
  private spot: [number, number] = [0, 0];
  private maxTilt = 0;
  private readonly p = new Float64Array(3);
  private readonly q = new Float64Array(4);
  private readonly site = new Float64Array(3);
  private readonly mat = new Float64Array(9);

  constructor(opts: ServeCupOptions = {}) {
    super();
    this.layout = opts.layout ?? SERVE_CUP_LAYOUT;
    this.arm = opts.arm ?? loadEmbodiment('arm7');
    this.jointJitterRad = opts.jointJitterRad ?? 0.05;
    this.maxTiltRad = opts.maxTiltRad ?? 0.15;
    this.handClearanceM = opts.handClearanceM ?? 0.03;
  }

  sampleInitialState(rng: Rng): ServeCupState {
    const { cupSpawn: c, spotRegion: s } = this.layout;
    const cupXY: [number, number] = [uniform(rng, c.xMin, c.xMax), uniform(rng, c.yMin, c.yMax)];
    const cupYaw = uniform(rng, -c.yawMax, c.yawMax);
    const spotXY: [number, number] = [uniform(rng, s.xMin, s.xMax), uniform(rng, s.yMin, s.yMax)];
    const arm = jitteredHome(this.arm.home, this.arm.jointNames.length, rng, this.jointJitterRad);
    return { arm, cupXY, cupYaw, spotXY };
  }

  apply(world: SceneWorld, state: ServeCupState): void {
    world.resetData();
    world.setArmState(state.arm);
    const z0 = this.layout.counterTopZ;
    world.setFreePose('cup', [state.cupXY[0], state.cupXY[1], z0], yawQuat(state.cupYaw));
    const mocap = (world.model.body_mocapid as Int32Array)[world.id('body', 'handover')]!;
    const mp = world.mocapPos;
    mp[3 * mocap] = state.spotXY[0];
    mp[3 * mocap + 1] = state.spotXY[1];
    mp[3 * mocap + 2] = z0;
    world.forward();
    this.spot = [state.spotXY[0], state.spotXY[1]];
    this.maxTilt = 0;
  }

  /** The cup's bottom centre (m, world) and, when `quat` is given, its orientation (w, x, y, z). */
  cupPose(world: SceneWorld, pos: Float64Array, quat?: Float64Array): void {
    world.freePose('cup', pos, quat);
  }

  /** Centre of the marked hand-over spot (m, world): x, y, counter height. */
  spotCentre(out: Float64Array): void {
    out[0] = this.spot[0];
    out[1] = this.spot[1];
    out[2] = this.layout.counterTopZ;
  }

  override update(world: SceneWorld): void {
    this.cupPose(world, this.p, this.q);
    const t = tiltRad(this.q);
    if (t > this.maxTilt) this.maxTilt = t;
  }

  success(world: SceneWorld): boolean {
    const m = this.metrics(world);
    return (
      m.spotErrorM! < this.layout.spotRadiusM &&
      m.tiltRad! < this.maxTiltRad &&
      Math.abs(m.cupHeightM!) < 0.005 &&
      m.handClearanceM! > this.handClearanceM
    );
  }

  metrics(world: SceneWorld): Record<string, number> {
    this.cupPose(world, this.p, this.q);
    world.gripSite(this.site, this.mat);
    const rimZ = this.p[2]! + this.layout.cup.heightM;
    const horizontal = Math.hypot(this.site[0]! - this.p[0]!, this.site[1]! - this.p[1]!);
    // Clear when above the rim, or well to the side of the cup.
    const clearance =
      horizontal > this.layout.cup.radiusM + 0.05 ? Number.POSITIVE_INFINITY : this.site[2]! - rimZ;
    return {
      spotErrorM: Math.hypot(this.p[0]! - this.spot[0], this.p[1]! - this.spot[1]),
      tiltRad: tiltRad(this.q),
      maxTiltRad: this.maxTilt,
      cupHeightM: this.p[2]! - this.layout.counterTopZ,
      handClearanceM: Math.min(clearance, 1),
    };
  }
}
