/**
 * `pick`: approach, grasp with tactile grip-force regulation, and lift an object, from perception only.
 *
 *   approach  gripper opening, grip site to `hoverM` above the object's top, fingers square to its faces;
 *   descend   down to the grasp height, following the (filtered) perceived pose as it updates. The grasp
 *             is deep: fingertips `clearanceM` above the object's bottom, so the pads cover as much of the
 *             object as they can (more friction area, and a slip shows on the taxel rows sooner);
 *   grasp     close until both pads touch, then regulate the squeeze to the grip force (GripRegulator);
 *   lift      up by `liftM`, the grip regulating and reacting to slip; success once there with contact.
 *
 * Failures, each with its reason: the object unknown, not visible or without geometry; wider than the
 * open gripper; lost from view for longer than 0.5 s while the hand is not over it (over it, the hand
 * itself hides it from an overhead camera, so the last pose stands); the fingers closing on
 * nothing; the object dropped while lifting; any phase past its time limit. A detection more than 5 cm
 * from the tracked pose is an outlier and ignored: an object on the table does not jump.
 */
import type { ObjectEstimate, WorldState } from '../contracts.ts';
import { quatYaw } from '../rotation.ts';
import { ArmSkill, nearestSymmetricYaw, type ObjectGeometry } from './arm-skill.ts';

export interface PickGoal {
  object: string;
}

const HOVER_M = 0.08;
const CLEARANCE_M = 0.004;
const LIFT_M = 0.1;
const APPROACH_SPEED = 0.3;
const DESCEND_SPEED = 0.12;
const LIFT_SPEED = 0.2;
const FILTER_SEC = 0.1; // time constant of the object-pose filter
const LOST_SEC = 0.5;
const OVER_M = 0.1; // the hand this close (horizontally) to the object may hide it from view
const GATE_M = 0.05; // detections further than this from the tracked pose are outliers
const TIMEOUT: Record<string, number> = { approach: 6, descend: 3, grasp: 2.5, lift: 3 };

export class PickSkill extends ArmSkill<PickGoal> {
  readonly name = 'pick';
  private objectName = '';
  private est: ObjectEstimate | null = null;
  private geo: ObjectGeometry | null = null;
  /** Filtered object position and the grasp goal. */
  private readonly obj = new Float64Array(3);
  private readonly goal = new Float64Array(3);
  private yaw = 0;
  private lastStamp = Number.NaN;
  private graspZ = 0;

  protected begin(goal: PickGoal, state: WorldState): void {
    this.objectName = goal.object;
    this.geo = this.geometry(goal.object);
    if (this.geo === null) return;
    const e = this.objectEstimate(state, goal.object);
    if (e === null) return;
    const g = this.ctx.profile.gripper;
    if (this.geo.widthM > g.openM - 0.005) {
      this.fail(
        `'${goal.object}' is ${(1000 * this.geo.widthM).toFixed(0)} mm wide, the gripper opens ${(1000 * g.openM).toFixed(0)} mm`,
      );
      return;
    }
    if (!this.ctx.grip.hasPads(state)) {
      this.fail('the arm has no pair of tactile pads in the world state');
      return;
    }
    if (!this.reachable(e.pos)) return;
    this.est = e;
    this.obj.set(e.pos);
    this.lastStamp = e.stampSec;
    this.ctx.held = null;
    const m = this.ctx.motion;
    m.readSite();
    this.chooseYaw(m.siteYaw());
    this.ctx.grip.open();
    this.enter('approach');
  }

  protected tick(state: WorldState): void {
    const { motion: m, grip } = this.ctx;
    const geo = this.geo!;
    if (this.phase === 'approach' || this.phase === 'descend') {
      if (!this.trackObject(state)) return;
    }
    const half = geo.heightM / 2;
    switch (this.phase) {
      case 'approach': {
        this.goal[0] = this.obj[0]!;
        this.goal[1] = this.obj[1]!;
        this.goal[2] = this.obj[2]! + half + HOVER_M;
        m.cartesian(state, this.goal, this.yaw, APPROACH_SPEED);
        if (m.posError < 0.01 && m.rotError < 0.05 && grip.isOpen(state)) this.enter('descend');
        break;
      }
      case 'descend': {
        const fingertip = this.ctx.profile.gripper.fingertipBelowSiteM;
        this.graspZ = this.obj[2]! - half + (geo.graspHeightM ?? fingertip + CLEARANCE_M);
        this.goal[0] = this.obj[0]!;
        this.goal[1] = this.obj[1]!;
        this.goal[2] = this.graspZ;
        m.cartesian(state, this.goal, this.yaw, DESCEND_SPEED);
        if (m.posError < 0.004 && m.rotError < 0.05) {
          grip.close();
          this.enter('grasp');
        }
        break;
      }
      case 'grasp': {
        m.cartesian(state, this.goal, this.yaw, DESCEND_SPEED);
        if (grip.mode === 'empty') {
          this.fail(`the fingers closed on nothing: '${this.objectName}' is not between them`);
          return;
        }
        if (grip.holding && grip.modeSec > 0.15) {
          this.ctx.held = { name: this.objectName, siteAboveCentreM: this.graspZ - this.obj[2]! };
          this.goal[2] = this.graspZ + LIFT_M;
          this.enter('lift');
        }
        break;
      }
      case 'lift': {
        m.cartesian(state, this.goal, this.yaw, LIFT_SPEED);
        if (grip.mode === 'empty') {
          this.ctx.held = null;
          this.fail(`dropped '${this.objectName}' while lifting`);
          return;
        }
        if (m.posError < 0.01 && grip.holding) this.succeed();
        break;
      }
    }
    if (this.status === 'running' && this.phaseSec > (TIMEOUT[this.phase] ?? 5)) {
      this.fail(`${this.phase} took longer than ${TIMEOUT[this.phase]} s`);
    }
  }

  /** Filters the perceived pose; fails when the object has been out of view too long. */
  private trackObject(state: WorldState): boolean {
    const e = this.est!;
    if (!e.visible) {
      // Over the object the hand hides it from a camera above: the last pose stands. Elsewhere it is lost.
      const m = this.ctx.motion;
      const dx = m.pos[0]! - this.obj[0]!;
      const dy = m.pos[1]! - this.obj[1]!;
      const over = dx * dx + dy * dy < OVER_M * OVER_M;
      if (!over && state.tSec - e.stampSec > LOST_SEC) {
        this.fail(`lost sight of '${this.objectName}' for more than ${LOST_SEC} s`);
        return false;
      }
      return true;
    }
    if (!this.reachable(e.pos)) return false;
    if (e.stampSec !== this.lastStamp) {
      const dt = e.stampSec - this.lastStamp;
      this.lastStamp = e.stampSec;
      // An object on the table does not jump: a far-off detection is an outlier (another thing taken for it).
      const jx = e.pos[0]! - this.obj[0]!;
      const jy = e.pos[1]! - this.obj[1]!;
      const jz = e.pos[2]! - this.obj[2]!;
      if (jx * jx + jy * jy + jz * jz > GATE_M * GATE_M) return true;
      const a = dt > 0 ? dt / (FILTER_SEC + dt) : 1;
      for (let i = 0; i < 3; i++) this.obj[i] = this.obj[i]! + a * (e.pos[i]! - this.obj[i]!);
      // The yaw follows the object only before the fingers are around it.
      if (this.phase === 'approach') this.chooseYaw(this.yaw);
    }
    return true;
  }

  /** Whether the object is inside the arm's workspace box; fails the skill when it is not. */
  private reachable(p: ArrayLike<number>): boolean {
    const ws = this.ctx.profile.workspace;
    for (let i = 0; i < 3; i++) {
      if (p[i]! < ws.min[i]! || p[i]! > ws.max[i]!) {
        this.fail(
          `'${this.objectName}' at (${[p[0], p[1], p[2]].map((x) => x!.toFixed(3)).join(', ')}) is out of reach`,
        );
        return false;
      }
    }
    return true;
  }

  private chooseYaw(current: number): void {
    if (this.geo!.shape === 'round') {
      this.yaw = current;
      return;
    }
    const period = this.geo!.shape === 'oblong' ? Math.PI : Math.PI / 2;
    this.yaw = nearestSymmetricYaw(quatYaw(this.est!.quat), current, period);
  }
}
