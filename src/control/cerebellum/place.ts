/**
 * `place`: carry what the hand holds over a target, lower it and release it.
 *
 *   carry    over the target with the held object's bottom `clearanceM` above the target's top (and
 *            never lower than the hand already is), the grip regulating and reacting to slip;
 *   lower    until the object's bottom is `releaseM` above the target's surface (a bin's floor);
 *   release  open the gripper;
 *   retreat  back up to the carry height.
 *
 * Fails when nothing is held, the target is unknown or not visible, the object is dropped on the way,
 * or a phase runs past its time limit.
 */
import type { WorldState } from '../contracts.ts';
import { ArmSkill, type ObjectGeometry } from './arm-skill.ts';

export interface PlaceGoal {
  target: string;
}

const CLEARANCE_M = 0.04;
const RELEASE_M = 0.015;
const CARRY_SPEED = 0.3;
const LOWER_SPEED = 0.15;
const TIMEOUT: Record<string, number> = { carry: 6, lower: 3, release: 1.5, retreat: 3 };

export class PlaceSkill extends ArmSkill<PlaceGoal> {
  readonly name = 'place';
  private readonly target = new Float64Array(3);
  private readonly goal = new Float64Array(3);
  private targetGeo: ObjectGeometry | null = null;
  private heldGeo: ObjectGeometry | null = null;
  private yaw = 0;
  private carryZ = 0;

  protected begin(goal: PlaceGoal, state: WorldState): void {
    const held = this.ctx.held;
    const grip = this.ctx.grip;
    if (held === null || (grip.mode !== 'holding' && grip.mode !== 'closing')) {
      this.fail('nothing is held (pick something first)');
      return;
    }
    this.heldGeo = this.geometry(held.name);
    this.targetGeo = this.geometry(goal.target);
    if (this.heldGeo === null || this.targetGeo === null) return;
    const e = this.objectEstimate(state, goal.target);
    if (e === null) return;
    this.target.set(e.pos);
    const m = this.ctx.motion;
    m.readSite();
    this.yaw = m.siteYaw();
    // Site height that puts the held object's bottom at height z.
    const top = this.target[2]! + this.targetGeo.heightM;
    this.carryZ = Math.max(m.pos[2]!, this.siteZForBottom(top + CLEARANCE_M));
    this.enter('carry');
  }

  protected tick(state: WorldState): void {
    const { motion: m, grip } = this.ctx;
    if (this.phase !== 'release' && this.phase !== 'retreat' && grip.mode === 'empty') {
      this.ctx.held = null;
      this.fail(`dropped the object during ${this.phase}`);
      return;
    }
    switch (this.phase) {
      case 'carry':
        this.goal[0] = this.target[0]!;
        this.goal[1] = this.target[1]!;
        this.goal[2] = this.carryZ;
        m.cartesian(state, this.goal, this.yaw, CARRY_SPEED);
        if (m.posError < 0.01 && m.rotError < 0.05) this.enter('lower');
        break;
      case 'lower': {
        const surface = this.target[2]! + (this.targetGeo!.surfaceM ?? 0);
        this.goal[2] = this.siteZForBottom(surface + RELEASE_M);
        m.cartesian(state, this.goal, this.yaw, LOWER_SPEED);
        if (m.posError < 0.005) {
          grip.open();
          this.enter('release');
        }
        break;
      }
      case 'release':
        m.hold(state);
        if (grip.isOpen(state) || this.phaseSec > 0.6) {
          this.ctx.held = null;
          this.goal[2] = this.carryZ;
          this.enter('retreat');
        }
        break;
      case 'retreat':
        m.cartesian(state, this.goal, this.yaw, CARRY_SPEED);
        if (m.posError < 0.01) this.succeed();
        break;
    }
    if (this.status === 'running' && this.phaseSec > (TIMEOUT[this.phase] ?? 5)) {
      this.fail(`${this.phase} took longer than ${TIMEOUT[this.phase]} s`);
    }
  }

  private siteZForBottom(z: number): number {
    return z + this.heldGeo!.heightM / 2 + this.ctx.held!.siteAboveCentreM;
  }
}
