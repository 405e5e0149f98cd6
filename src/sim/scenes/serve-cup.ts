/**
 * Mall scene: a serving counter with the arm mounted on it (a coffee kiosk), a cup on the counter and a
 * marked hand-over spot where a customer takes the cup. The spot is a mocap body, so a task moves it per
 * episode through `mocap_pos` without touching the model; its disc is visual only (it has no collision).
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import { type CupSpec, cupXml } from './props.ts';
import { fmt, robotFile, robotFiles, type Scene } from './scene.ts';

export interface Region {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

export interface ServeCupLayout {
  /** Counter top height (m); the arm's base flange sits on it at the origin. */
  counterTopZ: number;
  cup: CupSpec;
  /** Where the cup starts (its centre, m) and its yaw range (rad, +-). */
  cupSpawn: Region & { yawMax: number };
  /** Where the hand-over spot is marked (its centre, m). */
  spotRegion: Region;
  /** Radius of the marked spot (m): the cup's centre must end inside it. */
  spotRadiusM: number;
}

export const SERVE_CUP_LAYOUT: ServeCupLayout = {
  counterTopZ: 0,
  cup: { radiusM: 0.03, heightM: 0.09, wallM: 0.004, massKg: 0.15 },
  cupSpawn: { xMin: 0.35, xMax: 0.5, yMin: -0.3, yMax: -0.1, yawMax: Math.PI },
  spotRegion: { xMin: 0.45, xMax: 0.6, yMin: 0.15, yMax: 0.35 },
  spotRadiusM: 0.03,
};

export function serveCupXml(arm: Embodiment, layout: ServeCupLayout = SERVE_CUP_LAYOUT): string {
  const z0 = layout.counterTopZ;
  const { cupSpawn, spotRegion } = layout;
  return `<mujoco model="mall/serve-cup">
  <include file="${robotFile(arm)}"/>
  <visual><global offwidth="640" offheight="480"/></visual>
  <worldbody>
    <light name="key" pos="0.3 0 2.5" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="3 3 0.05" pos="0 0 ${fmt(z0 - 0.9)}" rgba="0.55 0.55 0.58 1"/>
    <geom name="counter" type="box" size="0.45 0.6 0.02" pos="0.35 0 ${fmt(z0 - 0.02)}" rgba="0.85 0.85 0.82 1"/>
    <geom name="counter/front" type="box" size="0.02 0.6 0.45" pos="0.82 0 ${fmt(z0 - 0.45)}" rgba="0.3 0.35 0.45 1"/>
    <body name="handover" mocap="true" pos="${fmt((spotRegion.xMin + spotRegion.xMax) / 2)} ${fmt((spotRegion.yMin + spotRegion.yMax) / 2)} ${fmt(z0)}">
      <geom name="handover/mark" type="cylinder" size="${fmt(layout.spotRadiusM)} 0.0005" pos="0 0 0.0005" contype="0" conaffinity="0" rgba="0.1 0.7 0.3 1"/>
      <site name="handover" size="0.005" rgba="0.1 0.7 0.3 1" group="3"/>
    </body>
${cupXml('cup', layout.cup, [(cupSpawn.xMin + cupSpawn.xMax) / 2, (cupSpawn.yMin + cupSpawn.yMax) / 2, z0], '0.95 0.95 0.9 1')}
  </worldbody>
</mujoco>
`;
}

export function serveCupScene(arm: Embodiment = loadEmbodiment('arm7'), layout = SERVE_CUP_LAYOUT): Scene {
  return { name: 'mall/serve-cup', arm, xml: serveCupXml(arm, layout), files: robotFiles(arm) };
}
