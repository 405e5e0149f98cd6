/**
 * Factory task: insert the held peg into its hole on the peg board (src/sim/scenes/peg-board.ts).
 *
 * Initial states: the arm near home (joints jittered), the board shifted on the table, and the error of
 * the hole position the robot perceives (what a camera would report): a skill is handed
 * `perceivedHoleTop`, the judge uses the true hole. Success: the peg tip at least `successDepthM` below
 * the hole's top, inside the bore. Metrics: insertion depth, lateral error (tip to hole axis), max
 * contact force on the peg over the episode.
 */

import type { Rng } from '../rng.ts';
import { PEG_BOARD_LAYOUT, type PegBoardLayout, pegSpec } from '../scenes/peg-board.ts';
import type { SceneWorld } from '../scenes/scene-world.ts';
import { BaseTask, jitteredHome, uniform } from './task.ts';

export interface PegInsertionState {
  /** Canonical arm state (joints, gripper opening). */
  arm: number[];
  /** Board centre on the table (m, world). */
  boardXY: [number, number];
  /** Perception error of the hole position (m, world x/y). */
  holeErrorXY: [number, number];
}

export interface PegInsertionOptions {
  layout?: PegBoardLayout;
  /** Board placement range around the layout's centre (m, each axis). */
  boardShiftM?: number;
  /** Radius of the perceived-hole error (m); the error is drawn uniformly in the disc. */
  perceptionErrorM?: number;
  /** Arm joint jitter around home (rad). */
  jointJitterRad?: number;
  /** Depth that counts as inserted (m). */
  successDepthM?: number;
}

export class PegInsertionTask extends BaseTask<PegInsertionState> {
  readonly name = 'factory/peg-insertion';
  readonly layout: PegBoardLayout;
  readonly successDepthM: number;
  readonly holeRadiusM: number;
  private readonly boardShiftM: number;
  private readonly perceptionErrorM: number;
  private readonly jointJitterRad: number;
  private maxForceN = 0;
  private holeError: [number, number] = [0, 0];
  private readonly f = new Float64Array(3);
  private readonly p = new Float64Array(3);
  private readonly h = new Float64Array(3);

  constructor(opts: PegInsertionOptions = {}) {
    super();
    this.layout = opts.layout ?? PEG_BOARD_LAYOUT;
    this.boardShiftM = opts.boardShiftM ?? 0.03;
    this.perceptionErrorM = opts.perceptionErrorM ?? 0.002;
    this.jointJitterRad = opts.jointJitterRad ?? 0.05;
    this.successDepthM = opts.successDepthM ?? 0.015;
    this.holeRadiusM = pegSpec(this.layout).holeDiameterM / 2;
  }

  sampleInitialState(rng: Rng): PegInsertionState {
    const { board } = this.layout;
    const s = this.boardShiftM;
    const boardXY: [number, number] = [board.x + uniform(rng, -s, s), board.y + uniform(rng, -s, s)];
    // Uniform in the disc: r = R sqrt(u).
    const r = this.perceptionErrorM * Math.sqrt(rng.next());
    const a = uniform(rng, -Math.PI, Math.PI);
    const home = [...PEG_ARM_HOME];
    return {
      arm: jitteredHome(home, 7, rng, this.jointJitterRad),
      boardXY,
      holeErrorXY: [r * Math.cos(a), r * Math.sin(a)],
    };
  }

  apply(world: SceneWorld, state: PegInsertionState): void {
    world.resetData();
    const board = world.id('body', 'board');
    const mocapId = (world.model.body_mocapid as Int32Array)[board]!;
    const mp = world.mocapPos;
    mp[3 * mocapId] = state.boardXY[0];
    mp[3 * mocapId + 1] = state.boardXY[1];
    mp[3 * mocapId + 2] = this.layout.tableTopZ;
    world.setArmState(state.arm);
    world.forward();
    placePegInHand(world, this.layout);
    world.forward();
    this.holeError = [state.holeErrorXY[0], state.holeErrorXY[1]];
    this.maxForceN = 0;
  }

  /** Top centre of the hole for the held peg (m, world): the truth. */
  holeTop(world: SceneWorld, out: Float64Array): void {
    world.sitePos(world.id('site', `hole/${this.layout.peg.name}`), out);
  }

  /** The hole top the robot perceives: the truth plus this episode's perception error. */
  perceivedHoleTop(world: SceneWorld, out: Float64Array): void {
    this.holeTop(world, out);
    out[0] = out[0]! + this.holeError[0];
    out[1] = out[1]! + this.holeError[1];
  }

  override update(world: SceneWorld): void {
    world.readSensor(world.id('sensor', 'peg_contact'), this.f);
    // Every physics step: not Math.hypot, which allocates per call in V8.
    const f = this.f;
    const n = Math.sqrt(f[0]! * f[0]! + f[1]! * f[1]! + f[2]! * f[2]!);
    if (n > this.maxForceN) this.maxForceN = n;
  }

  success(world: SceneWorld): boolean {
    const m = this.metrics(world);
    return m.insertionDepthM! >= this.successDepthM && m.lateralErrorM! < this.holeRadiusM;
  }

  metrics(world: SceneWorld): Record<string, number> {
    world.sitePos(world.id('site', 'peg_tip'), this.p);
    this.holeTop(world, this.h);
    return {
      insertionDepthM: this.h[2]! - this.p[2]!,
      lateralErrorM: Math.hypot(this.p[0]! - this.h[0]!, this.p[1]! - this.h[1]!),
      maxContactForceN: this.maxForceN,
    };
  }
}

/**
 * Arm start for the peg board: home with the wrist turned so the fingers close across y (the home pose of
 * arm7 already points the gripper down about 0.45 m in front of the base).
 */
export const PEG_ARM_HOME: readonly number[] = [0, 0.4, 0, 1.6, 0, Math.PI - 2.0, 0, 0.008];

/** Puts the peg where the `grasp` weld holds it: `pegInHandZ` along the hand's z axis, same orientation. */
export function placePegInHand(world: SceneWorld, layout: PegBoardLayout): void {
  const hand = world.id('body', 'arm7/hand');
  const xpos = world.xpos;
  const xmat = world.xmat;
  const xquat = world.xquat;
  const z = layout.pegInHandZ;
  const pos = [0, 1, 2].map((i) => xpos[3 * hand + i]! + xmat[9 * hand + 3 * i + 2]! * z);
  const quat = [0, 1, 2, 3].map((i) => xquat[4 * hand + i]!);
  world.setFreePose('peg', pos, quat);
}
