/**
 * The cerebellum as the plan executor sees it (src/control/brain/plan-executor.ts, `SkillRunner`): one arm's
 * skill library (ArmSkills) started call by call, stepped once per cerebellum tick against perception's
 * world state.
 *
 * Before the first call, and after `stop`, the arm holds: the command stays where the spine holds the robot
 * (the grip regulator keeps regulating once a skill has run). A `place` into a container with slots
 * (ArmScene.containers) goes to its freest slot, the one farthest from every object already there, so
 * that things are not put down on one another.
 */

import type { SkillRunner } from '../brain/plan-executor.ts';
import type { ArmSkills } from '../cerebellum/index.ts';
import type { Skill, SkillCall, SkillStatus, WorldState } from '../contracts.ts';
import type { ContainerSlots } from './arm-scenes.ts';

export class ArmSkillRunner implements SkillRunner {
  failure: string | null = null;
  /** The call the arm runs (after slot resolution), null before the first. */
  current: SkillCall | null = null;
  private skill: Skill | null = null;
  private last: SkillStatus = 'succeeded';
  private stopped = false;

  constructor(
    readonly skills: ArmSkills,
    private readonly state: WorldState,
    private readonly containers: readonly ContainerSlots[] = [],
    /** Objects that can occupy a slot (the scene's movable things). */
    private readonly movable: readonly string[] = [],
  ) {}

  /** What the hand holds, for the brain's world summary. */
  get held(): string | null {
    return this.skills.context.held?.name ?? null;
  }

  start(call: SkillCall): void {
    const resolved = this.resolve(call);
    this.stopped = false;
    this.failure = null;
    this.current = resolved;
    // ArmSkills.start throws on an unknown skill or bad arguments: the executor turns that into a failure.
    this.skill = this.skills.start(resolved, this.state);
    this.last = 'running';
  }

  status(): SkillStatus {
    return this.last;
  }

  stop(): void {
    this.stopped = true;
    this.last = 'failed';
    this.failure ??= 'stopped by the executor';
  }

  /** One cerebellum tick: the next command into `command` (unchanged while holding before any skill). */
  step(command: Float64Array): void {
    const skill = this.skill;
    if (skill === null) return;
    if (this.stopped) {
      const { motion, grip } = this.skills.context;
      if (!motion.ready) return;
      motion.hold(this.state);
      grip.step(this.state);
      motion.write(command);
      return;
    }
    const s = skill.step(this.state, command);
    if (this.last === 'running') {
      this.last = s;
      if (s === 'failed') this.failure = skill.failure ?? `${skill.name} failed without saying why`;
    }
  }

  /** `place` into a container with slots becomes `place` into its freest slot. */
  private resolve(call: SkillCall): SkillCall {
    if (call.skill !== 'place') return call;
    const target = (call.args as { target?: unknown }).target;
    const c = this.containers.find((x) => x.target === target);
    if (!c) return call;
    const held = this.held;
    let best = c.slots[0]!;
    let bestGap = Number.NEGATIVE_INFINITY;
    for (const slot of c.slots) {
      const s = this.state.objects.get(slot);
      if (!s) continue;
      let gap = Number.POSITIVE_INFINITY;
      for (const name of this.movable) {
        if (name === held) continue;
        const o = this.state.objects.get(name);
        if (!o || Number.isNaN(o.stampSec)) continue;
        gap = Math.min(gap, Math.hypot(o.pos[0]! - s.pos[0]!, o.pos[1]! - s.pos[1]!));
      }
      if (gap > bestGap) {
        bestGap = gap;
        best = slot;
      }
    }
    return { skill: 'place', args: { ...call.args, target: best } };
  }
}
