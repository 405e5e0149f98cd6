/**
 * Factory scene: the arm mounted on a table, a cube on the table, an open bin. The scene is MJCF composed
 * here from one layout object, which the task (src/sim/tasks/pick-place.ts) reads too, so the two cannot
 * disagree on where the bin is; the robot comes in unchanged through MJCF `<include>` over a MuJoCo VFS.
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import { type OpenBox, openBoxXml } from './props.ts';
import { fmt, robotFile, robotFiles, type Scene } from './scene.ts';

export interface PickPlaceLayout {
  /** Table top height (m); the arm's base flange sits on it at the origin. */
  tableTopZ: number;
  /** Cube edge length (m) and mass (kg). */
  cubeSizeM: number;
  cubeMassKg: number;
  /** Cube spawn region on the table (centre x/y ranges, m) and yaw range (rad). */
  spawn: { xMin: number; xMax: number; yMin: number; yMax: number; yawMax: number };
  /** Bin centre (x, y), inner half-width (m), wall height (m), wall and floor thickness (m). */
  bin: { x: number; y: number; innerHalfM: number; wallHeightM: number; wallM: number };
}

export const PICK_PLACE_LAYOUT: PickPlaceLayout = {
  tableTopZ: 0,
  cubeSizeM: 0.045,
  cubeMassKg: 0.1,
  spawn: { xMin: 0.35, xMax: 0.55, yMin: -0.25, yMax: 0.05, yawMax: Math.PI },
  bin: { x: 0.4, y: 0.32, innerHalfM: 0.09, wallHeightM: 0.08, wallM: 0.01 },
};

/** The bin as an open box (src/sim/scenes/props.ts). */
export function binBox(layout: PickPlaceLayout): OpenBox {
  const { bin } = layout;
  return {
    x: bin.x,
    y: bin.y,
    innerHalfX: bin.innerHalfM,
    innerHalfY: bin.innerHalfM,
    wallHeightM: bin.wallHeightM,
    wallM: bin.wallM,
  };
}

/** The scene MJCF; `robotFile` is the VFS name under which the robot's MJCF is included. */
export function pickPlaceXml(robotFile: string, layout: PickPlaceLayout = PICK_PLACE_LAYOUT): string {
  const z0 = layout.tableTopZ;
  const h = layout.cubeSizeM / 2;
  return `<mujoco model="pick-place">
  <include file="${robotFile}"/>
  <!-- No island discovery: one arm and one cube make at most three tiny constraint islands, whose discovery
       and per-island solve cost more than solving them as one system (measured: ~4% of mj_step). The
       solution is the same to solver tolerance (trajectories agree to ~1e-7 m over an episode). -->
  <option><flag island="disable"/></option>
  <visual><global offwidth="640" offheight="480"/></visual>
  <worldbody>
    <light name="key" pos="0.3 0 2" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="2 2 0.05" pos="0 0 ${fmt(z0 - 0.75)}" rgba="0.5 0.5 0.5 1"/>
    <geom name="table" type="box" size="0.6 0.7 0.02" pos="0.3 0 ${fmt(z0 - 0.02)}" rgba="0.65 0.5 0.35 1"/>
${openBoxXml('bin', binBox(layout), z0, '0.2 0.4 0.8 1')}
    <body name="cube" pos="${fmt(layout.spawn.xMin)} 0 ${fmt(z0 + h)}">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="${fmt(h)} ${fmt(h)} ${fmt(h)}" mass="${fmt(layout.cubeMassKg)}" condim="4" friction="1 0.01 0.001" rgba="0.85 0.15 0.15 1"/>
    </body>
  </worldbody>
</mujoco>
`;
}

export function pickPlaceScene(arm: Embodiment = loadEmbodiment('arm7'), layout = PICK_PLACE_LAYOUT): Scene {
  return {
    name: 'factory/pick-place',
    arm,
    xml: pickPlaceXml(robotFile(arm), layout),
    files: robotFiles(arm),
  };
}
