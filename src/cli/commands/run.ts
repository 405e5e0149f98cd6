import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import {
  BuiltinPlanner,
  FALLBACK_RESERVE_MS,
  LlmPlanner,
  PLACEMENTS,
  type Placement,
  type Planner,
} from '../../control/brain/index.ts';
import { LAYER_BUDGET_MS, LAYER_NAMES } from '../../control/contracts.ts';
import { toEpisodeEvent } from '../../control/spine/index.ts';
import {
  ARM_SCENE_IDS,
  type BrainConfig,
  chooseArmScene,
  chooseLocomotionScene,
  type EpisodeOutcome,
  LOCOMOTION_SCENE_IDS,
  RobotStack,
} from '../../control/stack/index.ts';
import type { VectorFeatureSpec } from '../../data/lerobot/format.ts';
import { LeRobotWriter } from '../../data/lerobot/writer.ts';
import { Recorder } from '../../data/recorder.ts';
import {
  EMBODIMENT_NAMES,
  type Embodiment,
  type EmbodimentName,
  loadEmbodiment,
} from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { intArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';

interface RunFlags {
  robot: string;
  task: string;
  scene?: string;
  seed: number;
  brain: string;
  llmUrl?: string;
  llmModel?: string;
  llmTimeoutMs: number;
  placement: string;
  realtime?: boolean;
  out?: string;
  fps: number;
}

const BRAINS = ['builtin', 'llm'] as const;

/**
 * `tg run --robot R --task "<instruction>"`: one episode of the full control stack (brain, perception,
 * cerebellum, spine under the rate scheduler) in a simulated scene, then the plan, the task's verdict,
 * the safety events and the per-layer latency table. A thin shell over src/control/stack.
 */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run one episode of the control stack: plan the instruction, execute it, judge the task')
    .requiredOption(
      '--robot <name>',
      `robot (${EMBODIMENT_NAMES.join(', ')}; arm scenes need an arm, locomotion scenes a legged robot)`,
    )
    .requiredOption('--task <instruction>', 'the instruction in words, e.g. "put the red cube in the bin"')
    .option(
      '--scene <id>',
      `scene (${[...ARM_SCENE_IDS, ...LOCOMOTION_SCENE_IDS].join(', ')}); default: from the robot and the instruction`,
    )
    .option('--seed <n>', "seed of the task's initial state and of sensor noise", intArg(0, 2 ** 31 - 1), 1)
    .option('--brain <kind>', `planner: ${BRAINS.join(' | ')}`, 'builtin')
    .option('--llm-url <url>', 'OpenAI-compatible endpoint for --brain llm (env TG_LLM_URL)')
    .option('--llm-model <name>', 'model for --brain llm (env TG_LLM_MODEL)')
    .option(
      '--llm-timeout-ms <ms>',
      'wall time one LLM completion may take before the built-in planner answers instead',
      intArg(1, 600_000),
      400,
    )
    .option('--placement <where>', `where the brain runs: ${Object.keys(PLACEMENTS).join(' | ')}`, 'edge')
    .option('--realtime', 'pace the simulation to the wall clock')
    .option('--out <dir>', 'record the episode as a new LeRobot v3 dataset in this directory')
    .option('--fps <n>', 'recording frame rate (with --out)', intArg(1, 1000), 30)
    .action(async (flags: RunFlags, cmd: Command) => {
      const ctx = commandContext(cmd);
      const robot = parseRobot(flags.robot);
      const placement = parseChoice('--placement', flags.placement, Object.keys(PLACEMENTS)) as Placement;
      const brainKind = parseChoice('--brain', flags.brain, BRAINS);
      const embodiment = loadEmbodiment(robot);
      const scene = embodiment.floatingBase
        ? chooseLocomotionScene(flags.task, flags.scene)
        : chooseArmScene(flags.task, flags.scene);
      const brain = brainConfig(brainKind, flags, placement);
      const recording = flags.out
        ? await EpisodeRecording.open(path.resolve(flags.out), embodiment, flags.fps)
        : null;
      try {
        const stack = await RobotStack.create({
          robot: embodiment,
          scene,
          brain,
          realtime: flags.realtime ?? false,
          ...(recording ? { frames: recording.frames } : {}),
        });
        let outcome: EpisodeOutcome;
        try {
          outcome = await stack.run(flags.task, flags.seed);
        } finally {
          stack.dispose();
        }
        if (outcome.plan === null && outcome.planningError !== null) {
          throw new TgError('INPUT_INVALID', `${outcome.planningError} (scene ${outcome.scene})`);
        }
        const recorded = recording ? await recording.write(outcome) : undefined;
        const result = recorded ? { ...outcome, recorded } : outcome;
        printResult(ctx, result, () => formatOutcome(outcome, recorded));
      } catch (err) {
        await recording?.abort();
        throw err;
      }
    });
}

function parseRobot(name: string): EmbodimentName {
  if (!(EMBODIMENT_NAMES as readonly string[]).includes(name)) {
    throw new TgError('NOT_FOUND', `no robot '${name}' (robots: ${EMBODIMENT_NAMES.join(', ')})`);
  }
  return name as EmbodimentName;
}

function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new TgError('USAGE', `${flag}: expected one of ${choices.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/**
 * The brain's settings. For the LLM the three limits move together: the completion's timeout, the
 * planning deadline the link hands the planner (timeout + the fallback's reserve), the link's wait per
 * attempt (deadline + the round trip) and the scheduler's fault timeout (deadline + slack).
 */
function brainConfig(kind: (typeof BRAINS)[number], flags: RunFlags, placement: Placement): BrainConfig {
  if (kind === 'builtin') return { planner: new BuiltinPlanner(), placement };
  const url = flags.llmUrl ?? process.env.TG_LLM_URL;
  const model = flags.llmModel ?? process.env.TG_LLM_MODEL;
  if (!url) throw new TgError('USAGE', '--brain llm needs --llm-url (or TG_LLM_URL)');
  if (!model) throw new TgError('USAGE', '--brain llm needs --llm-model (or TG_LLM_MODEL)');
  const timeoutMs = flags.llmTimeoutMs;
  const planner: Planner = new LlmPlanner({
    url,
    model,
    timeoutMs,
    ...(process.env.TG_LLM_API_KEY ? { apiKey: process.env.TG_LLM_API_KEY } : {}),
  });
  const planDeadlineMs = Math.max(LAYER_BUDGET_MS.brain, timeoutMs + FALLBACK_RESERVE_MS + 30);
  const p = PLACEMENTS[placement];
  return {
    planner,
    placement,
    link: {
      planDeadlineMs,
      timeoutMs: Math.max(1000, planDeadlineMs + 2 * (p.oneWayMs + p.jitterMs) + 100),
    },
    timeoutMs: planDeadlineMs + 500,
  };
}

const num = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

function callText(c: { skill: string; args: Record<string, unknown> }): string {
  const args = Object.entries(c.args)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `(${v.join(', ')})` : String(v)}`)
    .join(' ');
  return args ? `${c.skill} ${args}` : c.skill;
}

interface Recorded {
  dir: string;
  episodeId: string;
  frames: number;
  fps: number;
}

/**
 * `--out`: the episode's frames (the robot's canonical state, the actuated command, in the embodiment's
 * `stateNames` / `actionNames`; an arm or a legged robot) through the recorder into a new LeRobot v3
 * dataset, the safety events as the episode's events.
 */
class EpisodeRecording {
  private readonly frame: Record<string, Float32Array> = {};

  private constructor(
    private readonly dir: string,
    private readonly robot: Embodiment,
    private readonly fps: number,
    private readonly recorder: Recorder,
    private readonly writer: LeRobotWriter,
  ) {}

  static async open(dir: string, robot: Embodiment, fps: number): Promise<EpisodeRecording> {
    const vector = (names: readonly string[]): VectorFeatureSpec => ({
      dtype: 'float32',
      shape: [names.length],
      names: [...names],
    });
    const recorder = new Recorder({
      fps,
      features: { 'observation.state': robot.stateNames.length, action: robot.actionNames.length },
    });
    await mkdir(path.dirname(dir), { recursive: true });
    const writer = await LeRobotWriter.create(dir, {
      fps,
      robotType: robot.name,
      features: { 'observation.state': vector(robot.stateNames), action: vector(robot.actionNames) },
    });
    return new EpisodeRecording(dir, robot, fps, recorder, writer);
  }

  get frames() {
    return {
      hz: this.fps,
      sink: (t: number, state: Float32Array, action: Float32Array) => {
        this.frame['observation.state'] = state;
        this.frame.action = action;
        this.recorder.record(t, this.frame);
      },
    };
  }

  async write(o: EpisodeOutcome): Promise<Recorded> {
    const episode = this.recorder.finish({
      robot: this.robot.name,
      embodimentHash: o.embodimentHash,
      vendor: 'tg-sim',
      // The embedded field (src/facility/up.ts LOCAL_FIELD; not imported: that would load the hub).
      field: 'local',
      operator: 'tg-run',
      task: o.scene,
      instruction: o.instruction,
      source: 'scripted',
      phase: 'autonomy',
      success: o.success,
      seed: o.seed,
      events: o.safetyEvents.map((e) => toEpisodeEvent(e, this.fps)),
    });
    await this.writer.addEpisode(episode);
    await this.writer.close();
    return { dir: this.dir, episodeId: episode.meta.id, frames: episode.length, fps: this.fps };
  }

  abort(): Promise<void> {
    return this.writer.abort();
  }
}

/** The human rendering of an episode. */
export function formatOutcome(o: EpisodeOutcome, recorded?: Recorded): string {
  const lines: string[] = [];
  lines.push(`${o.robot} in ${o.scene} (seed ${o.seed}): "${o.instruction}"`);
  if (o.plan) {
    lines.push(
      `plan by ${o.plan.planner} over the ${o.link.placement} link, ${num(o.plan.latencyMs)} ms: ${o.plan.steps.map((s, i) => `${i + 1}. ${callText(s)}`).join('  ') || '(nothing to do)'}`,
    );
    if (o.plan.fallbackReason) lines.push(`  the LLM was not used: ${o.plan.fallbackReason}`);
  }
  if (o.replans > 0) lines.push(`replans: ${o.replans}`);
  const verdict = o.success ? 'SUCCESS' : 'FAILED';
  lines.push(
    `outcome: ${verdict} after ${num(o.simSec, 4)} s simulated (${num(o.wallSec, 3)} s wall)${o.reason ? `: ${o.reason}` : ''}`,
  );
  lines.push(
    `  ${Object.entries(o.metrics)
      .map(([k, v]) => `${k} ${num(v, 4)}`)
      .join(', ')}`,
  );
  if (o.safeStop) {
    lines.push(
      `safe stop: ${o.safeStop.reason} (category ${o.safeStop.category}, at ${num(o.safeStop.tSec, 4)} s, spine ${o.safeStop.mode})`,
    );
  }
  for (const f of o.faults) lines.push(`layer fault: ${f.layer} at ${num(f.tSec, 4)} s: ${f.reason}`);
  if (recorded) {
    lines.push(
      `recorded: ${recorded.frames} frames at ${recorded.fps} fps to ${recorded.dir} (episode ${recorded.episodeId.slice(0, 12)})`,
    );
  }
  lines.push('');
  lines.push('steps:');
  for (const e of o.timeline) {
    if (e.kind === 'step_succeeded')
      lines.push(`  ${num(e.tSec, 4)} s  ${callText(e.call)}: done in ${num(e.durationSec)} s`);
    else if (e.kind === 'step_failed')
      lines.push(`  ${num(e.tSec, 4)} s  ${callText(e.call)}: FAILED: ${e.reason}`);
  }
  lines.push('');
  lines.push(
    o.safetyEventCount === 0
      ? 'safety events: none'
      : `safety events: ${o.safetyEventCount} (${o.spine.interventions} spine ticks changed the command)`,
  );
  if (o.safetySummary.length > 0) {
    lines.push(
      formatTable(
        ['event', 'target', 'count', 'first s', 'max value', 'limit'],
        o.safetySummary.map((g) => [
          g.kind,
          g.target ?? '-',
          g.count,
          num(g.firstSec, 4),
          g.maxValue === undefined ? '-' : num(g.maxValue),
          g.limit === undefined ? '-' : num(g.limit),
        ]),
      ),
    );
  }
  lines.push('');
  const r = o.rates;
  lines.push(
    `layers (spine ${r.spineHz} Hz, cerebellum ${r.cerebellumHz} Hz, perception ${r.perceptionHz} Hz, brain on demand): ${o.deadlineMisses} deadline misses`,
  );
  lines.push(
    formatTable(
      ['layer', 'ticks', 'p50 ms', 'p99 ms', 'max ms', 'budget ms', 'misses', 'preempted'],
      LAYER_NAMES.map((name) => {
        const l = o.layers[name];
        return [name, l.ticks, num(l.p50Ms), num(l.p99Ms), num(l.maxMs), l.budgetMs, l.misses, l.preempted];
      }),
    ),
  );
  return lines.join('\n');
}
