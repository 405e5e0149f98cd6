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

import type { ArmSkills } from '../cerebellum/index.ts';
import type { SkillCall, WorldState } from '../contracts.ts';
import type { ContainerSlots } from './arm-scenes.ts';
import { CallRunner } from './call-runner.ts';

export class ArmSkillRunner extends CallRunner {
  constructor(
    readonly skills: ArmSkills,
    private readonly state: WorldState,
    private readonly containers: readonly ContainerSlots[] = [],
    /** Objects that can occupy a slot (the scene's movable things). */
    private readonly movable: readonly string[] = [],
  ) {
    super();
  }

  /** What the hand holds, for the brain's world summary. */
  get held(): string | null {
    return this.skills.context.held?.name ?? null;
  }

  start(call: SkillCall): void {
    this.launch(this.resolve(call), (c) => this.skills.start(c, this.state));
  }

  /** The arm holds from here on; its status is 'failed' even if the call had just ended. */
  stop(): void {
    this.markStopped(true);
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
    this.record(skill, skill.step(this.state, command));
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
