/**
 * Scripted solution of the mall task (src/sim/tasks/serve-cup.ts): the pick-and-place skill with the cup
 * as its object, gripped round its wall below the rim (any yaw: it is round), carried slower than a cube
 * and lowered gently onto the marked spot, released just above the counter.
 */
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import type { ServeCupTask } from '../../sim/tasks/serve-cup.ts';
import { PickPlaceSkill, type PickPlaceTarget } from './pick-place.ts';

/** Grip-site height above the cup's bottom (m): fingertips 4.5 cm up, the palm clear of the 9 cm rim. */
const GRASP_HEIGHT_M = 0.06;
/** The cup is let go this far above the counter (m). */
const RELEASE_GAP_M = 0.003;

/** The cup onto the spot, as the task marked it for this episode (call after `task.apply`). */
export function cupToSpot(task: ServeCupTask): PickPlaceTarget {
  const spot = new Float64Array(3);
  task.spotCentre(spot);
  return {
    objectPose: (world, pos, quat) => task.cupPose(world, pos, quat),
    graspHeightM: GRASP_HEIGHT_M,
    yawPeriodRad: null,
    release: [spot[0]!, spot[1]!, spot[2]! + GRASP_HEIGHT_M + RELEASE_GAP_M],
  };
}

/** The serving skill for the episode loop (src/control/episode-loop.ts). */
export function serveCupSkill(world: SceneWorld, task: ServeCupTask, controlDtSec: number): PickPlaceSkill {
  return new PickPlaceSkill(world, cupToSpot(task), {
    controlDtSec,
    carrySpeed: 0.25,
    lowerSpeed: 0.1,
  });
}
