/**
 * `insert`: force-guided insertion of the held object (a peg) into a target hole, from perception and the
 * wrist force/torque sensor only.
 *
 * The peg's tip is located once at the start from the perceived peg pose: tip offset = the peg centre's
 * distance below the grip site along the gripper axis plus half its length (catalogue). The hole estimate
 * is averaged over the approach (each fresh perception sample counts once). Contact force is the
 * gravity-compensated wrist wrench (perception) rotated to the world, minus its value at the start (so a
 * payload not included in perception's tool model reads zero), low-pass filtered.
 *
 *   approach  tip to `hoverM` above the hole;
 *   descend   the goal moves down slowly; a contact force above `contactN` with the tip still at the top
 *             means the peg landed beside the hole: search. A tip below the top means it went in: insert;
 *   search    an Archimedean spiral around the hole estimate (pitch below the chamfer's capture width)
 *             while the goal is pushed down until the contact force is `pressN` (admittance: the force
 *             error moves the goal; the position servos, closed on the commanded pose, are the spring).
 *             The chamfer catches the rim and the tip drops: insert. Past `searchRadiusM`: failed;
 *   insert    lateral compliance: the goal follows the tip plus the lateral force times an admittance,
 *             so the bore guides the peg; descent at `insertSpeed` until the tip is `depthM` below the
 *             top (the contact height found by the search, or the perceived top). Above `jamN` the goal
 *             stops descending; jammed longer than `jamSec`: failed.
 */
import type { ObjectEstimate, WorldState } from '../contracts.ts';
import { norm3 } from './arm-motion.ts';
import { ArmSkill, finite3 } from './arm-skill.ts';

export interface InsertGoal {
  object: string;
  target: string;
  depthM?: number;
}

export interface InsertOptions {
  hoverM?: number;
  descendSpeed?: number;
  insertSpeed?: number;
  contactN?: number;
  pressN?: number;
  jamN?: number;
  jamSec?: number;
  spiralPitchM?: number;
  spiralSpeed?: number;
  searchRadiusM?: number;
  depthM?: number;
}

const APPROACH_SPEED = 0.1; // m/s
const ENTERED_M = 0.0006; // tip this far below the top is inside the chamfer's capture
const PRESS_ADMITTANCE = 0.0004; // m/s per N of force error while searching
const LATERAL_ADMITTANCE = 0.0005; // m/s per N of lateral force while inserting
const FORCE_FILTER_SEC = 0.01;
const TIMEOUT: Record<string, number> = { approach: 5, descend: 3, search: 12, insert: 5 };

export class ForceInsertSkill extends ArmSkill<InsertGoal> {
  readonly name = 'insert';
  /** Spiral radius reached (m), for telemetry. */
  searchRadiusM = 0;
  private readonly o: Required<InsertOptions>;
  private depthM = 0.02;
  private holeEst: ObjectEstimate | null = null;
  private readonly hole = new Float64Array(3);
  private holeSamples = 0;
  private holeStamp = Number.NaN;
  private tipOffsetM = 0;
  private readonly tip = new Float64Array(3);
  private readonly tipGoal = new Float64Array(3);
  private readonly siteGoal = new Float64Array(3);
  private readonly bias = new Float64Array(3);
  private readonly force = new Float64Array(3);
  private readonly scratch = new Float64Array(3);
  private yaw = 0;
  private surfaceZ = Number.NaN;
  private theta = 0;
  private jamSecs = 0;

  constructor(ctx: ConstructorParameters<typeof ArmSkill>[0], opts: InsertOptions = {}) {
    super(ctx);
    this.o = {
      hoverM: opts.hoverM ?? 0.01,
      descendSpeed: opts.descendSpeed ?? 0.01,
      insertSpeed: opts.insertSpeed ?? 0.01,
      contactN: opts.contactN ?? 2,
      pressN: opts.pressN ?? 6,
      jamN: opts.jamN ?? 40,
      jamSec: opts.jamSec ?? 1,
      spiralPitchM: opts.spiralPitchM ?? 0.0008,
      spiralSpeed: opts.spiralSpeed ?? 0.01,
      searchRadiusM: opts.searchRadiusM ?? 0.004,
      depthM: opts.depthM ?? 0.02,
    };
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
    // Tip offset along the site's z axis (the gripper axis: column 2 of the row-major matrix).
    let along = 0;
    for (let i = 0; i < 3; i++) along += (peg.pos[i]! - m.pos[i]!) * m.mat[3 * i + 2]!;
    this.tipOffsetM = along + pegGeo.heightM / 2;
    if (!(this.tipOffsetM > 0 && this.tipOffsetM < 0.5)) {
      this.fail(`'${goal.object}' is not in the hand (tip offset ${this.tipOffsetM.toFixed(3)} m)`);
      return;
    }
    this.holeEst = hole;
    this.hole.set(hole.pos);
    this.holeSamples = 1;
    this.holeStamp = hole.stampSec;
    this.yaw = m.siteYaw();
    this.worldForce(state, this.bias);
    this.force.fill(0);
    this.surfaceZ = Number.NaN;
    this.theta = 0;
    this.searchRadiusM = 0;
    this.jamSecs = 0;
    this.enter('approach');
  }

  protected tick(state: WorldState): void {
    const o = this.o;
    const m = this.ctx.motion;
    const dt = m.dtSec;
    for (let i = 0; i < 3; i++) this.tip[i] = m.pos[i]! + this.tipOffsetM * m.mat[3 * i + 2]!;
    this.filterForce(state, dt);
    const fz = this.force[2]!;
    const fNorm = norm3(this.force[0]!, this.force[1]!, fz);
    const hole = this.hole;
    const goal = this.tipGoal;
    let speed = APPROACH_SPEED;
    switch (this.phase) {
      case 'approach': {
        this.averageHole();
        goal[0] = hole[0]!;
        goal[1] = hole[1]!;
        goal[2] = hole[2]! + o.hoverM;
        if (this.tipError() < 0.0007 && m.rotError < 0.02) this.enter('descend');
        break;
      }
      case 'descend': {
        speed = 2 * o.descendSpeed;
        goal[2] = goal[2]! - o.descendSpeed * dt;
        if (this.tip[2]! < hole[2]! - ENTERED_M) {
          this.startInsert();
        } else if (fNorm > o.contactN) {
          this.surfaceZ = this.tip[2]!;
          goal[2] = this.tip[2]!;
          this.theta = 0;
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
        // Archimedean spiral r = pitch theta / 2 pi at tangential speed v: dtheta = v dt / r.
        const r = (o.spiralPitchM * this.theta) / (2 * Math.PI);
        this.theta += (o.spiralSpeed * dt) / Math.max(r, o.spiralPitchM / 2);
        const r2 = (o.spiralPitchM * this.theta) / (2 * Math.PI);
        this.searchRadiusM = r2;
        if (r2 > o.searchRadiusM) {
          this.fail(
            `spiral search reached ${(1000 * o.searchRadiusM).toFixed(1)} mm without finding the hole`,
          );
          return;
        }
        goal[0] = hole[0]! + r2 * Math.cos(this.theta);
        goal[1] = hole[1]! + r2 * Math.sin(this.theta);
        // Admittance in z: press until the contact force is pressN.
        goal[2] = Math.min(goal[2]! - PRESS_ADMITTANCE * (o.pressN - fNorm) * dt, this.surfaceZ + 0.001);
        break;
      }
      case 'insert': {
        speed = 2 * o.insertSpeed;
        // Lateral compliance: follow the tip, yield along the lateral contact force.
        goal[0] = this.tip[0]! + LATERAL_ADMITTANCE * this.force[0]!;
        goal[1] = this.tip[1]! + LATERAL_ADMITTANCE * this.force[1]!;
        const top = Number.isNaN(this.surfaceZ) ? hole[2]! : this.surfaceZ;
        if (fNorm < o.jamN) {
          goal[2] = Math.max(top - this.depthM - 0.001, goal[2]! - o.insertSpeed * dt);
          this.jamSecs = 0;
        } else {
          this.jamSecs += dt;
          if (this.jamSecs > o.jamSec) {
            this.fail(
              `jammed at ${(1000 * (top - this.tip[2]!)).toFixed(1)} mm depth (${fNorm.toFixed(0)} N)`,
            );
            return;
          }
        }
        if (top - this.tip[2]! >= this.depthM) this.succeed();
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
    m.cartesian(state, this.siteGoal, this.yaw, speed);
  }

  private startInsert(): void {
    this.tipGoal[2] = this.tip[2]!;
    this.enter('insert');
  }

  /** Running mean of the distinct hole samples seen during the approach. */
  private averageHole(): void {
    const e = this.holeEst!;
    if (!e.visible || e.stampSec === this.holeStamp || !finite3(e.pos)) return;
    this.holeStamp = e.stampSec;
    this.holeSamples++;
    const k = 1 / this.holeSamples;
    for (let i = 0; i < 3; i++) this.hole[i] = this.hole[i]! + k * (e.pos[i]! - this.hole[i]!);
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
