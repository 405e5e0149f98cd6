/**
 * What the two force-guided peg insertions share: the cerebellum's `insert` skill (force-insert.ts: from
 * perception and the wrist force/torque sensor) and the scripted one of the drills
 * (src/control/skills/peg-insert.ts: from the simulator's contact sensor). Both hold the peg with its tip
 * on the gripper axis below the grip site, land it beside the hole, search with an Archimedean spiral
 * while pressing on the board, and insert under admittance control. The tuning is for the NIST assembly
 * task board's round pegs (0.1-0.5 mm diametral clearance, chamfered holes).
 *
 * Forces here are the board's push on the peg (world frame, N): +z when the peg presses down.
 */

/** Tuning of the search and the insertion (defaults: `pegSearchTuning`). */
export interface PegSearchTuning {
  /** Tip height above the hole's top at the end of the approach (m). */
  hoverM?: number;
  /** Goal speed down onto the board, and into the hole while free (m/s). */
  descendSpeed?: number;
  insertSpeed?: number;
  /** Contact force that means the peg has landed (N), and the push kept while searching/inserting (N). */
  contactN?: number;
  pressN?: number;
  /** Spiral pitch (m per turn: below the chamfer's capture width) and tangential speed (m/s). */
  spiralPitchM?: number;
  spiralSpeed?: number;
  /** Give up when the spiral reaches this radius (m). */
  searchRadiusM?: number;
  /** Target insertion depth below the hole's top (m). */
  depthM?: number;
}

/** The tuning with every unset value at its default. */
export function pegSearchTuning(t: PegSearchTuning = {}): Required<PegSearchTuning> {
  return {
    hoverM: t.hoverM ?? 0.01,
    descendSpeed: t.descendSpeed ?? 0.01,
    insertSpeed: t.insertSpeed ?? 0.01,
    contactN: t.contactN ?? 2,
    pressN: t.pressN ?? 6,
    spiralPitchM: t.spiralPitchM ?? 0.0008,
    spiralSpeed: t.spiralSpeed ?? 0.01,
    searchRadiusM: t.searchRadiusM ?? 0.004,
    depthM: t.depthM ?? 0.02,
  };
}

/**
 * A tip this far below the surface it landed on is on the chamfer, inside the bore's capture (m): on a
 * flat board it cannot get there, so from here the bore guides and the skill only has to comply.
 */
export const ENTERED_M = 0.00025;
const PRESS_ADMITTANCE = 0.0004; // m/s per N of push error while searching
const INSERT_ADMITTANCE = 0.002; // m/s per N of push error while inserting
const LATERAL_ADMITTANCE = 0.001; // m/s per N of side force while inserting

/** The peg tip: `offsetM` below the grip site `pos` along its z axis (column 2 of the row-major `mat`). */
export function tipBelowSite(
  pos: ArrayLike<number>,
  mat: ArrayLike<number>,
  offsetM: number,
  tip: Float64Array,
): void {
  for (let i = 0; i < 3; i++) tip[i] = pos[i]! + offsetM * mat[3 * i + 2]!;
}

/** An Archimedean spiral r = pitch theta / 2 pi around a centre, run at a constant tangential speed. */
export class SpiralSearch {
  theta = 0;
  /** Radius reached (m). */
  radiusM = 0;
  private readonly pitchM: number;
  private readonly speedMps: number;

  constructor(pitchM: number, speedMps: number) {
    this.pitchM = pitchM;
    this.speedMps = speedMps;
  }

  reset(): void {
    this.theta = 0;
    this.radiusM = 0;
  }

  /** Advances by `dt` (dtheta = v dt / r) and writes the point around (cx, cy) into goal[0..1]; returns r. */
  step(dt: number, cx: number, cy: number, goal: Float64Array): number {
    const p = this.pitchM;
    const r = (p * this.theta) / (2 * Math.PI);
    this.theta += (this.speedMps * dt) / Math.max(r, p / 2);
    const r2 = (p * this.theta) / (2 * Math.PI);
    this.radiusM = r2;
    goal[0] = cx + r2 * Math.cos(this.theta);
    goal[1] = cy + r2 * Math.sin(this.theta);
    return r2;
  }
}

/**
 * Searching: the goal height pushed down until the board pushes back with `pressN` (admittance: the force
 * error moves the goal; the position servos, closed on the commanded pose, are the spring).
 */
export function pressGoalZ(goalZ: number, pushN: number, pressN: number, dt: number): number {
  return goalZ - PRESS_ADMITTANCE * (pressN - pushN) * dt;
}

/**
 * Inserting, one tick: the goal yields laterally to the bore's side force (`fx`, `fy`: bringing the hand
 * over the peg instead of tilting it in the grip) and descends at `insertSpeed` while free, backing off
 * when pushing harder than `pressN` (a jam is relieved, not pushed through), never below `floorZ`.
 */
export function insertGoal(
  goal: Float64Array,
  fx: number,
  fy: number,
  pushN: number,
  t: Required<PegSearchTuning>,
  dt: number,
  floorZ: number,
): void {
  goal[0] = goal[0]! + LATERAL_ADMITTANCE * fx * dt;
  goal[1] = goal[1]! + LATERAL_ADMITTANCE * fy * dt;
  const rate = Math.min(t.insertSpeed, Math.max(-t.insertSpeed, INSERT_ADMITTANCE * (t.pressN - pushN)));
  goal[2] = Math.max(floorZ, goal[2]! - rate * dt);
}
