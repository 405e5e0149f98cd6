/**
 * Scripted solution of the home task (src/sim/tasks/tidy.ts): one pick-and-place per object still outside
 * the box, each released over its own slot along the box's long side so that nothing lands on anything
 * else. Objects are taken in layout order; the skill moves on (`retarget`) without stopping the arm.
 */
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { objectHalfHeight, type TidyObject } from '../../sim/scenes/tidy.ts';
import type { TidyTask } from '../../sim/tasks/tidy.ts';
import type { ScriptedSkill } from '../episode-loop.ts';
import { PickPlaceSkill, type PickPlaceTarget } from './pick-place.ts';

/** Lowest grip-site height above the table (m): keeps the fingertips (1.5 cm below it) off the table. */
const MIN_GRASP_Z_M = 0.025;
/** Objects are let go this far above the box floor (m). */
const RELEASE_GAP_M = 0.02;

export class TidySkill implements ScriptedSkill {
  /** Null when every object is already in the box: the skill starts finished and holds still. */
  private readonly pick: PickPlaceSkill | null;
  private readonly queue: PickPlaceTarget[];
  private current = 0;

  constructor(world: SceneWorld, task: TidyTask, controlDtSec: number) {
    const { objects, box, tableTopZ } = task.layout;
    const n = objects.length;
    // Slots spread along the box's x axis, one per object in layout order.
    const slotX = (i: number): number => box.x + (n === 1 ? 0 : (2 * i) / (n - 1) - 1) * box.innerHalfX * 0.6;
    this.queue = objects
      .map((o, i) => ({ o, i }))
      .filter(({ o }) => !task.inBox(world, o.name))
      .map(({ o, i }) => target(task, o, [slotX(i), box.y, tableTopZ + box.wallM]));
    const first = this.queue[0];
    this.pick = first ? new PickPlaceSkill(world, first, { controlDtSec }) : null;
  }

  get finished(): boolean {
    return this.pick === null || (this.pick.finished && this.current >= this.queue.length - 1);
  }

  /** Objects fully handled so far. */
  get objectsDone(): number {
    return this.pick === null ? 0 : this.current + (this.pick.finished ? 1 : 0);
  }

  step(world: SceneWorld, out: Float64Array): void {
    if (this.pick === null) {
      world.readState(out); // position actuators: the canonical state is the command that holds it
      return;
    }
    if (this.pick.finished && this.current < this.queue.length - 1) {
      this.current++;
      this.pick.retarget(this.queue[this.current]!);
    }
    this.pick.step(world, out);
  }
}

function target(task: TidyTask, o: TidyObject, floor: [number, number, number]): PickPlaceTarget {
  const half = objectHalfHeight(o);
  const grasp = Math.max(0, MIN_GRASP_Z_M - half);
  return {
    objectPose: (world, pos, quat) => task.objectPose(world, o.name, pos, quat),
    graspHeightM: grasp,
    yawPeriodRad: o.shape === 'cylinder' ? null : o.halfSize[0] === o.halfSize[1] ? Math.PI / 2 : Math.PI,
    release: [floor[0], floor[1], floor[2] + half + grasp + RELEASE_GAP_M],
  };
}
