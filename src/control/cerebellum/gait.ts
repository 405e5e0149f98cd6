/**
 * `walk_to` (src/control/vocabulary.ts): the humanoid walks to a point on the floor.
 *
 * A footstep planner feeds the shared walker (locomotion-walker.ts: DCM control on the linear inverted
 * pendulum, step adjustment, analytic leg IK) a few steps ahead at a time:
 * - each step turns the walking heading toward the goal by at most `maxTurnRad` and advances at most
 *   `maxStepM` (shorter while turning), the swing foot landing `stepWidthM` to its side of the other foot;
 * - near the goal a closing step sets the feet side by side and the robot stops;
 * - footsteps are planned from where the feet really are (after any step adjustment), so a push or a
 *   slip changes the plan, not the goal.
 *
 * Success: standing still with the CoM within `reachM` of the goal; a route is a sequence of `walk_to`
 * calls, each ending at rest. Failure: a fall (torso tilt or CoM height), or no arrival within the time
 * limit, with the measured values in `failure`.
 */
import type { SkillStatus, WorldState } from '../contracts.ts';
import type { HumanoidModel, Side } from '../humanoid-model.ts';
import { norm2 } from '../rotation.ts';
import { type Footstep, Walker, type WalkerOptions, wrapAngle } from './locomotion-walker.ts';
import { type FallLimits, WalkerSkill } from './walker-skill.ts';

export interface WalkGoal {
  /** Target on the floor (m, world frame). */
  x: number;
  y: number;
}

export interface GaitOptions extends WalkerOptions, FallLimits {
  /** Longest step, foot to foot along the heading (m, default 0.14). */
  maxStepM?: number;
  /** Largest heading change per step (rad, default 0.2). */
  maxTurnRad?: number;
  /** Lateral distance between the feet (m, default: the hip width). */
  stepWidthM?: number;
  /** Arrival tolerance for the CoM (m, default 0.12). */
  reachM?: number;
  /** Steps planned ahead (default 3). */
  lookahead?: number;
  /** Time limit: `timePerMeterSec` per metre of straight-line distance plus `timeSlackSec` (5 and 8 s). */
  timePerMeterSec?: number;
  timeSlackSec?: number;
}

export class GaitSkill extends WalkerSkill<WalkGoal> {
  readonly name = 'walk_to';
  private readonly maxStep: number;
  private readonly maxTurn: number;
  private readonly width: number;
  private readonly reach: number;
  private readonly lookahead: number;
  private readonly perMeter: number;
  private readonly slack: number;
  private goalX = 0;
  private goalY = 0;
  private deadlineSec = 0;
  /** The planner's view of the feet after the last queued step: positions, yaws, and who moves next. */
  private readonly planPos = new Float64Array(4);
  private readonly planYaw = new Float64Array(2);
  private nextSide: Side = 0;
  private closed = false;
  private plannedAt = -1;
  private readonly step1: Footstep = { side: 0, x: 0, y: 0, yaw: 0 };
  private readonly peeked: Footstep = { side: 0, x: 0, y: 0, yaw: 0 };

  constructor(model: HumanoidModel, opts: GaitOptions = {}) {
    super(new Walker(model, opts), opts);
    this.maxStep = opts.maxStepM ?? 0.14;
    this.maxTurn = opts.maxTurnRad ?? 0.2;
    this.width = opts.stepWidthM ?? model.geometry.hip[0][1]! - model.geometry.hip[1][1]!;
    this.reach = opts.reachM ?? 0.12;
    this.lookahead = opts.lookahead ?? 3;
    this.perMeter = opts.timePerMeterSec ?? 5;
    this.slack = opts.timeSlackSec ?? 8;
  }

  start(goal: WalkGoal, state: WorldState): void {
    const w = this.walker;
    const moving = w.phase !== 'stand' || w.queued > 0;
    // A walk already under way continues into the new goal; from standing the walker starts afresh.
    if (!moving) w.reset(state);
    this.goalX = goal.x;
    this.goalY = goal.y;
    this.failure = null;
    this.closed = false;
    this.plannedAt = w.steps;
    if (moving) w.clearQueue();
    const d = norm2(goal.x - w.com[0]!, goal.y - w.com[1]!);
    this.deadlineSec = state.tSec + this.slack + this.perMeter * d;
    this.replanFromFeet();
  }

  protected next(state: WorldState): SkillStatus {
    const w = this.walker;
    const d = norm2(this.goalX - w.com[0]!, this.goalY - w.com[1]!);
    if (w.phase === 'stand' && w.queued === 0) {
      if (d <= this.reach && norm2(w.comVel[0]!, w.comVel[1]!) < 0.1) return 'succeeded';
      // Stopped short (or drifted): plan again from where the feet are.
      if (this.closed) {
        this.closed = false;
        this.replanFromFeet();
      }
    }
    if (state.tSec > this.deadlineSec) {
      this.failure = `did not reach (${this.goalX.toFixed(2)}, ${this.goalY.toFixed(2)}) in time: ${d.toFixed(2)} m away`;
      return 'failed';
    }
    // After every touchdown the steps ahead are planned again from where the feet really are.
    if (w.steps !== this.plannedAt) {
      this.plannedAt = w.steps;
      if (!this.closed) {
        w.clearQueue();
        this.replanFromFeet();
      }
    }
    // Keep `lookahead` steps queued.
    while (!this.closed && w.queued < this.lookahead) this.planStep();
    return 'running';
  }

  /** The planner's feet := the walker's feet (and its queue, if any, is dropped when standing). */
  private replanFromFeet(): void {
    const w = this.walker;
    // Steps already queued stay; plan after them.
    const last = this.peeked;
    this.planPos[0] = w.footPos[0][0]!;
    this.planPos[1] = w.footPos[0][1]!;
    this.planPos[2] = w.footPos[1][0]!;
    this.planPos[3] = w.footPos[1][1]!;
    this.planYaw[0] = w.footYaw[0]!;
    this.planYaw[1] = w.footYaw[1]!;
    let next: Side | -1 = w.nextSwing;
    for (let i = 0; w.peek(i, last); i++) {
      this.planPos[2 * last.side] = last.x;
      this.planPos[2 * last.side + 1] = last.y;
      this.planYaw[last.side] = last.yaw;
      next = (1 - last.side) as Side;
    }
    if (next === -1) {
      // From standing: lead with the foot on the side of the goal.
      const h = w.heading;
      const lat = -Math.sin(h) * (this.goalX - w.com[0]!) + Math.cos(h) * (this.goalY - w.com[1]!);
      next = lat >= 0 ? 0 : 1;
    }
    this.nextSide = next;
  }

  /**
   * Plans one footstep toward the goal and queues it. The swing foot lands relative to the other foot in
   * the new heading's frame: forward by twice the goal's remaining distance from that foot (the mid point
   * between the feet ends half a step ahead), clamped to [-maxBack, maxStep]; sideways at the stance
   * width, widened or narrowed (never crossing) to carry the mid point toward the goal. When the goal is
   * near and the feet already stand around it, the plan is closed.
   */
  private planStep(): void {
    const w = this.walker;
    const side = this.nextSide;
    const other = (1 - side) as Side;
    const ox = this.planPos[2 * other]!;
    const oy = this.planPos[2 * other + 1]!;
    const mx = 0.5 * (this.planPos[0]! + this.planPos[2]!);
    const my = 0.5 * (this.planPos[1]! + this.planPos[3]!);
    const heading = this.planYaw[other]!;
    const dist = norm2(this.goalX - mx, this.goalY - my);
    const want = dist > 0.4 ? Math.atan2(this.goalY - my, this.goalX - mx) : heading;
    let turn = Math.max(-this.maxTurn, Math.min(this.maxTurn, wrapAngle(want - heading)));
    // Turn with the foot on the inside of the turn first (left foot for a left turn); the other foot
    // only catches up, so the legs never twist across each other.
    if ((turn > 0 && side === 1) || (turn < 0 && side === 0)) turn = 0;
    const yaw = heading + turn;
    const c = Math.cos(yaw);
    const s = Math.sin(yaw);
    const gx = this.goalX - ox;
    const gy = this.goalY - oy;
    const maxLen = this.maxStep * (1 - Math.abs(turn) / (2 * this.maxTurn));
    const len = Math.max(-0.5 * this.maxStep, Math.min(maxLen, 2 * (c * gx + s * gy)));
    const sgn = side === 0 ? 1 : -1;
    const lat = 2 * (-s * gx + c * gy);
    // Lateral offset of the swing foot from the other foot: the width +- up to 6 cm, never narrower than
    // 0.8 of it (the feet must not cross or touch).
    const off = sgn * Math.max(0.8 * this.width, Math.min(this.width + 0.06, sgn * lat));
    const st = this.step1;
    st.side = side;
    st.x = ox + c * len - s * off;
    st.y = oy + s * len + c * off;
    st.yaw = yaw;
    w.push(st);
    this.planPos[2 * side] = st.x;
    this.planPos[2 * side + 1] = st.y;
    this.planYaw[side] = yaw;
    this.nextSide = other;
    // Done once the feet stand side by side around the goal: this step barely moved the foot forward,
    // the mid point is within half the tolerance, and the heading is settled.
    const nmx = 0.5 * (this.planPos[0]! + this.planPos[2]!);
    const nmy = 0.5 * (this.planPos[1]! + this.planPos[3]!);
    if (norm2(this.goalX - nmx, this.goalY - nmy) < 0.5 * this.reach && Math.abs(len) < 0.03) {
      this.closed = true;
    }
  }
}
