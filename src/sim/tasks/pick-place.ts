/**
 * Factory task: pick the cube off the table and place it in the bin (src/sim/scenes/pick-place.ts).
 *
 * Initial states: the arm at home (joints optionally jittered), the gripper open, the cube anywhere in the
 * layout's spawn region at any yaw in its range. Success: the cube's centre inside the bin's walls, below
 * the rim. Metrics: the cube's horizontal distance to the bin centre, its height above the table, the
 * highest it was lifted over the episode.
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import type { Rng } from '../rng.ts';
import { binBox, PICK_PLACE_LAYOUT, type PickPlaceLayout } from '../scenes/pick-place.ts';
import { insideOpenBox, type OpenBox } from '../scenes/props.ts';
import type { SceneWorld } from '../scenes/scene-world.ts';
import { BaseTask, jitteredHome, uniform, yawQuat } from './task.ts';

export interface PickPlaceState {
  /** Canonical arm state (joints, gripper opening). */
  arm: number[];
  /** Cube centre on the table (m, world) and yaw (rad). */
  cubeXY: [number, number];
  cubeYaw: number;
}

export interface PickPlaceOptions {
  layout?: PickPlaceLayout;
  /** The arm whose home pose starts each episode (default arm7). */
  arm?: Embodiment;
  /** Arm joint jitter around home (rad, default 0: every episode starts from the exact home pose). */
  jointJitterRad?: number;
}

export class PickPlaceTask extends BaseTask<PickPlaceState> {
  readonly name = 'factory/pick-place';
  readonly layout: PickPlaceLayout;
  readonly arm: Embodiment;
  private readonly bin: OpenBox;
  private readonly jointJitterRad: number;
  private liftedM = 0;
  private cubeAdr = -1;
  private readonly p = new Float64Array(3);

  constructor(opts: PickPlaceOptions = {}) {
    super();
    this.layout = opts.layout ?? PICK_PLACE_LAYOUT;
    this.arm = opts.arm ?? loadEmbodiment('arm7');
    this.bin = binBox(this.layout);
    this.jointJitterRad = opts.jointJitterRad ?? 0;
  }

  sampleInitialState(rng: Rng): PickPlaceState {
    const { spawn } = this.layout;
    // Draw order (x, y, yaw) is part of the seed contract: drills recorded before this task existed
    // replay the same cube poses.
    const x = uniform(rng, spawn.xMin, spawn.xMax);
    const y = uniform(rng, spawn.yMin, spawn.yMax);
    const yaw = (2 * rng.next() - 1) * spawn.yawMax;
    return { arm: this.home(rng), cubeXY: [x, y], cubeYaw: yaw };
  }

  apply(world: SceneWorld, state: PickPlaceState): void {
    world.resetData();
    world.setArmState(state.arm);
    const { cubeSizeM, tableTopZ } = this.layout;
    world.setFreePose(
      'cube',
      [state.cubeXY[0], state.cubeXY[1], tableTopZ + cubeSizeM / 2],
      yawQuat(state.cubeYaw),
    );
    world.forward();
    this.cubeAdr = world.qposAdr('cube');
    this.liftedM = 0;
  }

  /** Cube centre (m, world) and, when `quat` is given, its orientation (w, x, y, z). */
  cubePose(world: SceneWorld, pos: Float64Array, quat?: Float64Array): void {
    if (this.cubeAdr < 0) this.cubeAdr = world.qposAdr('cube');
    world.freePoseAt(this.cubeAdr, pos, quat);
  }

  override update(world: SceneWorld): void {
    this.cubePose(world, this.p);
    const lifted = this.p[2]! - this.layout.tableTopZ - this.layout.cubeSizeM / 2;
    if (lifted > this.liftedM) this.liftedM = lifted;
  }

  /** Whether the cube's centre lies inside the bin's walls, above its floor and below its rim. */
  success(world: SceneWorld): boolean {
    this.cubePose(world, this.p);
    return insideOpenBox(this.bin, this.layout.tableTopZ, this.p);
  }

  metrics(world: SceneWorld): Record<string, number> {
    this.cubePose(world, this.p);
    const { bin, tableTopZ } = this.layout;
    return {
      cubeToBinM: Math.hypot(this.p[0]! - bin.x, this.p[1]! - bin.y),
      cubeHeightM: this.p[2]! - tableTopZ,
      maxLiftM: this.liftedM,
    };
  }

  private home(rng: Rng): number[] {
    const { home, jointNames } = this.arm;
    return this.jointJitterRad > 0
      ? jitteredHome(home, jointNames.length, rng, this.jointJitterRad)
      : [...home];
  }
}
