/**
 * The humanoid's control tick in the locomotion scene: read sensors -> perception -> cerebellum skill ->
 * spine -> actuators (DESIGN.md, "Control tick"), one physics step at a time.
 *
 * - Sensors go through the sim's SensorPipeline (rate, noise, latency, dropout as configured), so the
 *   skill sees what a real robot would: joint positions/velocities/torques, the IMU and the sole
 *   force/torque sensors. Nothing of the simulator's true base state reaches the skill.
 * - Perception: the stack's LocomotionPerception (src/control/perception/locomotion-perception.ts): the
 *   BaseEstimator (IMU + leg odometry) fills `state.base`; the sole wrenches become the `left_sole` /
 *   `right_sole` entries of `state.tactile` (load, centre of pressure, no slip rate).
 * - The skill runs at `controlHz` (default 200 Hz = every 5 ms physics step); the spine checks every
 *   command against the embodiment's position and speed limits before it reaches `ctrl`.
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { locomotionScene } from '../../sim/scenes/locomotion.ts';
import { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { type SensorConfig, SensorPipeline } from '../../sim/sensors/index.ts';
import type { Task } from '../../sim/tasks/task.ts';
import { seededRng } from '../../sim/world.ts';
import type { Skill, SkillStatus, WorldState } from '../contracts.ts';
import { HumanoidModel } from '../humanoid-model.ts';
import type { BaseEstimator } from '../perception/base-estimator.ts';
import { LocomotionPerception } from '../perception/locomotion-perception.ts';
import { Spine } from '../spine/index.ts';

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
  private readonly perception: LocomotionPerception;
  private readonly stepsPerControl: number;
  private readonly actuators: Int32Array;
  private readonly command: Float64Array;
  private readonly safe: Float64Array;
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
    this.perception = new LocomotionPerception(this.model, embodiment, this.pipeline);
    this.state = this.perception.state;
    this.estimator = this.perception.estimator;
    const n = embodiment.actionNames.length;
    this.actuators = Int32Array.from(embodiment.actionNames, (a) => world.id('actuator', a));
    this.command = new Float64Array(n);
    this.safe = new Float64Array(n);
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
    this.perception.reset(p);
    this.tick = 0;
    // Sensors with latency publish nothing until their first sample arrives: the robot holds the pose the
    // task set (its actuators keep their targets) until every channel it reads is valid.
    const limitSec = w.simTimeSec + 1;
    this.sense();
    while (!this.perception.ready && w.simTimeSec < limitSec) {
      w.step();
      this.sense();
    }
    if (!this.perception.ready) {
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
    const t = this.world.simTimeSec;
    this.pipeline.update(t);
    this.perception.update(t);
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
