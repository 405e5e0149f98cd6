/**
 * The skill vocabulary: the calls a plan may contain, with their argument schemas. The brain plans over
 * it (the LLM planner is shown it and its output is validated against it), the cerebellum's registry
 * implements it. Object and target names are the scene's own ('cube', 'bin', 'peg_8mm', 'hole_8mm',
 * 'cup', 'handover', 'box', ...).
 */
import { z } from 'zod';

const name = z.string().min(1).max(64);
const vec3 = z.tuple([z.number(), z.number(), z.number()]);

export const SKILL_ARGS = {
  /** Move the grip site to a world position (m), gripper pointing down. */
  move_to: z.object({ position: vec3 }).strict(),
  /** Approach, grasp with tactile grip-force regulation, and lift an object. */
  pick: z.object({ object: name }).strict(),
  /** Carry what is held over a target, lower it and release it. */
  place: z.object({ target: name }).strict(),
  /** Force-guided insertion of the held object into a target hole (compliance plus spiral search). */
  insert: z.object({ object: name, target: name }).strict(),
  /** Open the gripper. */
  release: z.object({}).strict(),
  /** Return to the home pose. */
  home: z.object({}).strict(),
  /** Humanoid: stand balanced (recovering from pushes) for a duration (s). */
  stand: z.object({ seconds: z.number().positive().max(600) }).strict(),
  /** Humanoid: walk to a point on the floor (m, world frame). */
  walk_to: z.object({ x: z.number(), y: z.number() }).strict(),
} as const;

export type SkillName = keyof typeof SKILL_ARGS;
export const SKILL_NAMES = Object.keys(SKILL_ARGS) as SkillName[];

export type SkillArgs<N extends SkillName> = z.infer<(typeof SKILL_ARGS)[N]>;

export function isSkillName(s: string): s is SkillName {
  return Object.hasOwn(SKILL_ARGS, s);
}
