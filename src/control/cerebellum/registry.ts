/**
 * The skill library of one arm: vocabulary names (src/control/vocabulary.ts) mapped to skills that share
 * the arm's motor state, plus the arm's primitives and learned skills under their own names.
 *
 *   move_to  MoveToSkill (differential IK)          pick     PickSkill (tactile grasp)
 *   place    PlaceSkill                              insert   ForceInsertSkill (F/T compliance + spiral)
 *   release  ReleaseSkill                            home     JointPdSkill to the profile's home pose
 *   joint_pd JointPdSkill (joint impedance)          <name>   OnnxPolicySkill per learned policy
 *
 * `start(call, state)` validates a plan step against the vocabulary's zod schema (or the primitive's
 * shape) and starts the skill; the caller then steps it at the control rate until it stops running.
 * One skill runs at a time per arm: they share the command integrator so a hand-over does not jump.
 */
import { TgError } from '../../errors/index.ts';
import type { ArmKinematics, Skill, SkillCall, WorldState } from '../contracts.ts';
import { isSkillName, SKILL_ARGS, type SkillName } from '../vocabulary.ts';
import type { ArmProfile } from './arm-profile.ts';
import { ArmContext, type ObjectGeometry } from './arm-skill.ts';
import { ForceInsertSkill, type InsertOptions } from './force-insert.ts';
import type { GripOptions } from './grip.ts';
import { type JointGoal, JointPdSkill } from './joint-impedance.ts';
import { MoveToSkill } from './move-to.ts';
import { OnnxPolicySkill, type PolicyGoal, type PolicySkillSpec } from './onnx-policy.ts';
import { PickSkill } from './pick.ts';
import { PlaceSkill } from './place.ts';
import { ReleaseSkill } from './release.ts';

export interface ArmSkillsOptions {
  profile: ArmProfile;
  /** The arm's own kinematic model (grip-site pose and Jacobian). */
  kinematics: ArmKinematics;
  /** Period at which skills are stepped (s). */
  controlDtSec: number;
  /** Geometry of the objects and targets plans may name. */
  objects?: Record<string, ObjectGeometry>;
  grip?: GripOptions;
  insert?: InsertOptions;
  /** Learned skills, registered under their spec names. */
  policies?: readonly PolicySkillSpec[];
}

/** Vocabulary skills an arm implements (the humanoid's stand/walk_to are not among them). */
export const ARM_SKILLS: readonly SkillName[] = ['move_to', 'pick', 'place', 'insert', 'release', 'home'];

export class ArmSkills {
  readonly context: ArmContext;
  private readonly skills = new Map<string, Skill>();
  private readonly policyNames = new Set<string>();

  constructor(opts: ArmSkillsOptions) {
    if (!(opts.controlDtSec > 0 && opts.controlDtSec <= 0.1)) {
      throw new TgError('CONFIG_INVALID', `controlDtSec ${opts.controlDtSec} must be in (0, 0.1] s`);
    }
    if (opts.kinematics.armDof !== opts.profile.armDof) {
      throw new TgError(
        'CONFIG_INVALID',
        `kinematics has ${opts.kinematics.armDof} arm joints, profile '${opts.profile.name}' ${opts.profile.armDof}`,
      );
    }
    const ctx = new ArmContext(opts.profile, opts.kinematics, opts.controlDtSec, opts.objects, opts.grip);
    this.context = ctx;
    const home = new JointPdSkill(ctx, 'home');
    this.skills.set('move_to', new MoveToSkill(ctx));
    this.skills.set('pick', new PickSkill(ctx));
    this.skills.set('place', new PlaceSkill(ctx));
    this.skills.set('insert', new ForceInsertSkill(ctx, opts.insert));
    this.skills.set('release', new ReleaseSkill(ctx));
    this.skills.set('home', home);
    this.skills.set('joint_pd', new JointPdSkill(ctx));
    for (const spec of opts.policies ?? []) {
      if (this.skills.has(spec.name)) {
        throw new TgError('CONFIG_INVALID', `learned skill '${spec.name}' clashes with a built-in skill`);
      }
      this.skills.set(spec.name, new OnnxPolicySkill(ctx, spec));
      this.policyNames.add(spec.name);
    }
  }

  /** Call when the world is reset (a new episode): skills start over from the next measured state. */
  reset(): void {
    this.context.reset();
  }

  get names(): string[] {
    return [...this.skills.keys()];
  }

  get(name: string): Skill | undefined {
    return this.skills.get(name);
  }

  /**
   * Validates `call` and starts its skill from `state`; returns the skill to step. Throws NOT_FOUND for a
   * skill this arm does not have and INPUT_INVALID for arguments that do not fit the skill's schema.
   */
  start(call: SkillCall, state: WorldState): Skill {
    const skill = this.skills.get(call.skill);
    if (skill === undefined) {
      throw new TgError('NOT_FOUND', `this arm has no skill '${call.skill}' (has ${this.names.join(', ')})`);
    }
    skill.start(this.parseGoal(call), state);
    return skill;
  }

  private parseGoal(call: SkillCall): unknown {
    const args = call.args ?? {};
    if (isSkillName(call.skill)) {
      const r = SKILL_ARGS[call.skill].safeParse(args);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const where =
          issue.path.length > 0 ? issue.path.join('.') : (issue as { keys?: string[] }).keys?.join(', ');
        throw new TgError(
          'INPUT_INVALID',
          `skill '${call.skill}': argument '${where ?? '?'}' is invalid: ${issue.message}`,
        );
      }
      if (call.skill === 'home') return { q: this.context.profile.home } satisfies JointGoal;
      return r.data;
    }
    if (call.skill === 'joint_pd') {
      const q = (args as { q?: unknown }).q;
      if (!Array.isArray(q) || !q.every((x) => typeof x === 'number')) {
        throw new TgError('INPUT_INVALID', `skill 'joint_pd': argument 'q' must be an array of numbers`);
      }
      return args as unknown as JointGoal;
    }
    if (this.policyNames.has(call.skill)) return args as PolicyGoal;
    return args;
  }
}
