/**
 * One robot's control stack in a simulated scene: DESIGN.md's control tick under the rate scheduler.
 *
 *   every spine tick (physics rate)   plant.sense: joint state, TCP and contact forces -> spine feedback
 *   perception (perceptionHz)         object poses (simulated detections: noise, latency, dropout)
 *   brain (on demand)                 the plan executor's requests, over a BrainLink (onboard/edge/cloud)
 *   cerebellum (cerebellumHz)         read proprioception (joints, tactile, wrist wrench) -> plan
 *                                     executor -> the running skill's step -> command
 *   every spine tick                  spine.tick: every interlock, then the only write to the actuators
 *   then                              physics step, task.update
 *
 * Nothing reaches an actuator except through the spine: the scene's actuator port is handed to the spine
 * at construction and to nothing else. An episode runs settle -> execute -> after (objects come to rest)
 * -> done; a stop (a layer fault, an interlock, an e-stop) ends it early once the robot stands still.
 * The task, never the stack, judges the outcome.
 *
 * Simulated time is the default and is deterministic for a seed with the built-in planner (its compute
 * time is a fixed figure on the link); `realtime` paces to the wall clock. Layer fault timeouts are
 * multiples of the budgets (REALTIME_TIMEOUT_BUDGETS, SIMULATED_TIMEOUT_BUDGETS): they catch a hung layer,
 * while overruns short of that (a loaded machine's preemption, a first call's compilation) show as deadline
 * misses against the budgets.
 */
import { type Embodiment, embodimentHash } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { loadMujoco, type Mujoco } from '../../sim/mujoco.ts';
import { seededRng } from '../../sim/rng.ts';
import { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { type SensorConfig, SensorPipeline } from '../../sim/sensors/index.ts';
import type { Task } from '../../sim/tasks/task.ts';
import {
  BrainLink,
  type BrainLinkOptions,
  BuiltinPlanner,
  type ExecutorEvent,
  type Placement,
  PlanExecutor,
  type Planner,
  type SceneDescription,
  ScheduledBrain,
  summarizeWorld,
  type WorldSummary,
} from '../brain/index.ts';
import { ArmSkills, armProfile } from '../cerebellum/index.ts';
import { LocomotionSkills } from '../cerebellum/locomotion-skills.ts';
import {
  LAYER_BUDGET_MS,
  LAYER_NAMES,
  type LayerName,
  type SafetyEvent,
  type WorldState,
} from '../contracts.ts';
import { HumanoidModel } from '../humanoid-model.ts';
import {
  ArmPerception,
  type SimObjectNoise,
  SimObjectTracker,
  sceneObjectSource,
} from '../perception/index.ts';
import { LocomotionPerception } from '../perception/locomotion-perception.ts';
import { LayerTelemetry, RateScheduler } from '../scheduler/index.ts';
import {
  type ActuatorPort,
  SceneSpinePort,
  Spine,
  type SpineFeedback,
  servoModelFromScene,
  spineLimitsFor,
} from '../spine/index.ts';
import type { ArmScene } from './arm-scenes.ts';
import { HumanoidSpinePort } from './humanoid-port.ts';
import { LocomotionSkillRunner } from './locomotion-runner.ts';
import { instructedSteps, type LocomotionScene } from './locomotion-scenes.ts';
import { type EpisodeOutcome, type SafeStop, SafetyEventTally } from './outcome.ts';
import { ArmSkillRunner } from './skill-runner.ts';

export interface BrainConfig {
  /** Default: the built-in planner. */
  planner?: Planner;
  /** Where the brain sits (default 'edge'). */
  placement?: Placement;
  /** Link settings over the placement's preset (latency, loss, retries, planning deadline, compute time). */
  link?: Omit<BrainLinkOptions, 'placement' | 'seed'>;
  /** Wall time the scheduler gives one plan before it faults the brain (ms; default: deadline + 500). */
  timeoutMs?: number;
}

export interface RobotStackOptions {
  /** A fixed-base arm in an arm scene, or the humanoid in a locomotion scene. */
  robot: Embodiment;
  scene: ArmScene | LocomotionScene;
  brain?: BrainConfig;
  /** Pace to the wall clock (teleoperation, real robots) instead of running in simulated time. */
  realtime?: boolean;
  /** Sensor noise, latency and dropout per channel (src/sim/sensors). */
  sensors?: SensorConfig;
  /** Object-detection noise over the scene's own (rate: the perception layer's). */
  objectNoise?: SimObjectNoise;
  /** Compute time past which a layer faults (ms); defaults: 5x the budgets in realtime, 100x otherwise. */
  layerTimeoutMs?: Partial<Record<'cerebellum' | 'perception', number>>;
  /** Hold before the instruction is given (perception's first estimates arrive) (s, default 0.2). */
  settleSec?: number;
  /** Keep simulating after the plan ends, for things to come to rest before judging (s, default 0.5). */
  afterSec?: number;
  /** Episode limit from the instruction (s, default the scene's). */
  maxSimSec?: number;
  /** Safety events kept in the outcome (the rest are counted; default 1000). */
  maxEvents?: number;
  /**
   * A frame tap for recording: frame k at sim time k / hz (the first spine tick at or after it) gets the
   * robot's canonical state (`robot.stateNames`, same order and units) and the actuated command
   * (`robot.actionNames`: the spine's output, what reached the actuators) of that tick, for an arm and for
   * a legged robot alike. The arrays are reused.
   */
  frames?: { hz: number; sink: (timestampSec: number, state: Float32Array, action: Float32Array) => void };
}

type Phase = 'idle' | 'settle' | 'execute' | 'after' | 'stopping' | 'done';

/** Compute time the link charges for the built-in planner (ms): about what it takes, made exact. */
export const BUILTIN_COMPUTE_MS = 2;

/**
 * In realtime a layer that overruns its budget is a deadline miss; one that takes this many budgets is
 * hung and stops the robot. (Exactly the budget would stop a robot on the first call's JIT compilation.)
 */
export const REALTIME_TIMEOUT_BUDGETS = 5;
/**
 * In simulated time a layer's wall-clock time does not move the robot: only a hung layer (a second for the
 * cerebellum) faults. Measured: on 2 cores at load 12, preemption stretched single ticks to 300 ms.
 */
export const SIMULATED_TIMEOUT_BUDGETS = 100;

/** Longest the stack waits after a stop for the robot to stand still (s). */
const MAX_STOP_SEC = 2;
/** A stopped robot is kept this long before the episode closes (s): the standstill is observed. */
const STOPPED_HOLD_SEC = 0.05;

/** What the stack's layers read of perception, for an arm and for the humanoid alike. */
export interface StackPerception {
  readonly state: WorldState;
  reset(): void;
  /** The robot's own sensors (cerebellum rate), after the pipeline's update. */
  updateProprio(tSec: number): void;
  /** Objects in the scene (perception rate). */
  updateObjects(tSec: number): void;
}

/** The humanoid's perception in the stack's shape: no objects, the base from the estimator. */
class HumanoidStackPerception implements StackPerception {
  readonly state: WorldState;
  private readonly pelvis: number;
  private readonly pelvisPos = new Float64Array(3);
  private started = false;

  constructor(
    readonly locomotion: LocomotionPerception,
    private readonly world: SceneWorld,
  ) {
    this.state = locomotion.state;
    this.pelvis = world.id('body', 'pelvis');
  }

  reset(): void {
    this.started = false;
  }

  updateProprio(tSec: number): void {
    // Sensors with latency publish nothing at first: the estimator starts with their first samples, at
    // the pelvis's true position then (the localisation fix a field gives a robot it places).
    if (!this.locomotion.ready) return;
    if (!this.started) {
      this.world.bodyPos(this.pelvis, this.pelvisPos);
      this.locomotion.reset(this.pelvisPos);
      this.started = true;
    }
    this.locomotion.update(tSec);
  }

  updateObjects(): void {}
}

type StackRunner = (ArmSkillRunner | LocomotionSkillRunner) & { step(command: Float64Array): void };

export class RobotStack {
  readonly robot: Embodiment;
  readonly stackScene: ArmScene | LocomotionScene;
  readonly world: SceneWorld;
  /** The scene's task (a locomotion task is sized per instruction, in `begin`). */
  task: Task<unknown>;
  readonly spine: Spine;
  readonly pipeline: SensorPipeline;
  readonly perception: StackPerception;
  /** Layer timing over every episode this stack ran. */
  readonly telemetry: Record<LayerName, LayerTelemetry>;
  /** What the brain sees of the scene (without perception's hidden helpers, e.g. container slots). */
  readonly description: SceneDescription;
  episodes = 0;
  /** Simulated time over every episode this stack ran, the current one included (s). */
  get simSecTotal(): number {
    return this.simSecDone + (this.phase === 'idle' || this.phase === 'done' ? 0 : this.tSec);
  }
  private simSecDone = 0;
  /** Wall time spent in the physics step over every episode (ms): the plant's share of a tick. */
  physicsMs = 0;

  private readonly port: ActuatorPort & { sense(fb: SpineFeedback, tSec: number): void };
  /** The humanoid's kinematic model (locomotion scenes only). */
  private readonly humanoid: HumanoidModel | null = null;
  private readonly brainCfg: BrainConfig;
  private readonly realtime: boolean;
  private readonly timeouts: { cerebellum: number; perception: number };
  private readonly settleSec: number;
  private readonly afterSec: number;
  private readonly maxSimSecOption: number | undefined;
  private maxSimSec = 0;
  private readonly maxEvents: number;
  private readonly controlDtSec: number;
  /** Perception's world state, and the same state with only what the brain may see. */
  private readonly state: WorldState;
  private readonly brainView: WorldState;
  private readonly movable: readonly string[];
  /** Fills a frame's `observation.state`: the robot's canonical state (`robot.stateNames`). */
  private readonly readFrameState: (out: Float32Array) => void;
  private readonly frameState: Float32Array;
  private readonly frameAction: Float32Array;
  private readonly frames: RobotStackOptions['frames'];

  // ---- the current episode ----
  private phase: Phase = 'idle';
  private scheduler: RateScheduler<void> | null = null;
  private executor: PlanExecutor | null = null;
  private link: BrainLink | null = null;
  private runner: StackRunner | null = null;
  private instruction = '';
  private seed = 0;
  private afterUntil = 0;
  /** When the spine left 'run', and when it came to a standstill (-1: not yet). */
  private stopBegan = 0;
  private stopSince = 0;
  private timedOut = false;
  /** Sim time the task saw the robot fall (-1: it did not). */
  private fellSec = -1;
  private wallStart = 0;
  private readonly events: SafetyEvent[] = [];
  private readonly tally = new SafetyEventTally();
  private eventsSeen = 0;
  /** Spine interventions before this episode (the spine's stats count over its whole life). */
  private interventionsBefore = 0;
  private result: EpisodeOutcome | null = null;
  /** The robot's embodiment hash, once per stack (it reads and normalizes the MJCF file). */
  private hash: string | null = null;
  private get embodimentHash(): string {
    this.hash ??= embodimentHash(this.robot);
    return this.hash;
  }

  private constructor(mj: Mujoco, opts: RobotStackOptions) {
    const { robot, scene } = opts;
    const legged = scene.kind === 'locomotion';
    if (legged && !robot.floatingBase) {
      throw new TgError(
        'CONFIG_INVALID',
        `robot '${robot.name}' has a fixed base: the locomotion scene '${scene.id}' needs a legged robot`,
      );
    }
    if (!legged && (robot.floatingBase || robot.actionNames.length !== robot.jointNames.length + 1)) {
      throw new TgError(
        'CONFIG_INVALID',
        `robot '${robot.name}' is not a fixed-base arm with a gripper: the arm scenes cannot run it`,
      );
    }
    this.robot = robot;
    this.stackScene = scene;
    this.brainCfg = opts.brain ?? {};
    this.realtime = opts.realtime ?? false;
    const slack = this.realtime ? REALTIME_TIMEOUT_BUDGETS : SIMULATED_TIMEOUT_BUDGETS;
    this.timeouts = {
      cerebellum: opts.layerTimeoutMs?.cerebellum ?? slack * LAYER_BUDGET_MS.cerebellum,
      perception: opts.layerTimeoutMs?.perception ?? slack * LAYER_BUDGET_MS.perception,
    };
    this.settleSec = opts.settleSec ?? 0.2;
    this.afterSec = opts.afterSec ?? 0.5;
    this.maxSimSecOption = opts.maxSimSec;
    this.maxEvents = opts.maxEvents ?? 1000;
    this.frames = opts.frames;
    if (this.frames && !(this.frames.hz > 0)) {
      throw new TgError('CONFIG_INVALID', `frame rate ${this.frames.hz} Hz must be > 0`);
    }
    this.controlDtSec = 1 / scene.cerebellumHz;

    this.world = new SceneWorld(mj, scene.scene(robot));
    try {
      const w = this.world;
      const dt = w.timestepSec;
      if (scene.kind === 'locomotion') {
        // Position, speed, workspace (hands) and contact limits, the watchdog. No acceleration limit: the
        // balance and gait skills are tuned against position and speed limits only (locomotion-rig.ts),
        // and their corrective steps exceed the arm-style default (full speed in 0.05 s): measured, it
        // clipped 260 commands of a 5 s stand and the robot drifted 0.26 m.
        const { maxAcceleration: _unused, ...limits } = spineLimitsFor(robot, dt);
        this.task = scene.task(robot, []).task;
        const port = new HumanoidSpinePort(w, robot, limits);
        this.port = port;
        // The scene world's canonical state is an arm's (stateDim 0 here): the port reads the robot's.
        this.readFrameState = (out) => port.readState(out);
        this.spine = new Spine(limits, { actuators: this.port, sink: (e) => this.onSafetyEvent(e) });
        this.humanoid = HumanoidModel.fromMujoco(mj, w.model, robot);
        this.pipeline = SensorPipeline.create(mj, w.model, w.data, robot, {
          rng: this.noiseRng,
          // The head camera is not used for locomotion: one ray at 1 Hz keeps it out of the tick's cost.
          config: { 'depth.head_camera': { width: 1, height: 1, rateHz: 1 }, ...opts.sensors },
          updateHz: scene.cerebellumHz,
        });
        this.perception = new HumanoidStackPerception(
          new LocomotionPerception(this.humanoid, robot, this.pipeline),
          w,
        );
      } else {
        this.task = scene.task(robot);
        const limits = spineLimitsFor(robot, dt, { servo: servoModelFromScene(w) });
        this.port = new SceneSpinePort(w, limits);
        this.readFrameState = (out) => w.readState(out);
        this.spine = new Spine(limits, { actuators: this.port, sink: (e) => this.onSafetyEvent(e) });
        // Sensor and detection noise are seeded per episode in `begin` (`reseed`); these seeds are replaced.
        this.pipeline = SensorPipeline.create(mj, w.model, w.data, robot, {
          rng: this.noiseRng,
          config: opts.sensors ?? {},
          updateHz: scene.cerebellumHz,
        });
        const tracker = new SimObjectTracker(sceneObjectSource(w, scene.tracked), this.noiseRng, {
          ...scene.objectNoise,
          ...opts.objectNoise,
          rateHz: scene.perceptionHz,
        });
        this.perception = new ArmPerception({
          sensors: this.pipeline,
          stateDim: w.stateDim,
          kinematics: w,
          objects: { kind: 'sim', tracker },
        });
      }
    } catch (err) {
      this.world.dispose();
      throw err;
    }
    this.state = this.perception.state;
    const hidden = new Set(scene.kind === 'locomotion' ? [] : scene.containers.flatMap((c) => c.slots));
    this.brainView = {
      ...this.state,
      objects: new Map([...this.state.objects].filter(([name]) => !hidden.has(name))),
    };
    this.movable = Object.keys(scene.description.objects ?? {});
    this.frameState = new Float32Array(robot.stateNames.length);
    this.frameAction = new Float32Array(robot.actionNames.length);
    this.description = {
      robot: { name: robot.name, kind: legged ? 'humanoid' : 'arm' },
      ...scene.description,
    };
    this.telemetry = {
      brain: new LayerTelemetry('brain', LAYER_BUDGET_MS.brain),
      perception: new LayerTelemetry('perception', LAYER_BUDGET_MS.perception),
      cerebellum: new LayerTelemetry('cerebellum', LAYER_BUDGET_MS.cerebellum),
      spine: new LayerTelemetry('spine', LAYER_BUDGET_MS.spine),
    };
  }

  /** Compiles the scene and builds the layers (one MuJoCo world per stack). */
  static async create(opts: RobotStackOptions): Promise<RobotStack> {
    return new RobotStack(await loadMujoco(), opts);
  }

  /** The noise source of sensors and detections; reseeded per episode so episodes replay. */
  private readonly noiseRng = reseedableRng();

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Simulated time of the episode's next tick (s). */
  get tSec(): number {
    return this.scheduler?.tSec ?? 0;
  }

  /**
   * Starts an episode: the task's initial state for `seed`, every layer reset, the robot holding. The
   * instruction goes to the brain after `settleSec`.
   */
  begin(instruction: string, seed: number): void {
    if (this.phase !== 'idle' && this.phase !== 'done') {
      throw new TgError('CONFIG_INVALID', 'RobotStack.begin while an episode is running');
    }
    const scene = this.stackScene;
    const w = this.world;
    this.instruction = instruction;
    this.seed = seed;
    if (scene.kind === 'locomotion') {
      const sized = scene.task(this.robot, instructedSteps(this.robot, instruction));
      this.task = sized.task;
      this.maxSimSec = this.maxSimSecOption ?? sized.maxSimSec;
    } else {
      this.maxSimSec = this.maxSimSecOption ?? scene.maxSimSec;
    }
    this.task.apply(w, this.task.initialStates(seed, 1)[0]);
    this.noiseRng.reseed(seed);
    this.pipeline.reset();
    this.perception.reset();
    this.port.sense(this.spine.feedback, 0);
    this.spine.reset(this.spine.feedback.q, 0);
    this.interventionsBefore = this.spine.stats.interventions;
    this.events.length = 0;
    this.tally.clear();
    this.eventsSeen = 0;
    this.timedOut = false;
    this.fellSec = -1;
    this.result = null;

    let runner: StackRunner;
    if (scene.kind === 'locomotion') {
      runner = new LocomotionSkillRunner(new LocomotionSkills(this.humanoid!), this.state);
    } else {
      const skills = new ArmSkills({
        profile: armProfile(this.robot),
        kinematics: w,
        controlDtSec: this.controlDtSec,
        objects: { ...scene.catalogue },
      });
      if (scene.heldAtStart) skills.context.held = { ...scene.heldAtStart };
      runner = new ArmSkillRunner(skills, this.state, scene.containers, this.movable);
    }
    this.runner = runner;

    const b = this.brainCfg;
    const planner = b.planner ?? new BuiltinPlanner();
    const link = new BrainLink(planner, {
      placement: b.placement ?? 'edge',
      seed,
      // The built-in planner's compute time is a fixed figure, so a seed replays exactly; any other
      // planner's is measured (an LLM's latency is what placement studies are about).
      computeMs: planner instanceof BuiltinPlanner ? BUILTIN_COMPUTE_MS : 'measured',
      ...b.link,
    });
    this.link = link;
    const planDeadlineMs = b.link?.planDeadlineMs ?? LAYER_BUDGET_MS.brain;
    let scheduler: RateScheduler<void> | null = null;
    const brain = new ScheduledBrain(link, () => scheduler!.requestPlan());
    const executor = new PlanExecutor({
      brain,
      cerebellum: runner,
      world: () => this.summary(),
    });
    this.executor = executor;
    const state = this.state;
    const pipeline = this.pipeline;
    const perception = this.perception;
    const task = this.task;
    const port = this.port;
    const spine = this.spine;
    // Ticks per cerebellum tick when the steps in between may skip sensors (0: never). Locomotion reads
    // its IMU through the spine port every tick; a task that reads sensors needs them every step.
    const skipSensorsEvery =
      scene.kind === 'locomotion' || scene.taskReadsSensors
        ? 0
        : Math.round(1 / (scene.cerebellumHz * w.timestepSec));
    scheduler = new RateScheduler<void>({
      spine,
      plant: {
        sense: (t) => port.sense(spine.feedback, t),
        advance: () => {
          const t0 = performance.now();
          // Sensors are read at cerebellum ticks only (the pipeline's update): a step after which no
          // cerebellum tick comes skips them (the spine's contact forces are recomputed by its port).
          if (skipSensorsEvery > 0 && (scheduler!.ticks + 1) % skipSensorsEvery !== 0) w.stepWithoutSensors();
          else w.step();
          this.physicsMs += performance.now() - t0;
          task.update(w);
        },
      },
      perception: {
        rateHz: scene.perceptionHz,
        timeoutMs: this.timeouts.perception,
        layer: { tick: (t) => perception.updateObjects(t) },
      },
      cerebellum: {
        rateHz: scene.cerebellumHz,
        timeoutMs: this.timeouts.cerebellum,
        layer: {
          tick: (t, command) => {
            // Read the robot's own sensors first (DESIGN.md's "read sensors" step of the tick).
            pipeline.update(t);
            perception.updateProprio(t);
            executor.tick(t);
            runner.step(command);
            state.tSec = t;
          },
        },
      },
      brain: {
        layer: brain,
        timeoutMs: b.timeoutMs ?? Math.max(LAYER_BUDGET_MS.brain, planDeadlineMs + 500),
      },
      realtime: this.realtime,
      ...(this.frames ? { observe: this.frameTap(this.frames) } : {}),
    });
    this.scheduler = scheduler;
    this.phase = 'settle';
    this.wallStart = performance.now();
  }

  /**
   * One spine tick of the episode, then its phase. Returns a promise only when simulated time waits for
   * the brain (await it before the next tick).
   */
  tick(): Promise<void> | undefined {
    if (this.phase === 'idle' || this.phase === 'done') return undefined;
    const wait = this.scheduler!.step();
    if (wait) return wait.then(this.advanceAfterWait);
    this.advance();
    return undefined;
  }

  /** Made once: an arrow function written inside `tick` would allocate a context on every tick. */
  private readonly advanceAfterWait = (): void => this.advance();

  /** Runs `begin` and the whole episode; returns its outcome. */
  async run(instruction: string, seed: number): Promise<EpisodeOutcome> {
    this.begin(instruction, seed);
    if (this.realtime) {
      // The scheduler paces; the phase is looked at every 20 ms.
      while (this.phase !== 'done') {
        await this.scheduler!.runUntil(this.scheduler!.tSec + 0.02);
        this.advance();
      }
    } else {
      while (this.phase !== 'done') {
        const wait = this.tick();
        if (wait) await wait;
      }
    }
    return this.outcome();
  }

  /**
   * Abandons the episode in progress (no outcome): its layer timing and simulated time are still counted
   * in `telemetry` and `simSecTotal`. The stack can `begin` again.
   */
  endEpisode(): void {
    if (this.phase === 'idle' || this.phase === 'done') return;
    this.spine.flushEvents();
    this.collect(this.scheduler!);
    this.phase = 'idle';
  }

  /**
   * Forgets the timing, simulated time and episode count gathered so far (a benchmark's warm-up). The
   * episode in progress, if any, is abandoned first.
   */
  resetTotals(): void {
    this.endEpisode();
    for (const layer of LAYER_NAMES) {
      this.telemetry[layer] = new LayerTelemetry(layer, this.telemetry[layer].budgetMs);
    }
    this.simSecDone = 0;
    this.physicsMs = 0;
    this.episodes = 0;
  }

  /** Folds an episode's layer timing and simulated time into the stack's totals. */
  private collect(scheduler: RateScheduler<void>): void {
    for (const layer of LAYER_NAMES) {
      this.telemetry[layer].merge(scheduler.telemetry[layer]);
    }
    this.simSecDone += scheduler.ticks * this.world.timestepSec;
  }

  /** The finished episode's outcome (throws before it is done). */
  outcome(): EpisodeOutcome {
    if (!this.result) throw new TgError('CONFIG_INVALID', 'the episode has not finished');
    return this.result;
  }

  dispose(): void {
    this.pipeline.dispose();
    this.world.dispose();
  }

  // ---- internals ----

  /** The scheduler's `observe` hook for the frame tap: frame k at the first tick at or after k / hz. */
  private frameTap(frames: NonNullable<RobotStackOptions['frames']>): (tSec: number) => void {
    const ticksPerFrame = 1 / (frames.hz * this.world.timestepSec);
    let tick = 0;
    let frame = 0;
    let due = 0;
    return () => {
      if (tick++ !== due) return;
      this.readFrameState(this.frameState);
      const out = this.spine.output;
      for (let i = 0; i < out.length; i++) this.frameAction[i] = out[i]!;
      frames.sink(frame / frames.hz, this.frameState, this.frameAction);
      frame++;
      due = Math.ceil(frame * ticksPerFrame - 1e-9);
    };
  }

  /** The brain's view of the world now. */
  private summary(): WorldSummary {
    this.brainView.tSec = this.state.tSec;
    return summarizeWorld(this.brainView, this.description, this.runner?.held ?? null);
  }

  private onSafetyEvent(e: SafetyEvent): void {
    this.eventsSeen++;
    this.tally.add(e);
    if (this.events.length < this.maxEvents) this.events.push(e);
  }

  private advance(): void {
    const t = this.scheduler!.tSec;
    const mode = this.spine.mode;
    if (mode !== 'run' && this.phase !== 'stopping') {
      this.phase = 'stopping';
      this.stopBegan = t;
      this.stopSince = -1;
    }
    switch (this.phase) {
      case 'settle':
        if (t >= this.settleSec - 1e-9) {
          const s = this.stackScene;
          if (s.kind !== 'locomotion' && s.tareWrench) (this.perception as ArmPerception).tareWrench();
          this.executor!.begin(this.instruction, t);
          this.phase = 'execute';
        }
        return;
      case 'execute':
        if (this.fellSec < 0 && (this.task as { fallen?: boolean }).fallen === true) {
          // A fallen robot does not get up (the task latches it): stop the plan and judge.
          this.fellSec = t;
          this.runner!.stop();
          this.phase = 'after';
          this.afterUntil = t + this.afterSec;
        } else if (this.executor!.done) {
          this.phase = 'after';
          this.afterUntil = t + this.afterSec;
        } else if (t >= this.maxSimSec - 1e-9) {
          this.timedOut = true;
          this.runner!.stop();
          this.phase = 'after';
          this.afterUntil = t + this.afterSec;
        }
        return;
      case 'after':
        if (t >= this.afterUntil - 1e-9) this.finish();
        return;
      case 'stopping': {
        const still = mode === 'stopped' || mode === 'off';
        if (still && this.stopSince < 0) this.stopSince = t;
        if ((still && t - this.stopSince >= STOPPED_HOLD_SEC) || t >= this.stopBegan + MAX_STOP_SEC) {
          this.finish();
        }
        return;
      }
    }
  }

  private finish(): void {
    const w = this.world;
    const scheduler = this.scheduler!;
    this.spine.flushEvents();
    const diverged = w.diverged();
    // mj_step leaves derived quantities (sites, sensors) at the start of the last step.
    if (!diverged) w.forward();
    const report = scheduler.report();
    this.collect(scheduler);
    const executor = this.executor!;
    const link = this.link!;
    const received = executor.events.filter(
      (e): e is Extract<ExecutorEvent, { kind: 'plan_received' }> => e.kind === 'plan_received',
    );
    const firstPlan = received[0] ?? null;
    const finished = executor.events.find((e) => e.kind === 'finished');
    const planningFailed = executor.events.find((e) => e.kind === 'planning_failed');
    const stopEvent = this.events.find((e) => e.category !== undefined);
    let safeStop: SafeStop | null = null;
    if (this.spine.mode !== 'run') {
      safeStop = {
        reason: stopEvent
          ? `${stopEvent.kind}${stopEvent.target ? `: ${stopEvent.target}` : ''}`
          : 'the spine stopped the robot',
        category: this.spine.stopCategory ?? 2,
        tSec: stopEvent?.tSec ?? this.stopSince,
        mode: this.spine.mode,
      };
    }
    const success = !diverged && this.task.success(w);
    let reason: string | undefined;
    if (diverged) reason = 'the simulation diverged';
    else if (this.fellSec >= 0) reason = `the robot fell (seen by the task at ${this.fellSec.toFixed(2)} s)`;
    else if (safeStop) reason = `safe stop (${safeStop.reason})`;
    else if (this.timedOut) reason = `the plan was still running after ${this.maxSimSec} s`;
    else if (finished?.kind === 'finished' && finished.outcome === 'failed') reason = finished.reason;
    else if (!success) reason = 'the plan finished but the task is not done';
    this.result = {
      robot: this.robot.name,
      embodimentHash: this.embodimentHash,
      scene: this.stackScene.id,
      task: this.task.name,
      instruction: this.instruction,
      seed: this.seed,
      success,
      ...(reason !== undefined ? { reason } : {}),
      executor: executor.state,
      plan: firstPlan
        ? {
            planner: firstPlan.planner,
            steps: firstPlan.steps,
            ...(firstPlan.fallbackReason ? { fallbackReason: firstPlan.fallbackReason } : {}),
            latencyMs: firstPlan.latencyMs,
          }
        : null,
      planningError: planningFailed?.kind === 'planning_failed' ? planningFailed.reason : null,
      replans: executor.replans,
      plans: received.map((p) => ({
        planner: p.planner,
        steps: p.steps,
        ...(p.fallbackReason ? { fallbackReason: p.fallbackReason } : {}),
        latencyMs: p.latencyMs,
      })),
      metrics: this.task.metrics(w),
      simSec: report.simSec,
      wallSec: (performance.now() - this.wallStart) / 1000,
      safeStop,
      safetyEvents: [...this.events],
      safetyEventCount: this.eventsSeen,
      safetySummary: this.tally.summary(),
      safetyEventsDropped: this.spine.eventsDropped,
      spine: {
        mode: this.spine.mode,
        interventions: this.spine.stats.interventions - this.interventionsBefore,
      },
      faults: report.faults,
      layers: report.layers,
      deadlineMisses: report.deadlineMisses,
      overruns: report.overruns,
      timeline: executor.events,
      link: { placement: link.placement, ...link.stats, latenciesMs: [...link.stats.latenciesMs] },
      rates: {
        spineHz: Math.round(1 / w.timestepSec),
        cerebellumHz: this.stackScene.cerebellumHz,
        perceptionHz: this.stackScene.perceptionHz,
      },
    };
    this.episodes++;
    this.phase = 'done';
  }
}

/** A seeded generator whose seed can be changed in place (the sensor pipeline keeps its reference). */
function reseedableRng(): { next(): number; reseed(seed: number): void } {
  let rng = seededRng(0);
  return {
    next: () => rng.next(),
    reseed(seed: number) {
      // Apart from the task's own stream for the same seed.
      rng = seededRng((Math.imul(seed, 0x9e3779b1) ^ 0x5bd1e995) >>> 0);
    },
  };
}
