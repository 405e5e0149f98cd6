/**
 * Home scene: the arm on a low table (a coffee table) with toys and household objects scattered on it and
 * an open storage box to tidy them into. Each object is a free body named after its `TidyObject` entry.
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import { type OpenBox, openBoxXml } from './props.ts';
import { fmt, robotFile, robotFiles, type Scene } from './scene.ts';
import type { Region } from './serve-cup.ts';

/**
 * A graspable object: a box with its narrow side along its local y (where the fingers close), or an
 * upright cylinder. Sizes are half-extents / radius and half-height (m).
 */
export type TidyObject =
  | { name: string; shape: 'box'; halfSize: [number, number, number]; massKg: number; rgba: string }
  | { name: string; shape: 'cylinder'; radiusM: number; halfHeightM: number; massKg: number; rgba: string };

export interface TidyLayout {
  tableTopZ: number;
  objects: readonly TidyObject[];
  /** Where objects are scattered (centres, m) and how far apart their centres must be (m). */
  scatter: Region;
  minSeparationM: number;
  box: OpenBox;
}

export const TIDY_LAYOUT: TidyLayout = {
  tableTopZ: 0,
  objects: [
    { name: 'block', shape: 'box', halfSize: [0.02, 0.02, 0.02], massKg: 0.05, rgba: '0.9 0.2 0.2 1' },
    {
      name: 'can',
      shape: 'cylinder',
      radiusM: 0.025,
      halfHeightM: 0.04,
      massKg: 0.12,
      rgba: '0.2 0.6 0.9 1',
    },
    { name: 'carton', shape: 'box', halfSize: [0.045, 0.02, 0.03], massKg: 0.1, rgba: '0.95 0.8 0.2 1' },
  ],
  scatter: { xMin: 0.3, xMax: 0.6, yMin: -0.35, yMax: 0.05 },
  minSeparationM: 0.11,
  box: { x: 0.35, y: 0.33, innerHalfX: 0.14, innerHalfY: 0.09, wallHeightM: 0.07, wallM: 0.01 },
};

/** Half-height of an object: how far its centre sits above the surface it stands on. */
export function objectHalfHeight(o: TidyObject): number {
  return o.shape === 'box' ? o.halfSize[2] : o.halfHeightM;
}

function objectXml(o: TidyObject, x: number, y: number, z0: number): string {
  const size = o.shape === 'box' ? o.halfSize.map(fmt).join(' ') : `${fmt(o.radiusM)} ${fmt(o.halfHeightM)}`;
  return `    <body name="${o.name}" pos="${fmt(x)} ${fmt(y)} ${fmt(z0 + objectHalfHeight(o))}">
      <freejoint name="${o.name}"/>
      <geom name="${o.name}" type="${o.shape}" size="${size}" mass="${fmt(o.massKg)}" condim="4" friction="1 0.01 0.001" rgba="${o.rgba}"/>
    </body>`;
}

export function tidyXml(arm: Embodiment, layout: TidyLayout = TIDY_LAYOUT): string {
  const z0 = layout.tableTopZ;
  const { scatter } = layout;
  // Compile-time placement only (a task writes every episode's poses): spread along y so nothing overlaps.
  const objects = layout.objects.map((o, i) =>
    objectXml(o, (scatter.xMin + scatter.xMax) / 2, scatter.yMin + 0.12 * i, z0),
  );
  return `<mujoco model="home/tidy">
  <include file="${robotFile(arm)}"/>
  <visual><global offwidth="640" offheight="480"/></visual>
  <worldbody>
    <light name="key" pos="0.3 0 2" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="3 3 0.05" pos="0 0 ${fmt(z0 - 0.45)}" rgba="0.6 0.5 0.4 1"/>
    <geom name="table" type="box" size="0.5 0.6 0.02" pos="0.3 0 ${fmt(z0 - 0.02)}" rgba="0.45 0.3 0.2 1"/>
${openBoxXml('box', layout.box, z0, '0.7 0.6 0.45 1')}
${objects.join('\n')}
  </worldbody>
</mujoco>
`;
}

export function tidyScene(arm: Embodiment = loadEmbodiment('arm7'), layout = TIDY_LAYOUT): Scene {
  return { name: 'home/tidy', arm, xml: tidyXml(arm, layout), files: robotFiles(arm) };
}
