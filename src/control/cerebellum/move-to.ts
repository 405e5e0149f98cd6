/**
 * `move_to`: the grip site to a world position with the gripper pointing down, by differential IK
 * (src/control/cerebellum/arm-motion.ts). The yaw is kept from the start unless the goal gives one. The
 * gripper keeps doing what it was doing (holding stays holding).
 *
 * Fails when the goal lies outside the arm's workspace box, or when the site is not within tolerance of it
 * by the timeout (distance over speed plus a margin): an unreachable goal ends in a reason, never a hang.
 */
import type { WorldState } from '../contracts.ts';
import { norm3 } from '../rotation.ts';
import { ArmSkill } from './arm-skill.ts';

export interface MoveToGoal {
  position: readonly [number, number, number] | readonly number[];
  /** Gripper yaw about world z (rad); default: keep the current one. */
  yaw?: number;
  speedMps?: number;
  toleranceM?: number;
}

const DEFAULT_SPEED = 0.3; // m/s
const ROT_TOLERANCE = 0.05; // rad

export class MoveToSkill extends ArmSkill<MoveToGoal> {
  readonly name = 'move_to';
  private readonly goal = new Float64Array(3);
  private yaw = 0;
  private speed = DEFAULT_SPEED;
  private tol = 0.005;
  private timeoutSec = 0;

  protected begin(goal: MoveToGoal, _state: WorldState): void {
    const p = goal.position;
    const ws = this.ctx.profile.workspace;
    for (let i = 0; i < 3; i++) {
      const x = p[i]!;
      if (!Number.isFinite(x) || x < ws.min[i]! || x > ws.max[i]!) {
        this.fail(
          `goal (${[p[0], p[1], p[2]].join(', ')}) is outside the workspace [${ws.min.join(', ')}] - [${ws.max.join(', ')}]`,
        );
        return;
      }
      this.goal[i] = x;
    }
    const m = this.ctx.motion;
    m.readSite();
    this.yaw = goal.yaw ?? m.siteYaw();
    this.speed = goal.speedMps ?? DEFAULT_SPEED;
    this.tol = goal.toleranceM ?? 0.005;
    const dist = norm3(this.goal[0]! - m.pos[0]!, this.goal[1]! - m.pos[1]!, this.goal[2]! - m.pos[2]!);
    this.timeoutSec = 2 + (2 * dist) / this.speed;
    this.enter('moving');
  }

  protected tick(state: WorldState): void {
    const m = this.ctx.motion;
    m.cartesian(state, this.goal, this.yaw, this.speed);
    if (m.posError < this.tol && m.rotError < ROT_TOLERANCE) {
      this.succeed();
      return;
    }
    if (this.elapsedSec > this.timeoutSec) {
      this.fail(
        `did not reach (${Array.from(this.goal, (x) => x.toFixed(3)).join(', ')}) in ${this.timeoutSec.toFixed(1)} s: ${(1000 * m.posError).toFixed(1)} mm away`,
      );
    }
  }
}
