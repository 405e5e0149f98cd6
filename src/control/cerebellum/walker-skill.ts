/**
 * The frame of the humanoid's skills (`stand`, `walk_to`): one Walker (locomotion-walker.ts) driven every
 * tick, and the fall check that fails a skill the moment the robot is down. `step` updates the walker,
 * fails on a fall with the measured values, and otherwise hands over to the skill's own `next`.
 */
import type { Skill, SkillStatus, WorldState } from '../contracts.ts';
import { norm2 } from '../rotation.ts';
import type { Walker } from './locomotion-walker.ts';

/** What counts as a fall. */
export interface FallLimits {
  /** Torso tilt that counts as a fall (rad, default 0.65). */
  maxTiltRad?: number;
  /** CoM height above the stance soles below which the robot has fallen (m, default 0.45). */
  minComHeightM?: number;
}

export abstract class WalkerSkill<Goal> implements Skill<Goal> {
  abstract readonly name: string;
  failure: string | null = null;
  readonly walker: Walker;
  private readonly maxTilt: number;
  private readonly minComZ: number;

  constructor(walker: Walker, limits: FallLimits) {
    this.walker = walker;
    this.maxTilt = limits.maxTiltRad ?? 0.65;
    this.minComZ = limits.minComHeightM ?? 0.45;
  }

  abstract start(goal: Goal, state: WorldState): void;

  step(state: WorldState, command: Float64Array): SkillStatus {
    this.walker.update(state, command);
    const fell = fallReason(this.walker, this.maxTilt, this.minComZ);
    if (fell !== null) {
      this.failure = fell;
      return 'failed';
    }
    return this.next(state);
  }

  /** The skill's own tick, after the walker's update with the robot still up: plan steps, judge. */
  protected abstract next(state: WorldState): SkillStatus;
}

/** Why the robot counts as fallen, or null: torso tilt or CoM height past the limits. */
export function fallReason(w: Walker, maxTiltRad: number, minComHeightM: number): string | null {
  const tilt = norm2(w.tilt[0]!, w.tilt[1]!);
  if (tilt > maxTiltRad) return `fell: torso tilt ${tilt.toFixed(2)} rad > ${maxTiltRad} rad`;
  const ground = Math.min(w.footPos[0][2]!, w.footPos[1][2]!);
  const h = w.com[2]! - ground;
  if (h < minComHeightM) return `fell: CoM ${h.toFixed(2)} m above the feet < ${minComHeightM} m`;
  return null;
}
