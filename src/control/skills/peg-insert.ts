/**
 * Scripted force-guided peg insertion (cerebellum) for an arm holding a peg with its tip `tipOffsetM`
 * below the grip site along the site's z axis (src/sim/scenes/peg-board.ts: the peg starts welded in the
 * gripper). Phases:
 *   approach  tip to `hoverM` above the perceived hole top, gripper pointing down;
 *   descend   the goal moves down at `descendSpeed`; contact force above `contactN` with the tip still at
 *             the surface means the peg landed on the board: search; a tip below the top means it went in;
 *   search    an Archimedean spiral around the perceived hole (pitch below the chamfer's capture width)
 *             while the goal is pushed down until the contact force is `pressN`: the position servos are
 *             the spring, the force error moves the goal (admittance control). The chamfer catches the rim
 *             and the tip drops below the top: insert, at once. Past `searchRadiusM`: failed;
 *   insert    lateral admittance (the goal yields to the bore's side force, which brings the hand over
 *             the peg instead of tilting it in the grip) and force-regulated descent (`insertSpeed` while
 *             free, backing off above `pressN`, so a jam is relieved rather than pushed) until the tip is
 *             `depthM` below the top; past `insertTimeoutSec`: failed.
 * Motion goes through the shared differential IK (src/control/ik.ts); the spiral, the admittance laws and
 * the tuning are the cerebellum's `insert` skill's (src/control/cerebellum/peg-search.ts). `step`
 * allocates nothing.
 */
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import {
  ENTERED_M,
  insertGoal,
  type PegSearchTuning,
  pegSearchTuning,
  pressGoalZ,
  SpiralSearch,
  tipBelowSite,
} from '../cerebellum/peg-search.ts';
import { type EpisodeOptions, type EpisodeResult, runEpisode } from '../episode-loop.ts';
import { DlsIk, downOrientationError, integrateJointTargets } from '../ik.ts';
import { norm3 } from '../rotation.ts';
import type { Spine } from '../spine.ts';

export type PegInsertPhase = 'approach' | 'descend' | 'search' | 'insert' | 'done' | 'failed';

export interface PegInsertOptions extends PegSearchTuning {
  /** Period at which `step` is called (s). */
  controlDtSec: number;
  /** Perceived top centre of the hole (m, world). */
  holeTop: ArrayLike<number>;
  /** Peg tip below the grip site along the site z axis (m). */
  tipOffsetM: number;
  /** Name of the sensor giving the net contact force on the peg (3 values, N). */
  forceSensor?: string;
  /** Phase time limits (s). */
  approachTimeoutSec?: number;
  insertTimeoutSec?: number;
}

const POS_GAIN = 10; // 1/s
const ROT_GAIN = 8; // 1/s
const APPROACH_SPEED = 0.15; // m/s
const JOINT_SPEED = 1.0; // rad/s, under the spine's 2.5
const MAX_LEAD_RAD = 0.05;
// No null-space posture pull (DlsIk nullGain 0): the damped projector leaks part of it into the task
// space, which left the tip a steady ~0.5 mm off its goal; over a few centimetres of motion the
// redundant joint has nowhere to drift.

export class PegInsertSkill {
  phase: PegInsertPhase = 'approach';
  /** Spiral radius reached (m). */
  searchRadiusReachedM = 0;
  /** Sim time spent per phase (s). */
  readonly phaseTimeSec: Record<PegInsertPhase, number> = {
    approach: 0,
    descend: 0,
    search: 0,
    insert: 0,
    done: 0,
    failed: 0,
  };
  private readonly o: Required<Omit<PegInsertOptions, 'holeTop'>>;
  private readonly hole = new Float64Array(3);
  private readonly n: number;
  private readonly ik: DlsIk;
  private readonly state: Float64Array;
  private readonly posture: Float64Array;
  private readonly qCmd: Float64Array;
  private readonly pos = new Float64Array(3);
  private readonly mat = new Float64Array(9);
  private readonly jac: Float64Array;
  private readonly twist = new Float64Array(6);
  private readonly deflection = new Float64Array(6);
  private readonly dq: Float64Array;
  private readonly tip = new Float64Array(3);
  private readonly goal = new Float64Array(3); // tip goal
  private readonly force = new Float64Array(3);
  private readonly sensorId: number;
  private gripperCmd: number;
  private phaseSec = 0;
  private readonly spiral: SpiralSearch;
  private yawGoal = 0;

  constructor(world: SceneWorld, opts: PegInsertOptions) {
    this.o = {
      ...pegSearchTuning(opts),
      controlDtSec: opts.controlDtSec,
      tipOffsetM: opts.tipOffsetM,
      forceSensor: opts.forceSensor ?? 'peg_contact',
      approachTimeoutSec: opts.approachTimeoutSec ?? 4,
      insertTimeoutSec: opts.insertTimeoutSec ?? 4,
    };
    this.spiral = new SpiralSearch(this.o.spiralPitchM, this.o.spiralSpeed);
    for (let i = 0; i < 3; i++) this.hole[i] = opts.holeTop[i]!;
    this.n = world.armDof;
    this.ik = new DlsIk(this.n, { nullGain: 0 });
    this.state = new Float64Array(world.stateDim);
    this.posture = new Float64Array(this.n);
    this.qCmd = new Float64Array(this.n);
    this.jac = new Float64Array(6 * this.n);
    this.dq = new Float64Array(this.n);
    this.sensorId = world.id('sensor', this.o.forceSensor);
    world.readState(this.state);
    for (let i = 0; i < this.n; i++) {
      this.qCmd[i] = this.state[i]!;
      this.posture[i] = this.state[i]!;
    }
    this.gripperCmd = this.state[this.n]!;
    world.gripSite(this.pos, this.mat);
    this.yawGoal = Math.atan2(this.mat[3]!, this.mat[0]!);
  }

  get finished(): boolean {
    return this.phase === 'done' || this.phase === 'failed';
  }

  /** One control tick: joint targets then the gripper target into `out` (canonical action order). */
  step(world: SceneWorld, out: Float64Array): void {
    const o = this.o;
    const dt = o.controlDtSec;
    world.readState(this.state);
    world.gripSite(this.pos, this.mat, this.jac);
    tipBelowSite(this.pos, this.mat, o.tipOffsetM, this.tip);
    this.updateDeflection();
    world.readSensor(this.sensorId, this.force);
    // The sensor reports what the peg exerts on the board: pressing down reads negative z.
    const pushN = -this.force[2]!;
    const hole = this.hole;
    const goal = this.goal;
    this.phaseSec += dt;
    this.phaseTimeSec[this.phase] += dt;
    let speed = APPROACH_SPEED;
    switch (this.phase) {
      case 'approach': {
        goal[0] = hole[0]!;
        goal[1] = hole[1]!;
        goal[2] = hole[2]! + o.hoverM;
        if (this.tipError() < 0.0005 || this.phaseSec > o.approachTimeoutSec) this.enter('descend');
        break;
      }
      case 'descend': {
        speed = 2 * o.descendSpeed;
        goal[2] = goal[2]! - o.descendSpeed * dt;
        if (this.tip[2]! < hole[2]! - ENTERED_M) {
          this.enter('insert');
        } else if (pushN > o.contactN) {
          goal[2] = this.tip[2]!;
          this.spiral.reset();
          this.enter('search');
        }
        break;
      }
      case 'search': {
        speed = 2 * o.spiralSpeed;
        // The tip dropped below the board's top: it is on the chamfer over the bore. Stop spiralling
        // at once (dragging on would tilt the peg in the grip and wedge it) and let the bore guide it.
        if (this.tip[2]! < hole[2]! - ENTERED_M) {
          this.enter('insert');
          break;
        }
        const r = this.spiral.step(dt, hole[0]!, hole[1]!, goal);
        this.searchRadiusReachedM = r;
        if (r > o.searchRadiusM) {
          this.enter('failed');
          break;
        }
        goal[2] = Math.min(pressGoalZ(goal[2]!, pushN, o.pressN, dt), hole[2]! + 0.001);
        break;
      }
      case 'insert': {
        speed = 2 * o.insertSpeed;
        // The sensor reads the peg's force on the board: the board's on the peg is its opposite.
        insertGoal(goal, -this.force[0]!, -this.force[1]!, pushN, o, dt, hole[2]! - o.depthM - 0.001);
        if (hole[2]! - this.tip[2]! >= o.depthM) this.enter('done');
        else if (this.phaseSec > o.insertTimeoutSec) this.enter('failed');
        break;
      }
      case 'done':
      case 'failed':
        // Hold where the tip is.
        break;
    }
    this.computeTwist(speed);
    this.ik.solve(this.jac, this.twist, this.dq, this.state, this.posture);
    integrateJointTargets(this.qCmd, this.state, this.dq, dt, JOINT_SPEED, MAX_LEAD_RAD);
    for (let i = 0; i < this.n; i++) out[i] = this.qCmd[i]!;
    out[this.n] = this.gripperCmd;
  }

  private enter(phase: PegInsertPhase): void {
    this.phase = phase;
    this.phaseSec = 0;
    // From here the goal starts at the commanded tip (measured + servo deflection): no jump in command.
    if (phase === 'insert') for (let i = 0; i < 3; i++) this.goal[i] = this.tip[i]! + this.deflection[i]!;
    if (phase === 'done' || phase === 'failed') this.goal.set(this.tip);
  }

  private tipError(): number {
    return norm3(this.goal[0]! - this.tip[0]!, this.goal[1]! - this.tip[1]!, this.goal[2]! - this.tip[2]!);
  }

  /**
   * Grip-site twist moving the *commanded* tip toward its goal (the site and the tip translate together).
   * The commanded pose is the measured one plus J (q_cmd - q): the servo deflection. Closing the loop on
   * it rather than on the measured pose makes the arm a spring about the goal (force = servo stiffness x
   * deflection) instead of an integrator that winds up against the board.
   */
  private computeTwist(speed: number): void {
    const t = this.twist;
    for (let i = 0; i < 3; i++) t[i] = POS_GAIN * (this.goal[i]! - this.tip[i]! - this.deflection[i]!);
    const v = norm3(t[0]!, t[1]!, t[2]!);
    if (v > speed) for (let i = 0; i < 3; i++) t[i] = (t[i]! * speed) / v;
    downOrientationError(this.mat, this.yawGoal, t, 3);
    for (let i = 3; i < 6; i++) t[i] = ROT_GAIN * (t[i]! - this.deflection[i]!);
  }

  /** Servo deflection J (q_cmd - q): where the commanded pose is relative to the measured one. */
  private updateDeflection(): void {
    const n = this.n;
    const J = this.jac;
    for (let r = 0; r < 6; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += J[r * n + k]! * (this.qCmd[k]! - this.state[k]!);
      this.deflection[r] = s;
    }
  }
}

export interface PegInsertRunOptions {
  world: SceneWorld;
  /** Has written the initial state (`task.apply`) before the call; judges the episode. */
  task: EpisodeOptions['task'];
  skill: Omit<PegInsertOptions, 'controlDtSec'>;
  /** Cerebellum rate (default 500 Hz); must divide the physics rate. */
  controlHz?: number;
  maxSimSec?: number;
  /** The spinal cord (default: the embodiment's limits at the physics rate). */
  spine?: Spine;
}

export interface PegInsertRunResult extends EpisodeResult {
  phase: PegInsertPhase;
  searchRadiusReachedM: number;
  phaseTimeSec: Record<PegInsertPhase, number>;
}

/**
 * Runs the skill in the episode loop (src/control/episode-loop.ts) at `controlHz`, in a world whose initial
 * state is already written. Stops when the skill finishes (plus 0.1 s to settle) or at `maxSimSec`.
 */
export function runPegInsertion(opts: PegInsertRunOptions): PegInsertRunResult {
  const { world } = opts;
  let skill: PegInsertSkill | undefined;
  const r = runEpisode({
    world,
    task: opts.task,
    controlHz: opts.controlHz ?? 500,
    maxSimSec: opts.maxSimSec ?? 20,
    settleSec: 0.1,
    ...(opts.spine ? { spine: opts.spine } : {}),
    skill: (controlDtSec) => {
      skill = new PegInsertSkill(world, { ...opts.skill, controlDtSec });
      return skill;
    },
  });
  const s = skill as PegInsertSkill;
  return {
    ...r,
    phase: s.phase,
    searchRadiusReachedM: s.searchRadiusReachedM,
    phaseTimeSec: { ...s.phaseTimeSec },
  };
}
