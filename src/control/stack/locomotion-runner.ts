/**
 * The humanoid's cerebellum as the plan executor sees it: LocomotionSkills (stand, walk_to) started call
 * by call and stepped once per cerebellum tick against perception's world state.
 *
 * Before the first call the command stays at the start pose (the servos hold the standing keyframe).
 * After `stop` (a step that overran, the episode cut off) the robot balances in place: a humanoid that
 * froze its joints would fall over.
 */
import type { SkillRunner } from '../brain/plan-executor.ts';
import type { LocomotionSkills } from '../cerebellum/locomotion-skills.ts';
import type { Skill, SkillCall, SkillStatus, WorldState } from '../contracts.ts';

/** How long a stopped humanoid keeps balancing (s): longer than any episode runs on. */
const HOLD_BALANCE_SEC = 600;

export class LocomotionSkillRunner implements SkillRunner {
  failure: string | null = null;
  current: SkillCall | null = null;
  private skill: Skill | null = null;
  private last: SkillStatus = 'succeeded';
  private stopped = false;

  constructor(
    readonly skills: LocomotionSkills,
    private readonly state: WorldState,
  ) {}

  /** A humanoid holds nothing (the world summary's `held`). */
  get held(): null {
    return null;
  }

  start(call: SkillCall): void {
    this.stopped = false;
    this.failure = null;
    this.current = call;
    // LocomotionSkills.start throws on an unknown skill or bad arguments: the executor turns that into a failure.
    this.skill = this.skills.start(call, this.state);
    this.last = 'running';
  }

  status(): SkillStatus {
    return this.last;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.last === 'running') {
      this.last = 'failed';
      this.failure ??= 'stopped by the executor';
    }
    // Balance where the robot is, unless it already fell (balancing a fallen robot is pointless).
    if (this.skill !== null && !this.failure?.startsWith('fell')) {
      this.skill = this.skills.start({ skill: 'stand', args: { seconds: HOLD_BALANCE_SEC } }, this.state);
    }
  }

  /** One cerebellum tick: the next command into `command` (unchanged before the first call). */
  step(command: Float64Array): void {
    const skill = this.skill;
    if (skill === null) return;
    const s = skill.step(this.state, command);
    if (!this.stopped && this.last === 'running') {
      this.last = s;
      if (s === 'failed') this.failure = skill.failure ?? `${skill.name} failed without saying why`;
    }
  }
}
