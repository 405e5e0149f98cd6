/**
 * The humanoid's cerebellum as the plan executor sees it: LocomotionSkills (stand, walk_to) started call
 * by call and stepped once per cerebellum tick against perception's world state.
 *
 * Before the first call the command stays at the start pose (the servos hold the standing keyframe).
 * After `stop` (a step that overran, the episode cut off) the robot balances in place: a humanoid that
 * froze its joints would fall over.
 */
import type { LocomotionSkills } from '../cerebellum/locomotion-skills.ts';
import type { SkillCall, WorldState } from '../contracts.ts';
import { CallRunner } from './call-runner.ts';

/** How long a stopped humanoid keeps balancing (s): longer than any episode runs on. */
const HOLD_BALANCE_SEC = 600;

export class LocomotionSkillRunner extends CallRunner {
  constructor(
    readonly skills: LocomotionSkills,
    private readonly state: WorldState,
  ) {
    super();
  }

  /** A humanoid holds nothing (the world summary's `held`). */
  get held(): null {
    return null;
  }

  start(call: SkillCall): void {
    this.launch(call, (c) => this.skills.start(c, this.state));
  }

  stop(): void {
    if (this.stopped) return;
    this.markStopped();
    // Balance where the robot is, unless it already fell (balancing a fallen robot is pointless).
    if (this.skill !== null && !this.failure?.startsWith('fell')) {
      this.skill = this.skills.start({ skill: 'stand', args: { seconds: HOLD_BALANCE_SEC } }, this.state);
    }
  }

  /** One cerebellum tick: the next command into `command` (unchanged before the first call). */
  step(command: Float64Array): void {
    const skill = this.skill;
    if (skill === null) return;
    this.record(skill, skill.step(this.state, command));
  }
}
