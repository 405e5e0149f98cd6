/**
 * What the brain sees of the world: a small JSON-able summary built from perception's WorldState plus the
 * scene's static description (object kinds and colours, targets). Planners read only this, so a planner on
 * the hub ("cloud") gets the same input as one on the field, and an LLM can be shown it verbatim.
 */
import type { WorldState } from '../contracts.ts';
import type { SkillName } from '../vocabulary.ts';

export type Vec3 = [number, number, number];

/**
 * 'arm': fixed-base manipulator; 'mobile': manipulator on a wheeled base; 'humanoid': legged, floating base.
 */
export type RobotKind = 'arm' | 'mobile' | 'humanoid';

export interface RobotSummary {
  name: string;
  kind: RobotKind;
  /** The skills its cerebellum runs; default by kind (`defaultSkills`). */
  skills?: readonly SkillName[];
  /** Horizontal reach from the base (m): a mobile robot drives closer to anything further away. */
  reachM?: number;
}

export interface ObjectSummary {
  /** The scene's own name ('cube', 'peg_8mm', 'cup', 'toy_duck'). */
  name: string;
  /** What it is ('cube', 'peg', 'cup', 'toy'); default: the first word of the name. */
  kind?: string;
  color?: string;
  /** Characteristic size (a peg's diameter, a cube's edge), mm. */
  sizeMm?: number;
  /** World position (m); absent when never seen. */
  pos?: Vec3;
  /** False when the last sample did not see it (the pose is stale). */
  visible?: boolean;
}

export interface TargetSummary {
  /** The scene's own name ('bin', 'hole_8mm', 'handover', 'box', 'wp1'). */
  name: string;
  /** 'bin', 'box', 'hole', 'handover', 'waypoint'; default: the first word of the name. */
  kind?: string;
  sizeMm?: number;
  pos?: Vec3;
  /** Horizontal radius (m) within which an object counts as in/on the target. */
  radiusM?: number;
}

export interface WorldSummary {
  tSec?: number;
  robot: RobotSummary;
  objects: ObjectSummary[];
  targets: TargetSummary[];
  /** Name of the object in the gripper, or null. */
  held: string | null;
  /** Floating or wheeled base pose on the floor (m, rad), for relative moves ("walk 2 m forward"). */
  base?: { x: number; y: number; yawRad: number };
}

const MANIPULATION: readonly SkillName[] = ['move_to', 'pick', 'place', 'insert', 'release', 'home'];

/** The skills a robot of this kind has when its summary does not list them. */
export function defaultSkills(kind: RobotKind): readonly SkillName[] {
  switch (kind) {
    case 'arm':
      return MANIPULATION;
    case 'mobile':
      return [...MANIPULATION, 'walk_to'];
    case 'humanoid':
      return ['stand', 'walk_to', 'home'];
  }
}

export function robotSkills(robot: RobotSummary): readonly SkillName[] {
  return robot.skills ?? defaultSkills(robot.kind);
}

/** The words of a scene name: 'peg_8mm' -> ['peg', '8mm'], 'redCube' stays one word. */
export function nameWords(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[\s_\-/.:]+/)
    .filter((w) => w.length > 0);
}

export function objectKind(o: { name: string; kind?: string }): string {
  return (o.kind ?? nameWords(o.name).find((w) => /^[a-z]/.test(w)) ?? o.name).toLowerCase();
}

/** True when the object's last known position lies within the target's radius (horizontally). */
export function isOnTarget(o: ObjectSummary, t: TargetSummary): boolean {
  if (!o.pos || !t.pos || t.radiusM === undefined) return false;
  return Math.hypot(o.pos[0] - t.pos[0], o.pos[1] - t.pos[1]) <= t.radiusM;
}

/** The scene's static description that perception does not measure. */
export interface SceneDescription {
  robot: RobotSummary;
  /** Per object name: kind, colour, size; objects perception reports but this omits still appear. */
  objects?: Record<string, Omit<ObjectSummary, 'name' | 'pos' | 'visible'>>;
  targets: TargetSummary[];
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Builds the brain's summary from perception's world state. Perception may track targets too (a bin, a
 * board's holes): an entry named like a scene target updates that target's position instead of becoming
 * an object. Positions are rounded to the millimetre: a planner needs no more, and a prompt stays short.
 * `held` comes from the cerebellum (what its last pick left in the hand).
 */
export function summarizeWorld(
  state: WorldState,
  scene: SceneDescription,
  held: string | null,
): WorldSummary {
  const objects: ObjectSummary[] = [];
  const targets = scene.targets.map((t) => ({ ...t }));
  for (const [name, est] of state.objects) {
    // An estimate with no stamp was never seen: its pose is a placeholder, not a position.
    const seen = Number.isFinite(est.stampSec);
    const pos: Vec3 = [round(est.pos[0]!), round(est.pos[1]!), round(est.pos[2]!)];
    const target = targets.find((t) => t.name === name);
    if (target) {
      if (est.visible || (seen && !target.pos)) target.pos = pos;
      continue;
    }
    objects.push({ name, ...scene.objects?.[name], ...(seen ? { pos } : {}), visible: est.visible });
  }
  for (const [name, info] of Object.entries(scene.objects ?? {})) {
    if (!state.objects.has(name)) objects.push({ name, ...info, visible: false });
  }
  const out: WorldSummary = { tSec: state.tSec, robot: scene.robot, objects, targets, held };
  if (state.base) {
    const [w, x, y, z] = state.base.quat;
    const yawRad = Math.atan2(2 * (w! * z! + x! * y!), 1 - 2 * (y! * y! + z! * z!));
    out.base = { x: round(state.base.pos[0]!), y: round(state.base.pos[1]!), yawRad: round(yawRad) };
  }
  return out;
}
