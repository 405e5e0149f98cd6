/**
 * What the arm and the humanoid runners (./skill-runner.ts, ./locomotion-runner.ts) share as the plan
 * executor's `SkillRunner`: the call being run, its skill, the last status it reported and why it failed.
 * The subclasses say how a call becomes a skill, what `stop` holds, and how a tick is stepped.
 */
import type { SkillRunner } from '../brain/plan-executor.ts';
import type { Skill, SkillCall, SkillStatus } from '../contracts.ts';

export abstract class CallRunner implements SkillRunner {
  failure: string | null = null;
  /** The call being run (as the runner resolved it), null before the first. */
  current: SkillCall | null = null;
  protected skill: Skill | null = null;
  protected last: SkillStatus = 'succeeded';
  protected stopped = false;

  abstract start(call: SkillCall): void;

  status(): SkillStatus {
    return this.last;
  }

  /**
   * Runs `call` with the skill its library made (a library throws on an unknown skill or bad arguments:
   * the executor turns that into a failure).
   */
  protected launch(call: SkillCall, makeSkill: (call: SkillCall) => Skill): void {
    this.stopped = false;
    this.failure = null;
    this.current = call;
    this.skill = makeSkill(call);
    this.last = 'running';
  }

  /** Marks the call failed by the executor's `stop` (one that had already ended only if `evenIfEnded`). */
  protected markStopped(evenIfEnded = false): void {
    this.stopped = true;
    if (evenIfEnded || this.last === 'running') {
      this.last = 'failed';
      this.failure ??= 'stopped by the executor';
    }
  }

  /** Takes a tick's status from the running skill; a stopped call keeps the status `stop` gave it. */
  protected record(skill: Skill, s: SkillStatus): void {
    if (this.stopped || this.last !== 'running') return;
    this.last = s;
    if (s === 'failed') this.failure = skill.failure ?? `${skill.name} failed without saying why`;
  }
}
