/**
 * The humanoid's vocabulary skills (src/control/vocabulary.ts): `stand` (balance.ts) and `walk_to`
 * (gait.ts), with the same `start(call, state)` contract as the arm's registry (registry.ts): a plan step
 * is validated against the vocabulary's zod schema, then its skill starts and is returned for stepping.
 */
import { TgError } from '../../errors/index.ts';
import type { Skill, SkillCall, WorldState } from '../contracts.ts';
import type { HumanoidModel } from '../humanoid-model.ts';
import { SKILL_ARGS, type SkillName } from '../vocabulary.ts';
import { type BalanceOptions, BalanceSkill } from './balance.ts';
import { type GaitOptions, GaitSkill } from './gait.ts';

/** Vocabulary skills a humanoid implements. */
export const LOCOMOTION_SKILLS: readonly SkillName[] = ['stand', 'walk_to'];

export interface LocomotionSkillsOptions {
  balance?: BalanceOptions;
  gait?: GaitOptions;
}

export class LocomotionSkills {
  readonly stand: BalanceSkill;
  readonly walkTo: GaitSkill;

  constructor(model: HumanoidModel, opts: LocomotionSkillsOptions = {}) {
    this.stand = new BalanceSkill(model, opts.balance);
    this.walkTo = new GaitSkill(model, opts.gait);
  }

  get names(): string[] {
    return [...LOCOMOTION_SKILLS];
  }

  get(name: string): Skill | undefined {
    return name === 'stand' ? this.stand : name === 'walk_to' ? this.walkTo : undefined;
  }

  /**
   * Validates `call` and starts its skill from `state`; returns the skill to step. Throws NOT_FOUND for a
   * skill a humanoid does not have and INPUT_INVALID for arguments that do not fit the skill's schema.
   */
  start(call: SkillCall, state: WorldState): Skill {
    if (call.skill !== 'stand' && call.skill !== 'walk_to') {
      throw new TgError(
        'NOT_FOUND',
        `the humanoid has no skill '${call.skill}' (has ${LOCOMOTION_SKILLS.join(', ')})`,
      );
    }
    const args = call.args ?? {};
    if (call.skill === 'stand') {
      const r = SKILL_ARGS.stand.safeParse(args);
      if (!r.success) throw invalid(call.skill, r.error.issues[0]!);
      this.stand.start(r.data, state);
      return this.stand;
    }
    const r = SKILL_ARGS.walk_to.safeParse(args);
    if (!r.success) throw invalid(call.skill, r.error.issues[0]!);
    this.walkTo.start(r.data, state);
    return this.walkTo;
  }
}

function invalid(skill: string, issue: { path: PropertyKey[]; message: string }): TgError {
  const where =
    issue.path.length > 0 ? issue.path.join('.') : (issue as { keys?: string[] }).keys?.join(', ');
  return new TgError(
    'INPUT_INVALID',
    `skill '${skill}': argument '${where ?? '?'}' is invalid: ${issue.message}`,
  );
}
