/**
 * `insert`: force-guided insertion of the held object (a peg) into a target hole, from perception and the
 * wrist force/torque sensor only.
 *
 * Estimates, refined over the approach (each fresh perception sample counts once, so noise averages out):
 * the hole's top centre, and the peg tip's offset below the grip site along the gripper axis (perceived
 * peg centre's distance along the axis plus half its catalogued length). A peg sample is compared with the
 * grip site where it was when the sample was taken (a short history of site poses), not where it is now:
 * the hand moves during the perception latency. Contact force is the
 * gravity-compensated wrist wrench (perception) rotated to the world, minus its value at the start (a
 * payload not in perception's tool model then reads zero), low-pass filtered.
 *
 *   approach  tip to `hoverM` above the hole;
 *   descend   the goal moves down slowly. Contact (force above `contactN`) near the perceived top means
 *             the peg landed on the board beside the hole: search, from the measured contact height. A tip
 *             `deepM` below the perceived top means it went in: insert;
 *   search    an Archimedean spiral around the hole estimate (pitch below the chamfer's capture width)
 *             while the goal is pushed down until the board pushes back with `pressN` (admittance: the
 *             force error moves the goal; the position servos, closed on the commanded pose, are the
 *             spring). The chamfer catches the rim and the tip drops below the contact height: insert at
 *             once (dragging on would tilt the peg in the grip and wedge it). Past `searchRadiusM`: failed;
 *   insert    lateral admittance (the goal yields to the bore's side force, bringing the hand over the
 *             peg) and force-regulated descent (`insertSpeed` while free, backing off when pushing harder
 *             than `pressN`, so a jam is relieved, not pushed through) until the tip is `depthM` below the
 *             top (the contact height when there was one, else the perceived top). No progress for
 *             `stallSec` close to the top: the peg is still on the surface, back to the spiral; deeper in:
 *             jammed, failed.
 *
 * Near the hole the differential IK runs without its null-space posture pull (ArmMotion.cartesian). The
 * spiral, the admittance laws and the tuning are shared with the drills' scripted insertion (peg-search.ts).
 */
import type { ObjectEstimate, WorldState } from '../contracts.ts';
import { norm3 } from '../rotation.ts';
import { ArmSkill, finite3 } from './arm-skill.ts';
import {
  ENTERED_M,
  insertGoal,
  type PegSearchTuning,
  pegSearchTuning,
  pressGoalZ,
  SpiralSearch,
  tipBelowSite,
} from './peg-search.ts';

export interface InsertGoal {
  object: string;
  target: string;
  depthM?: number;
}

export interface InsertOptions extends PegSearchTuning {
  /** Below the perceived top by this much, the tip is in the hole (m, default 0.002). */
  deepM?: number;
  /** Insertion without progress for this long counts as stalled (s, default 1). */
  stallSec?: number;
}

const APPROACH_SPEED = 0.25; // m/s, slowing to FINE_SPEED within FINE_M of the hover point
const FINE_SPEED = 0.03;
const FINE_M = 0.02;
const PROGRESS_M = 0.0002; // depth gained that counts as progress
const FORCE_FILTER_SEC = 0.01;
const TIMEOUT: Record<string, number> = { approach: 6, descend: 3, search: 15, insert: 6 };

export class ForceInsertSkill extends ArmSkill<InsertGoal> {
  readonly name = 'insert';
  /** Spiral radius reached (m), for telemetry. */
  searchRadiusM = 0;
  private readonly o: Required<InsertOptions>;
  private depthM = 0.02;
  private holeEst: ObjectEstimate | null = null;
  private pegEst: ObjectEstimate | null = null;
  private readonly hole = new Float64Array(3);
  private holeN = 0;
  private holeStamp = Number.NaN;
  private pegHalfM = 0;
  private pegN = 0;
  private pegStamp = Number.NaN;
  private tipOffsetM = 0;
  /** Grip-site history for matching perception stamps: per slot time, position, z axis. */
  private readonly histT: Float64Array;
  private readonly histP: Float64Array;
  private histHead = -1;
  private histCount = 0;
  private readonly tip = new Float64Array(3);
  private readonly tipGoal = new Float64Array(3);
  private readonly siteGoal = new Float64Array(3);
  private readonly bias = new Float64Array(3);
  private readonly force = new Float64Array(3);
  private readonly scratch = new Float64Array(3);
  private yaw = 0;
  private surfaceZ = Number.NaN;
  private readonly spiral: SpiralSearch;
  private bestDepth = 0;
  private stalledSec = 0;

  constructor(ctx: ConstructorParameters<typeof ArmSkill>[0], opts: InsertOptions = {}) {
    super(ctx);
    this.o = { ...pegSearchTuning(opts), deepM: opts.deepM ?? 0.002, stallSec: opts.stallSec ?? 1 };
    this.spiral = new SpiralSearch(this.o.spiralPitchM, this.o.spiralSpeed);
    const slots = Math.ceil(0.5 / ctx.motion.dtSec) + 1;
    this.histT = new Float64Array(slots);
    this.histP = new Float64Array(6 * slots);
  }

  protected begin(goal: InsertGoal, state: WorldState): void {
    this.depthM = goal.depthM ?? this.o.depthM;
    if (state.wrench === undefined) {
      this.fail('needs a wrist force/torque sensor in the world state');
      return;
    }
    const pegGeo = this.geometry(goal.object);
    if (pegGeo === null) return;
    const peg = this.objectEstimate(state, goal.object);
    if (peg === null) return;
    const hole = this.objectEstimate(state, goal.target);
    if (hole === null) return;
    const m = this.ctx.motion;
    m.readSite();
    this.pegEst = peg;
    this.pegHalfM = pegGeo.heightM / 2;
    this.pegN = 0;
    this.pegStamp = Number.NaN;
    this.histHead = -1;
    this.histCount = 0;
    this.record(state.tSec);
    // A provisional offset from the latest sample against the current pose; refined from the history.
    this.tipOffsetM = this.alongAxis(peg.pos, 0) + this.pegHalfM;
    if (!(this.tipOffsetM > 0 && this.tipOffsetM < 0.5)) {
      this.fail(
        `'${goal.object}' is not in the hand (tip ${this.tipOffsetM.toFixed(3)} m below the grip site)`,
      );
      return;
    }
    this.holeEst = hole;
    this.holeN = 0;
    this.holeStamp = Number.NaN;
    this.averageHole();
    this.yaw = m.siteYaw();
    this.worldForce(state, this.bias);
    this.force.fill(0);
    this.surfaceZ = Number.NaN;
    this.spiral.reset();
    this.searchRadiusM = 0;
    this.enter('approach');
  }

  protected tick(state: WorldState): void {
    const o = this.o;
    const m = this.ctx.motion;
    const dt = m.dtSec;
    tipBelowSite(m.pos, m.mat, this.tipOffsetM, this.tip);
    this.record(state.tSec);
    this.filterForce(state, dt);
    // The board's push on the peg: up (+z) when the peg presses down.
    const push = this.force[2]!;
    const fNorm = norm3(this.force[0]!, this.force[1]!, push);
    const hole = this.hole;
    const goal = this.tipGoal;
    let speed = APPROACH_SPEED;
    switch (this.phase) {
      case 'approach': {
        this.averageHole();
        this.averagePeg();
        goal[0] = hole[0]!;
        goal[1] = hole[1]!;
        goal[2] = hole[2]! + o.hoverM;
        const err = this.tipError();
        if (err < FINE_M) speed = FINE_SPEED;
        if (err < 0.0007 && m.rotError < 0.02) this.enter('descend');
        break;
      }
      case 'descend': {
        speed = 2 * o.descendSpeed;
        goal[2] = goal[2]! - o.descendSpeed * dt;
        if (this.tip[2]! < hole[2]! - o.deepM) {
          this.startInsert();
        } else if (fNorm > o.contactN) {
          this.surfaceZ = this.tip[2]!;
          goal[2] = this.tip[2]!;
          this.spiral.reset();
          this.enter('search');
        }
        break;
      }
      case 'search': {
        speed = 2 * o.spiralSpeed;
        if (this.tip[2]! < this.surfaceZ - ENTERED_M) {
          this.startInsert();
          break;
        }
        const r = this.spiral.step(dt, hole[0]!, hole[1]!, goal);
        this.searchRadiusM = r;
        if (r > o.searchRadiusM) {
          this.fail(
            `spiral search reached ${(1000 * o.searchRadiusM).toFixed(1)} mm without finding the hole`,
          );
          return;
        }
        goal[2] = Math.min(pressGoalZ(goal[2]!, push, o.pressN, dt), this.surfaceZ + 0.001);
        break;
      }
      case 'insert': {
        speed = 2 * o.insertSpeed;
        const top = this.top();
        insertGoal(goal, this.force[0]!, this.force[1]!, push, o, dt, top - this.depthM - 0.001);
        const depth = top - this.tip[2]!;
        if (depth >= this.depthM) {
          this.succeed();
          return;
        }
        if (depth > this.bestDepth + PROGRESS_M) {
          this.bestDepth = depth;
          this.stalledSec = 0;
        } else this.stalledSec += dt;
        if (this.stalledSec > o.stallSec) {
          if (depth < o.deepM && !Number.isNaN(this.surfaceZ)) {
            // Still on the surface (the drop was a tilt, not the bore): resume the spiral where it was.
            this.surfaceZ = Math.min(this.surfaceZ, this.tip[2]!);
            goal[2] = this.tip[2]!;
            this.enter('search');
          } else {
            this.fail(`stuck at ${(1000 * depth).toFixed(1)} mm depth (${fNorm.toFixed(0)} N)`);
            return;
          }
        }
        break;
      }
    }
    if (this.status !== 'running') return;
    if (this.phaseSec > (TIMEOUT[this.phase] ?? 5)) {
      this.fail(`${this.phase} took longer than ${TIMEOUT[this.phase]} s`);
      return;
    }
    // The site goal is the tip goal moved back along the gripper axis.
    for (let i = 0; i < 3; i++) this.siteGoal[i] = goal[i]! - this.tipOffsetM * m.mat[3 * i + 2]!;
    const far = this.phase === 'approach' && this.tipError() > FINE_M;
    m.cartesian(state, this.siteGoal, this.yaw, speed, far);
  }

  /** Top of the hole: the measured contact height when the peg landed, else the perceived top. */
  private top(): number {
    return Number.isNaN(this.surfaceZ) ? this.hole[2]! : this.surfaceZ;
  }

  private startInsert(): void {
    // The goal starts at the commanded tip (measured plus servo deflection): no jump in the command.
    const d = this.ctx.motion.defl;
    for (let i = 0; i < 3; i++) this.tipGoal[i] = this.tip[i]! + d[i]!;
    this.bestDepth = this.top() - this.tip[2]!;
    this.stalledSec = 0;
    this.enter('insert');
  }

  /** Running mean of the distinct hole samples. */
  private averageHole(): void {
    const e = this.holeEst!;
    if (!e.visible || e.stampSec === this.holeStamp || !finite3(e.pos)) return;
    this.holeStamp = e.stampSec;
    const k = 1 / ++this.holeN;
    for (let i = 0; i < 3; i++) this.hole[i] = this.hole[i]! + k * (e.pos[i]! - this.hole[i]!);
  }

  /** Running mean of the tip offset over the distinct peg samples (the peg is fixed in the hand). */
  private averagePeg(): void {
    const e = this.pegEst!;
    if (!e.visible || e.stampSec === this.pegStamp || !finite3(e.pos)) return;
    this.pegStamp = e.stampSec;
    const slot = this.slotAt(e.stampSec);
    if (slot < 0) return;
    const offset = this.alongAxis(e.pos, slot) + this.pegHalfM;
    this.pegN++;
    this.tipOffsetM = this.pegN === 1 ? offset : this.tipOffsetM + (offset - this.tipOffsetM) / this.pegN;
  }

  /** Distance of `p` from the grip site along the gripper axis, with the site pose of history slot k. */
  private alongAxis(p: ArrayLike<number>, k: number): number {
    const h = this.histP;
    const b = 6 * (k < 0 ? this.histHead : k);
    let along = 0;
    for (let i = 0; i < 3; i++) along += (p[i]! - h[b + i]!) * h[b + 3 + i]!;
    return along;
  }

  /** Pushes the current grip-site position and z axis (column 2 of the row-major matrix) at `tSec`. */
  private record(tSec: number): void {
    const m = this.ctx.motion;
    const n = this.histT.length;
    this.histHead = (this.histHead + 1) % n;
    if (this.histCount < n) this.histCount++;
    this.histT[this.histHead] = tSec;
    const b = 6 * this.histHead;
    for (let i = 0; i < 3; i++) {
      this.histP[b + i] = m.pos[i]!;
      this.histP[b + 3 + i] = m.mat[3 * i + 2]!;
    }
  }

  /** The history slot recorded at or just before `tSec`; -1 when the history does not reach back. */
  private slotAt(tSec: number): number {
    const n = this.histT.length;
    for (let k = 0; k < this.histCount; k++) {
      const slot = (this.histHead - k + n) % n;
      if (this.histT[slot]! <= tSec + 1e-9) return slot;
    }
    return -1;
  }

  private tipError(): number {
    const g = this.tipGoal;
    return norm3(g[0]! - this.tip[0]!, g[1]! - this.tip[1]!, g[2]! - this.tip[2]!);
  }

  /** Contact force in the world (sensor frame = grip-site frame on arm7), minus the start bias, filtered. */
  private filterForce(state: WorldState, dt: number): void {
    const raw = this.scratch;
    this.worldForce(state, raw);
    const a = dt / (FORCE_FILTER_SEC + dt);
    for (let i = 0; i < 3; i++) {
      const f = raw[i]! - this.bias[i]!;
      // A non-finite wrench sample is skipped (the filter holds).
      if (Number.isFinite(f)) this.force[i] = this.force[i]! + a * (f - this.force[i]!);
    }
  }

  private worldForce(state: WorldState, out: Float64Array): void {
    const w = state.wrench!;
    const R = this.ctx.motion.mat;
    for (let i = 0; i < 3; i++) out[i] = R[3 * i]! * w[0]! + R[3 * i + 1]! * w[1]! + R[3 * i + 2]! * w[2]!;
  }
}
