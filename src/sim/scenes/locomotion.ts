/**
 * Locomotion scene: the humanoid (src/embodiment/robots/humanoid.xml, included unchanged) on a flat floor,
 * with route markers a task places per episode.
 *
 * - The floor has conaffinity 3: the humanoid's feet and hands touch it (bit 1) and so do its other links
 *   (bit 2, see the robot file's collision bits), so a fallen robot lies on the floor instead of sinking
 *   through it, and a fall is seen as a fall.
 * - Markers are mocap bodies (`marker/<k>`) with a visual disc and a site: they add no degrees of freedom,
 *   so the robot's `stand` keyframe still fits the scene's qpos, and a task moves them through
 *   `mocap_pos` without touching the model. Unused markers are parked below the floor.
 * - The physics step is the robot's own 5 ms (the bound for the humanoid).
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { robotFile, robotFiles, type Scene } from './scene.ts';
import type { SceneWorld } from './scene-world.ts';

/** Route markers the scene provides (a route uses at most this many waypoints). */
export const LOCOMOTION_MARKERS = 8;
/** Where unused markers wait (m, world): out of sight under the floor. */
const PARKED_Z = -1;

export interface LocomotionScene extends Scene {
  readonly robot: Embodiment;
}

export function locomotionXml(robot: Embodiment): string {
  const markers = Array.from(
    { length: LOCOMOTION_MARKERS },
    (_, k) => `    <body name="marker/${k}" mocap="true" pos="0 0 ${PARKED_Z}">
      <geom name="marker/${k}" type="cylinder" size="0.12 0.002" contype="0" conaffinity="0" group="2"
            rgba="0.1 0.6 0.9 0.6"/>
      <site name="marker/${k}" size="0.01" group="3"/>
    </body>`,
  ).join('\n');
  return `<mujoco model="locomotion/floor">
  <include file="${robotFile(robot)}"/>
  <worldbody>
    <light name="key" pos="0 0 4" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="30 30 0.05" contype="1" conaffinity="3" condim="3"
          friction="1 0.005 0.0001" rgba="0.55 0.55 0.55 1"/>
${markers}
  </worldbody>
</mujoco>
`;
}

export function locomotionScene(robot: Embodiment = loadEmbodiment('humanoid')): LocomotionScene {
  if (!robot.floatingBase) {
    throw new TgError(
      'CONFIG_INVALID',
      `locomotion scene needs a floating-base robot, '${robot.name}' is fixed`,
    );
  }
  return { name: 'locomotion/floor', robot, xml: locomotionXml(robot), files: robotFiles(robot) };
}

/** Places route markers at `points` (m, world x/y on the floor) and parks the rest. */
export function placeMarkers(world: SceneWorld, points: readonly (readonly [number, number])[]): void {
  if (points.length > LOCOMOTION_MARKERS) {
    throw new TgError(
      'CONFIG_INVALID',
      `route has ${points.length} waypoints; the locomotion scene has ${LOCOMOTION_MARKERS} markers`,
    );
  }
  const mocapId = world.model.body_mocapid as Int32Array;
  const mp = world.mocapPos;
  for (let k = 0; k < LOCOMOTION_MARKERS; k++) {
    const m = mocapId[world.id('body', `marker/${k}`)]!;
    const p = points[k];
    mp[3 * m] = p ? p[0] : 0;
    mp[3 * m + 1] = p ? p[1] : 0;
    mp[3 * m + 2] = p ? 0.002 : PARKED_Z;
  }
}
