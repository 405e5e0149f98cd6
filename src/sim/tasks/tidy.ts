/**
 * Home task: put every object scattered on the table into the storage box (src/sim/scenes/tidy.ts).
 *
 * Initial states: the arm at home (joints optionally jittered); each object upright at a random yaw,
 * anywhere in the scatter region but at least `minSeparationM` from the others (rejection sampling from
 * the same generator, so still one list per seed). Success: every object's centre inside the box.
 * Metrics: how many objects are in the box, and the fraction.
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { Rng } from '../rng.ts';
import { insideOpenBox } from '../scenes/props.ts';
import type { SceneWorld } from '../scenes/scene-world.ts';
import { objectHalfHeight, TIDY_LAYOUT, type TidyLayout } from '../scenes/tidy.ts';
import { BaseTask, jitteredHome, uniform, yawQuat } from './task.ts';

export interface TidyState {
  /** Canonical arm state (joints, gripper opening). */
  arm: number[];
  /** Per object, in layout order: centre on the table (m, world) and yaw (rad). */
  objects: Array<{ xy: [number, number]; yaw: number }>;
}

export interface TidyOptions {
  layout?: TidyLayout;
  /** The arm whose home pose starts each episode (default arm7). */
  arm?: Embodiment;
  /** Arm joint jitter around home (rad, default 0.05). */
  jointJitterRad?: number;
}

const MAX_DRAWS = 1000;

export class TidyTask extends BaseTask<TidyState> {
  readonly name = 'home/tidy';
  readonly layout: TidyLayout;
  readonly arm: Embodiment;
  private readonly jointJitterRad: number;
  private readonly p = new Float64Array(3);

  constructor(opts: TidyOptions = {}) {
    super();
    this.layout = opts.layout ?? TIDY_LAYOUT;
    this.arm = opts.arm ?? loadEmbodiment('arm7');
    this.jointJitterRad = opts.jointJitterRad ?? 0.05;
  }

  sampleInitialState(rng: Rng): TidyState {
    const { scatter: r, minSeparationM } = this.layout;
    const objects: TidyState['objects'] = [];
    for (const o of this.layout.objects) {
      let placed = false;
      for (let k = 0; k < MAX_DRAWS && !placed; k++) {
        const xy: [number, number] = [uniform(rng, r.xMin, r.xMax), uniform(rng, r.yMin, r.yMax)];
        const yaw = uniform(rng, -Math.PI, Math.PI);
        if (objects.every((q) => Math.hypot(q.xy[0] - xy[0], q.xy[1] - xy[1]) >= minSeparationM)) {
          objects.push({ xy, yaw });
          placed = true;
        }
      }
      if (!placed) {
        throw new TgError(
          'CONFIG_INVALID',
          `tidy layout: cannot scatter '${o.name}' ${minSeparationM} m from the others in the scatter region`,
        );
      }
    }
    const arm = jitteredHome(this.arm.home, this.arm.jointNames.length, rng, this.jointJitterRad);
    return { arm, objects };
  }

  apply(world: SceneWorld, state: TidyState): void {
    const { objects, tableTopZ } = this.layout;
    if (state.objects.length !== objects.length) {
      throw new TgError(
        'INPUT_INVALID',
        `tidy state has ${state.objects.length} objects, the layout ${objects.length}`,
      );
    }
    world.resetData();
    world.setArmState(state.arm);
    objects.forEach((o, i) => {
      const s = state.objects[i]!;
      world.setFreePose(o.name, [s.xy[0], s.xy[1], tableTopZ + objectHalfHeight(o)], yawQuat(s.yaw));
    });
    world.forward();
  }

  /** An object's centre (m, world) and, when `quat` is given, its orientation (w, x, y, z). */
  objectPose(world: SceneWorld, name: string, pos: Float64Array, quat?: Float64Array): void {
    world.freePose(name, pos, quat);
  }

  inBox(world: SceneWorld, name: string): boolean {
    world.freePose(name, this.p);
    return insideOpenBox(this.layout.box, this.layout.tableTopZ, this.p);
  }

  success(world: SceneWorld): boolean {
    return this.layout.objects.every((o) => this.inBox(world, o.name));
  }

  metrics(world: SceneWorld): Record<string, number> {
    const inBox = this.layout.objects.filter((o) => this.inBox(world, o.name)).length;
    return { objectsInBox: inBox, fractionInBox: inBox / this.layout.objects.length };
  }
}
