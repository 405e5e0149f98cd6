/**
 * Props scenes are furnished with, as MJCF fragments from plain numbers (so a task can judge with the same
 * numbers the model was built from): open boxes and bins, and cups. All sizes in metres.
 */
import { fmt } from './scene.ts';

/** An open-topped box standing on a surface: a floor slab and four walls. */
export interface OpenBox {
  /** Centre (m, world) on the surface. */
  x: number;
  y: number;
  /** Inner half-extents along x and y. */
  innerHalfX: number;
  innerHalfY: number;
  wallHeightM: number;
  /** Wall and floor thickness. */
  wallM: number;
}

/**
 * A static body `name` with geoms `<name>/floor` and `<name>/wall_{px,nx,py,ny}`, its floor on the surface
 * at height `z0`.
 */
export function openBoxXml(name: string, box: OpenBox, z0: number, rgba: string, indent = '    '): string {
  const halfZ = box.wallHeightM / 2;
  const wallZ = z0 + box.wallM + halfZ;
  const w = box.wallM / 2;
  const hx = box.innerHalfX + box.wallM;
  const hy = box.innerHalfY + box.wallM;
  const ox = box.innerHalfX + w;
  const oy = box.innerHalfY + w;
  const geom = (part: string, size: string, pos: string): string =>
    `${indent}  <geom name="${name}/${part}" type="box" size="${size}" pos="${pos}" rgba="${rgba}"/>`;
  return [
    `${indent}<body name="${name}" pos="${fmt(box.x)} ${fmt(box.y)} 0">`,
    geom('floor', `${fmt(hx)} ${fmt(hy)} ${fmt(w)}`, `0 0 ${fmt(z0 + w)}`),
    geom('wall_px', `${fmt(w)} ${fmt(hy)} ${fmt(halfZ)}`, `${fmt(ox)} 0 ${fmt(wallZ)}`),
    geom('wall_nx', `${fmt(w)} ${fmt(hy)} ${fmt(halfZ)}`, `${fmt(-ox)} 0 ${fmt(wallZ)}`),
    geom('wall_py', `${fmt(hx)} ${fmt(w)} ${fmt(halfZ)}`, `0 ${fmt(oy)} ${fmt(wallZ)}`),
    geom('wall_ny', `${fmt(hx)} ${fmt(w)} ${fmt(halfZ)}`, `0 ${fmt(-oy)} ${fmt(wallZ)}`),
    `${indent}</body>`,
  ].join('\n');
}

/** Whether a point (an object's centre) lies inside the box's walls, above its floor and below its rim. */
export function insideOpenBox(box: OpenBox, z0: number, p: ArrayLike<number>): boolean {
  const z = p[2]!;
  return (
    Math.abs(p[0]! - box.x) < box.innerHalfX &&
    Math.abs(p[1]! - box.y) < box.innerHalfY &&
    z > z0 + box.wallM &&
    z < z0 + box.wallM + box.wallHeightM
  );
}

export interface CupSpec {
  /** Outer radius and height (base included). */
  radiusM: number;
  heightM: number;
  wallM: number;
  massKg: number;
}

/** Sides of a cup's wall: boxes whose outer faces are tangent to the cup's circle. */
export const CUP_SEGMENTS = 12;

/**
 * A free body `name` (free joint `name`) whose frame origin is the centre of the cup's bottom: a base disc
 * and a ring of wall boxes, open at the top. `pos` is where it is first placed.
 */
export function cupXml(
  name: string,
  cup: CupSpec,
  pos: readonly number[],
  rgba: string,
  indent = '    ',
): string {
  const base = cup.wallM;
  const wallHalfZ = (cup.heightM - base) / 2;
  const wallZ = base + wallHalfZ;
  const halfRadial = cup.wallM / 2;
  const rc = cup.radiusM - halfRadial;
  // Wide enough that neighbouring boxes overlap at the inner corners: the wall has no slits.
  const halfTangential = cup.radiusM * Math.tan(Math.PI / CUP_SEGMENTS);
  const wallMass = (cup.massKg * 0.8) / CUP_SEGMENTS;
  const lines = [
    `${indent}<body name="${name}" pos="${pos.map(fmt).join(' ')}">`,
    `${indent}  <freejoint name="${name}"/>`,
    `${indent}  <geom name="${name}/base" type="cylinder" size="${fmt(cup.radiusM)} ${fmt(base / 2)}" pos="0 0 ${fmt(base / 2)}" mass="${fmt(cup.massKg * 0.2)}" condim="4" friction="1 0.01 0.001" rgba="${rgba}"/>`,
  ];
  for (let k = 0; k < CUP_SEGMENTS; k++) {
    const a = (2 * Math.PI * k) / CUP_SEGMENTS;
    lines.push(
      `${indent}  <geom name="${name}/wall${k}" type="box" size="${fmt(halfRadial)} ${fmt(halfTangential)} ${fmt(wallHalfZ)}" pos="${fmt(rc * Math.cos(a))} ${fmt(rc * Math.sin(a))} ${fmt(wallZ)}" euler="0 0 ${fmt(a)}" mass="${fmt(wallMass)}" condim="4" friction="1 0.01 0.001" rgba="${rgba}"/>`,
    );
  }
  lines.push(`${indent}</body>`);
  return lines.join('\n');
}

/** Tilt of a body's z axis from the vertical (rad), from its quaternion (w, x, y, z). */
export function tiltRad(quat: ArrayLike<number>): number {
  const x = quat[1]!;
  const y = quat[2]!;
  return Math.acos(Math.max(-1, Math.min(1, 1 - 2 * (x * x + y * y))));
}
