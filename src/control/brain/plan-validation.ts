/**
 * Checks a plan against the skill vocabulary and the world before anything reaches the cerebellum: every
 * step must name a skill the robot has, with arguments that satisfy the skill's zod schema, naming objects
 * and targets that exist. Untrusted plans (an LLM's) and the built-in planner's own output both pass here.
 */
import type { z } from 'zod';
import type { SkillCall } from '../contracts.ts';
import { isSkillName, SKILL_ARGS } from '../vocabulary.ts';
import { robotSkills, type WorldSummary } from './world-summary.ts';

/** Longest plan accepted: a runaway generator is cut off, not executed. */
export const MAX_PLAN_STEPS = 64;

export type PlanCheck = { ok: true; steps: SkillCall[] } | { ok: false; reason: string };

function zodReason(err: z.ZodError): string {
  return err.issues
    .map((i) => `${i.path.length > 0 ? `args.${i.path.join('.')}` : 'args'}: ${i.message}`)
    .join(', ');
}

/** Validates raw steps (already JSON-decoded); the steps returned carry the schema-parsed arguments. */
export function validateSteps(raw: readonly unknown[], world: WorldSummary): PlanCheck {
  if (raw.length > MAX_PLAN_STEPS) {
    return { ok: false, reason: `plan has ${raw.length} steps, more than ${MAX_PLAN_STEPS}` };
  }
  const skills = robotSkills(world.robot);
  const objects = new Set(world.objects.map((o) => o.name));
  const targets = new Set(world.targets.map((t) => t.name));
  const problems: string[] = [];
  const steps: SkillCall[] = [];
  raw.forEach((item, i) => {
    const at = `step ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at}: not an object`);
      return;
    }
    const { skill, args = {} } = item as { skill?: unknown; args?: unknown };
    if (typeof skill !== 'string') {
      problems.push(`${at}: missing "skill"`);
      return;
    }
    if (!isSkillName(skill)) {
      problems.push(`${at}: unknown skill '${skill}'`);
      return;
    }
    if (!skills.includes(skill)) {
      problems.push(`${at}: robot '${world.robot.name}' (${world.robot.kind}) has no '${skill}' skill`);
      return;
    }
    const parsed = SKILL_ARGS[skill].safeParse(args);
    if (!parsed.success) {
      problems.push(`${at} (${skill}): ${zodReason(parsed.error)}`);
      return;
    }
    const a = parsed.data as Record<string, unknown>;
    if (typeof a.object === 'string' && !objects.has(a.object)) {
      problems.push(`${at} (${skill}): unknown object '${a.object}'`);
      return;
    }
    if (typeof a.target === 'string' && !targets.has(a.target)) {
      problems.push(`${at} (${skill}): unknown target '${a.target}'`);
      return;
    }
    steps.push({ skill, args: a });
  });
  return problems.length > 0 ? { ok: false, reason: problems.join('; ') } : { ok: true, steps };
}
