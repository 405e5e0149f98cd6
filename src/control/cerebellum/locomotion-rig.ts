/**
 * The humanoid's control tick in the locomotion scene: read sensors -> perception -> cerebellum skill ->
 * spine -> actuators (DESIGN.md, "Control tick"), one physics step at a time.
 *
 * - Sensors go through the sim's SensorPipeline (rate, noise, latency, dropout as configured), so the
 *   skill sees what a real robot would: joint positions/velocities/torques, the IMU and the sole
 *   force/torque sensors. Nothing of the simulator's true base state reaches the skill.
 * - Perception: the BaseEstimator (IMU + leg odometry) fills `state.base`; the sole wrenches become the
 *   `left_sole` / `right_sole` entries of `state.tactile` (load, centre of pressure, no slip rate).
 * - The skill runs at `controlHz` (default 200 Hz = every 5 ms physics step); the spine checks every
 *   command against the embodiment's position and speed limits before it reaches `ctrl`.
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { locomotionScene } from '../../sim/scenes/locomotion.ts';
import { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { type SensorChannel, type SensorConfig, SensorPipeline } from '../../sim/sensors/index.ts';
import type { Task } from '../../sim/tasks/task.ts';
import { seededRng } from '../../sim/world.ts';
import type { Skill, SkillStatus, TactileFeatures, WorldState } from '../contracts.ts';
import { BaseEstimator } from '../perception/base-estimator.ts';
import { Spine } from '../spine/index.ts';
import { HumanoidModel } from './locomotion-model.ts';

export interface LocomotionRigOptions {
  /** Sensor settings per channel (noise, latency, ...); default: ideal sensors. */
  sensors?: SensorConfig;
  /** Seed of the sensor noise stream. */
  seed?: number;
  /** Cerebellum rate (Hz, default 200); must divide the physics rate. */
  controlHz?: number;
}

export interface RunOptions<S> {
  /** Task to update after each physics step (pushes, fall detection, metrics). */
  task?: Task<S>;
  /** Sim-time limit (s). */
  maxSec: number;
  /** Stop when the task reports a fall (default true). */
  stopOnFall?: boolean;
}

export interface RunResult {
  status: SkillStatus;
  /** Sim time at the end (s). */
  simSec: number;
  spineInterventions: number;
}

/** A task that can tell that the robot fell (the locomotion tasks can). */
interface FallAware {
  readonly fallen: boolean;
}

export class LocomotionRig {
  readonly world: SceneWorld;
  readonly embodiment: Embodiment;
  readonly model: HumanoidModel;
  readonly state: WorldState;
  readonly estimator: BaseEstimator;
  readonly spine: Spine;
  readonly controlDtSec: number;
  private readonly pipeline: SensorPipeline;
  private readonly stepsPerControl: number;
  private readonly ch: {
    pos: SensorChannel;
    vel: SensorChannel;
    torque: SensorChannel;
    imu: SensorChannel;
    touch: SensorChannel;
    wrench: [SensorChannel, SensorChannel];
  };
  private readonly touchIndex: [number, number];
  private readonly soles: [TactileFeatures, TactileFeatures];
  private readonly actuators: Int32Array;
  private readonly command: Float64Array;
  private readonly safe: Float64Array;
  private readonly imu = { acc: new Float64Array(3), gyro: new Float64Array(3), quat: new Float64Array(4) };
  private tick = 0;

  private constructor(world: SceneWorld, embodiment: Embodiment, opts: LocomotionRigOptions) {
    this.world = world;
    this.embodiment = embodiment;
    const dt = world.timestepSec;
    const controlHz = opts.controlHz ?? 200;
    this.stepsPerControl = Math.round(1 / (controlHz * dt));
    if (this.stepsPerControl < 1 || Math.abs(this.stepsPerControl * controlHz * dt - 1) > 1e-9) {
      throw new TgError(
        'CONFIG_INVALID',
        `controlHz ${controlHz} does not divide the physics rate ${1 / dt} Hz`,
      );
    }
    this.controlDtSec = this.stepsPerControl * dt;
    this.model = HumanoidModel.fromMujoco(world.mj, world.model, embodiment);
    // The head camera is not used for locomotion: one ray at 1 Hz keeps it out of the tick's cost.
    const sensors: SensorConfig = {
      'depth.head_camera': { width: 1, height: 1, rateHz: 1 },
      ...opts.sensors,
    };
    this.pipeline = SensorPipeline.create(world.mj, world.model, world.data, embodiment, {
      rng: seededRng(opts.seed ?? 0),
      config: sensors,
    });
    const ch = (n: string) => this.pipeline.channel(n);
    this.ch = {
      pos: ch('joint_pos'),
      vel: ch('joint_vel'),
      torque: ch('joint_torque'),
      imu: ch('imu'),
      touch: ch('touch'),
      wrench: [ch('wrench.left_sole'), ch('wrench.right_sole')],
    };
    const touches = embodiment.sensors.filter((s) => s.type === 'touch').map((s) => s.name);
    this.touchIndex = [touches.indexOf('left_sole_touch'), touches.indexOf('right_sole_touch')];
    if (this.touchIndex[0] < 0 || this.touchIndex[1] < 0) {
      throw new TgError('MODEL_INVALID', `embodiment '${embodiment.name}' has no sole touch sensors`);
    }
    const n = embodiment.actionNames.length;
    this.actuators = Int32Array.from(embodiment.actionNames, (a) => world.id('actuator', a));
    this.command = new Float64Array(n);
    this.safe = new Float64Array(n);
    const sole = (): TactileFeatures => ({
      contact: false,
      forceN: 0,
      centroid: new Float64Array(2),
      slipRate: 0,
    });
    this.state = {
      tSec: 0,
      q: new Float64Array(n),
      qd: new Float64Array(n),
      tau: new Float64Array(n),
      objects: new Map(),
      tactile: new Map([
        ['left_sole', sole()],
        ['right_sole', sole()],
      ]),
      base: undefined,
    };
    this.soles = [this.state.tactile.get('left_sole')!, this.state.tactile.get('right_sole')!];
    this.estimator = new BaseEstimator(this.model);
    (this.state as { base?: WorldState['base'] }).base = this.estimator.base;
    this.spine = Spine.forEmbodiment(embodiment, dt);
  }

  static async create(embodiment: Embodiment, opts: LocomotionRigOptions = {}): Promise<LocomotionRig> {
    const world = await SceneWorld.create(locomotionScene(embodiment));
    try {
      return new LocomotionRig(world, embodiment, opts);
    } catch (err) {
      world.dispose();
      throw err;
    }
  }

  /**
   * After a task wrote the initial state into the world: forgets sensor history, starts the estimator at
   * the robot's true start position (the localisation fix a field gives a robot it places), waits out the
   * sensors' latency, primes the spine with the measured joints and reads the first state.
   */
  begin(): void {
    const w = this.world;
    this.pipeline.reset();
    const pelvis = w.id('body', 'pelvis');
    const p = new Float64Array(3);
    w.bodyPos(pelvis, p);
    this.estimator.reset(p);
    this.tick = 0;
    // Sensors with latency publish nothing until their first sample arrives: the robot holds the pose the
    // task set (its actuators keep their targets) until every channel it reads is valid.
    const channels = [
      this.ch.pos,
      this.ch.vel,
      this.ch.torque,
      this.ch.imu,
      this.ch.touch,
      ...this.ch.wrench,
    ];
    const limitSec = w.simTimeSec + 1;
    this.sense();
    while (!channels.every((c) => c.valid) && w.simTimeSec < limitSec) {
      w.step();
      this.sense();
    }
    if (!channels.every((c) => c.valid)) {
      throw new TgError(
        'CONFIG_INVALID',
        'locomotion rig: sensors published nothing valid within 1 s of the start',
      );
    }
    this.spine.reset(this.state.q);
    this.command.set(this.state.q);
  }

  /** Reads the sensors into `state` and runs perception. */
  sense(): void {
    const w = this.world;
    const t = w.simTimeSec;
    this.pipeline.update(t);
    const s = this.state;
    s.tSec = t;
    const { pos, vel, torque, imu, touch, wrench } = this.ch;
    s.q.set(pos.values);
    s.qd.set(vel.values);
    s.tau.set(torque.values);
    const v = imu.values;
    for (let k = 0; k < 3; k++) {
      this.imu.acc[k] = v[k]!;
      this.imu.gyro[k] = v[3 + k]!;
    }
    for (let k = 0; k < 4; k++) this.imu.quat[k] = v[6 + k]!;
    const loadL = touch.values[this.touchIndex[0]]!;
    const loadR = touch.values[this.touchIndex[1]]!;
    this.estimator.update(t, this.imu, s.q, loadL, loadR);
    const g = this.model.geometry;
    for (let side = 0; side < 2; side++) {
      const f = side === 0 ? this.soles[0] : this.soles[1];
      const load = side === 0 ? loadL : loadR;
      f.forceN = load;
      f.contact = load > this.estimator.contactThresholdN;
      // Centre of pressure from the sole wrench (site frame, `soleSiteHeightM` above the sole surface):
      // the sensor reports what the foot transmits to the shank, i.e. minus the ground's wrench on it.
      const wv = (side === 0 ? wrench[0] : wrench[1]).values;
      const fz = -wv[2]!;
      const h = g.soleSiteHeightM;
      if (fz > 1) {
        const px = (wv[4]! - h * -wv[0]!) / fz;
        const py = (-wv[3]! - h * -wv[1]!) / fz;
        f.centroid[0] = clamp01(0.5 + px / (2 * g.soleHalfLengthM));
        f.centroid[1] = clamp01(0.5 + py / (2 * g.soleHalfWidthM));
      } else {
        f.centroid[0] = 0.5;
        f.centroid[1] = 0.5;
      }
    }
  }

  /** Passes a command through the spine to the actuators. */
  actuate(command: Float64Array): void {
    this.spine.check(command, this.safe);
    const ctrl = this.world.ctrl;
    for (let i = 0; i < this.actuators.length; i++) ctrl[this.actuators[i]!] = this.safe[i]!;
  }

  /**
   * Runs a skill (already started) until it succeeds or fails, the task reports a fall, or `maxSec` of
   * sim time pass (then the status is 'running').
   */
  run<S>(skill: Skill<unknown>, opts: RunOptions<S>): RunResult {
    const w = this.world;
    const task = opts.task;
    const stopOnFall = opts.stopOnFall ?? true;
    const before = this.spine.stats.interventions;
    const endSec = w.simTimeSec + opts.maxSec;
    let status: SkillStatus = 'running';
    while (w.simTimeSec < endSec - 1e-9) {
      this.sense();
      if (this.tick % this.stepsPerControl === 0 && status === 'running') {
        status = skill.step(this.state, this.command);
      }
      this.tick++;
      this.actuate(this.command);
      w.step();
      if (w.diverged())
        throw new TgError('SIM_DIVERGED', `locomotion: non-finite state at t=${w.simTimeSec}s`);
      task?.update(w);
      if (status !== 'running') break;
      if (stopOnFall && task && (task as unknown as Partial<FallAware>).fallen) break;
    }
    return { status, simSec: w.simTimeSec, spineInterventions: this.spine.stats.interventions - before };
  }

  dispose(): void {
    this.pipeline.dispose();
    this.world.dispose();
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
