/**
 * What the LLM planner says to the model and how it reads the answer. The system prompt carries the skill
 * vocabulary (each skill's argument schema as JSON Schema, generated from the same zod schemas the reply is
 * validated with, so the two cannot drift) and the world summary; the reply must be one JSON object
 * {"steps": [{"skill", "args"}]}, checked step by step by validateSteps.
 */
import { z } from 'zod';
import { SKILL_ARGS, type SkillName } from '../vocabulary.ts';
import { type PlanCheck, validateSteps } from './plan-validation.ts';
import type { PlanRequest } from './planner.ts';
import { robotSkills, type WorldSummary } from './world-summary.ts';

/** One line per skill for the model (the vocabulary's own doc comments are not visible at run time). */
const SKILL_PURPOSE: Record<SkillName, string> = {
  move_to: 'move the grip site to a world position (m), gripper pointing down',
  pick: 'approach, grasp and lift an object (the gripper must be empty)',
  place: 'carry the held object over a target, lower it and release it',
  insert: 'force-guided insertion of the held object (e.g. a peg) into a target hole; picks nothing',
  release: 'open the gripper',
  home: 'return to the home pose',
  stand: 'humanoid: stand balanced, recovering from pushes, for a duration (s)',
  walk_to: 'walk (or drive) to a point on the floor (m, world frame)',
};

function argsSchema(skill: SkillName): string {
  const { $schema: _drop, ...schema } = z.toJSONSchema(SKILL_ARGS[skill]) as Record<string, unknown>;
  return JSON.stringify(schema);
}

export function systemPrompt(world: WorldSummary): string {
  const skills = robotSkills(world.robot)
    .map((s) => `- ${s}: ${SKILL_PURPOSE[s]}. args: ${argsSchema(s)}`)
    .join('\n');
  return `You are the task planner of a ${world.robot.kind} robot named '${world.robot.name}'.
Turn the user's instruction into a plan: a sequence of calls to the robot's skills.

Skills (args as JSON Schema):
${skills}

Rules:
- Use only the skills above and only object and target names that appear in the world state.
- "pick" an object before "place" or "insert" it, unless the world state says it is already held.
- Skip what the world state shows is already done.
- Reply with one JSON object and nothing else: {"steps": [{"skill": "<name>", "args": {...}}, ...]}
- If the instruction cannot be done with these skills, reply {"steps": [], "error": "<why>"}.

World state (positions in metres, world frame):
${JSON.stringify(world)}`;
}

export function userPrompt(request: PlanRequest): string {
  const f = request.failure;
  if (!f) return `Instruction: ${request.instruction}`;
  return `Instruction: ${request.instruction}
The previous plan failed at step ${f.index + 1} (${JSON.stringify(f.step)}): ${f.reason}.
Steps completed before it: ${JSON.stringify(f.completed)}.
Plan again from the current world state (replan ${f.replan}).`;
}

const REPLY = z.object({
  steps: z.array(z.unknown()).optional(),
  plan: z.array(z.unknown()).optional(),
  error: z.string().optional(),
});

/** Removes what models wrap around JSON: reasoning blocks (DeepSeek-R1, Qwen3) and markdown fences. */
function unwrap(content: string): string {
  let s = content.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
  const fence = s.match(/^```(?:json)?\s*([\s\S]*?)\s*```$/);
  if (fence) s = fence[1]!;
  return s.trim();
}

const excerpt = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);

/** Reads the model's reply into validated steps, or the reason it was rejected. */
export function parsePlanReply(content: string, world: WorldSummary): PlanCheck {
  const text = unwrap(content);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `malformed JSON (${(err as Error).message}) in reply ${excerpt(text)}` };
  }
  // A bare array of steps is accepted too: some models drop the wrapper despite the instructions.
  const body = Array.isArray(json) ? { steps: json } : json;
  const parsed = REPLY.safeParse(body);
  if (!parsed.success || typeof body !== 'object' || body === null) {
    return { ok: false, reason: `reply is not a {"steps": [...]} object: ${excerpt(text)}` };
  }
  const steps = parsed.data.steps ?? parsed.data.plan;
  if (parsed.data.error && (steps === undefined || steps.length === 0)) {
    return { ok: false, reason: `the model declined: ${parsed.data.error}` };
  }
  if (steps === undefined) return { ok: false, reason: `reply has no "steps" array: ${excerpt(text)}` };
  if (steps.length === 0) return { ok: false, reason: 'the model returned an empty plan' };
  return validateSteps(steps, world);
}
