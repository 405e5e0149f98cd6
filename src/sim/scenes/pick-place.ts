/**
 * The pick-and-place scene: the arm mounted on a table, a cube spawned on the table, an open bin. The
 * scene is MJCF composed here from one layout object (so the task code and the model cannot disagree on
 * where the bin is); the robot comes in unchanged through MJCF `<include>` over a MuJoCo VFS.
 */
import { type Embodiment, readMjcf } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { MjModel, Mujoco } from '../mujoco.ts';

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

const f = (x: number): string => String(Math.round(x * 1e6) / 1e6);

/** The scene MJCF; `robotFile` is the VFS name under which the robot's MJCF is included. */
export function pickPlaceXml(robotFile: string, layout: PickPlaceLayout = PICK_PLACE_LAYOUT): string {
  const { bin, cubeSizeM } = layout;
  const z0 = layout.tableTopZ;
  const h = cubeSizeM / 2;
  const wallHalfZ = bin.wallHeightM / 2;
  const wallZ = z0 + bin.wallM + wallHalfZ;
  const outer = bin.innerHalfM + bin.wallM / 2;
  const half = bin.innerHalfM + bin.wallM;
  const w = bin.wallM / 2;
  return `<mujoco model="pick-place">
  <include file="${robotFile}"/>
  <visual><global offwidth="640" offheight="480"/></visual>
  <worldbody>
    <light name="key" pos="0.3 0 2" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="2 2 0.05" pos="0 0 ${f(z0 - 0.75)}" rgba="0.5 0.5 0.5 1"/>
    <geom name="table" type="box" size="0.6 0.7 0.02" pos="0.3 0 ${f(z0 - 0.02)}" rgba="0.65 0.5 0.35 1"/>
    <body name="bin" pos="${f(bin.x)} ${f(bin.y)} 0">
      <geom name="bin/floor" type="box" size="${f(half)} ${f(half)} ${f(w)}" pos="0 0 ${f(z0 + w)}" rgba="0.2 0.4 0.8 1"/>
      <geom name="bin/wall_px" type="box" size="${f(w)} ${f(half)} ${f(wallHalfZ)}" pos="${f(outer)} 0 ${f(wallZ)}" rgba="0.2 0.4 0.8 1"/>
      <geom name="bin/wall_nx" type="box" size="${f(w)} ${f(half)} ${f(wallHalfZ)}" pos="${f(-outer)} 0 ${f(wallZ)}" rgba="0.2 0.4 0.8 1"/>
      <geom name="bin/wall_py" type="box" size="${f(half)} ${f(w)} ${f(wallHalfZ)}" pos="0 ${f(outer)} ${f(wallZ)}" rgba="0.2 0.4 0.8 1"/>
      <geom name="bin/wall_ny" type="box" size="${f(half)} ${f(w)} ${f(wallHalfZ)}" pos="0 ${f(-outer)} ${f(wallZ)}" rgba="0.2 0.4 0.8 1"/>
    </body>
    <body name="cube" pos="${f(layout.spawn.xMin)} 0 ${f(z0 + h)}">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="${f(h)} ${f(h)} ${f(h)}" mass="${f(layout.cubeMassKg)}" condim="4" friction="1 0.01 0.001" rgba="0.85 0.15 0.15 1"/>
    </body>
  </worldbody>
</mujoco>
`;
}

/** Compiles the scene with the given robot. The caller owns (and must `.delete()`) the model. */
export function compilePickPlace(mj: Mujoco, robot: Embodiment, layout = PICK_PLACE_LAYOUT): MjModel {
  const robotFile = `${robot.name}.xml`;
  const vfs = new mj.MjVFS();
  try {
    vfs.addBuffer(robotFile, new TextEncoder().encode(readMjcf(robot)));
    return mj.MjModel.from_xml_string(pickPlaceXml(robotFile, layout), vfs);
  } catch (err) {
    if (err instanceof TgError) throw err;
    throw new TgError(
      'MODEL_INVALID',
      `pick-place scene with '${robot.name}' failed to compile: ${String(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    vfs.delete();
  }
}
