/**
 * `release`: open the gripper where the arm is. Succeeds once the fingers are open; fails if they are
 * still not open after `timeoutSec` (something is blocking them).
 */
import type { WorldState } from '../contracts.ts';
import { ArmSkill } from './arm-skill.ts';

const TIMEOUT_SEC = 1.5;

export class ReleaseSkill extends ArmSkill<Record<string, never>> {
  readonly name = 'release';

  protected begin(): void {
    this.ctx.grip.open();
    this.enter('opening');
  }

  protected tick(state: WorldState): void {
    this.ctx.motion.hold(state);
    if (this.ctx.grip.isOpen(state)) {
      this.ctx.held = null;
      this.succeed();
    } else if (this.phaseSec > TIMEOUT_SEC) {
      this.fail(`the gripper is not open after ${TIMEOUT_SEC} s`);
    }
  }
}
