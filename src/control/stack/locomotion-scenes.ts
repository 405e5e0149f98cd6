/**
 * The locomotion scenes the control stack runs the humanoid in (the arm scenes' counterpart,
 * arm-scenes.ts): the floor scene of src/sim/scenes/locomotion.ts with one of the locomotion tasks, the
 * brain's static description, the layer rates and the episode's time limit.
 *
 * The task is sized by the instruction: the built-in planner's reading of it (the same parse the brain
 * uses, on the start pose) gives the stand duration and the walk's points, so "stand for 5 seconds" is
 * judged over 5 s and "walk to (2, 0)" has (2, 0) as its route. An instruction the planner cannot read
 * leaves the task's defaults; the brain then reports why it cannot plan it.
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { locomotionScene } from '../../sim/scenes/locomotion.ts';
import type { Scene } from '../../sim/scenes/scene.ts';
import {
  type PushRecoveryOptions,
  PushRecoveryTask,
  StandTask,
  type WalkRouteState,
  WalkRouteTask,
} from '../../sim/tasks/locomotion.ts';
import type { Task } from '../../sim/tasks/task.ts';
import type { Rng } from '../../sim/world.ts';
import { planInstruction } from '../brain/builtin-planner.ts';
import type { SceneDescription } from '../brain/world-summary.ts';
import type { SkillCall } from '../contracts.ts';

/** A locomotion task judged on what the instruction asked, and the sim time the episode may take. */
export interface SizedTask {
  task: Task<unknown> & { readonly fallen: boolean };
  maxSimSec: number;
}

export interface LocomotionScene {
  readonly kind: 'locomotion';
  readonly id: string;
  readonly keywords: readonly string[];
  readonly exampleInstruction: string;
  scene(robot: Embodiment): Scene;
  /** The task for `instruction` (planned steps of the built-in planner; empty when it cannot plan). */
  task(robot: Embodiment, steps: readonly SkillCall[]): SizedTask;
  readonly description: Omit<SceneDescription, 'robot'>;
  readonly cerebellumHz: number;
  readonly perceptionHz: number;
}

/** Time past the instruction's own that an episode may run (settling, planning, coming to rest) (s). */
const SLACK_SEC = 5;

const standSeconds = (steps: readonly SkillCall[]): number | undefined => {
  const s = steps.find((c) => c.skill === 'stand');
  return s ? (s.args as { seconds: number }).seconds : undefined;
};

const base = {
  kind: 'locomotion' as const,
  scene: (robot: Embodiment) => locomotionScene(robot),
  description: { targets: [] },
  // The walker's control rate (locomotion-rig.ts default) divides the humanoid's 200 Hz physics.
  cerebellumHz: 200,
  perceptionHz: 50,
};

function stand(): LocomotionScene {
  return {
    ...base,
    id: 'locomotion/stand',
    keywords: ['stand', 'balance', 'upright', 'still'],
    exampleInstruction: 'stand for 5 seconds',
    task(robot, steps) {
      const durationSec = standSeconds(steps) ?? 5;
      return { task: new StandTask(robot.jointNames, { durationSec }), maxSimSec: durationSec + SLACK_SEC };
    },
  };
}

/** Push recovery: pushes spaced over the stand's duration (at least one), `opts` over the task's defaults. */
export function pushRecoveryScene(opts: PushRecoveryOptions = {}): LocomotionScene {
  return {
    ...base,
    id: 'locomotion/push-recovery',
    keywords: ['push', 'pushes', 'pushed', 'recover', 'shove'],
    exampleInstruction: 'stand for 8 seconds while I push you',
    task(robot, steps) {
      const durationSec = opts.durationSec ?? standSeconds(steps) ?? 9;
      const firstSec = opts.firstSec ?? 1;
      const spacingSec = opts.spacingSec ?? 2.5;
      // The last push ends at least 0.5 s before the stand does (the task's own default spacing).
      const count = opts.count ?? Math.max(1, Math.floor((durationSec - firstSec - 0.5) / spacingSec));
      const task = new PushRecoveryTask(robot.jointNames, {
        ...opts,
        durationSec,
        firstSec,
        spacingSec,
        count,
      });
      return { task, maxSimSec: durationSec + SLACK_SEC };
    },
  };
}

/** A walk through the instruction's points, in order, from the task's seeded start. */
class InstructedRouteTask extends WalkRouteTask {
  constructor(
    jointNames: readonly string[],
    private readonly points: [number, number][],
    timeLimitSec: number,
  ) {
    super(jointNames, { waypoints: points.length, timeLimitSec });
  }

  override sampleInitialState(rng: Rng): WalkRouteState {
    return {
      ...super.sampleInitialState(rng),
      waypoints: this.points.map((p): [number, number] => [p[0], p[1]]),
    };
  }
}

function walk(): LocomotionScene {
  return {
    ...base,
    id: 'locomotion/walk-route',
    keywords: ['walk', 'go', 'route', 'waypoint', 'forward', 'left', 'right'],
    exampleInstruction: 'walk to (2, 0)',
    task(robot, steps) {
      const points = steps
        .filter((c) => c.skill === 'walk_to')
        .map((c): [number, number] => [(c.args as { x: number }).x, (c.args as { y: number }).y]);
      if (points.length === 0) {
        return { task: new WalkRouteTask(robot.jointNames), maxSimSec: 40 + SLACK_SEC };
      }
      // The gait's own limit per leg (5 s per metre plus 8 s, gait.ts defaults), from the origin.
      let limit = 0;
      let from: [number, number] = [0, 0];
      for (const p of points) {
        limit += 5 * Math.hypot(p[0] - from[0], p[1] - from[1]) + 8;
        from = p;
      }
      limit += standSeconds(steps) ?? 0;
      return { task: new InstructedRouteTask(robot.jointNames, points, limit), maxSimSec: limit + SLACK_SEC };
    },
  };
}

export const LOCOMOTION_SCENES: Readonly<Record<string, LocomotionScene>> = Object.fromEntries(
  [pushRecoveryScene(), walk(), stand()].map((s) => [s.id, s]),
);

export const LOCOMOTION_SCENE_IDS: readonly string[] = Object.keys(LOCOMOTION_SCENES);

/**
 * The scene for `--scene` (its id or last part), or the one whose keywords the instruction mentions most
 * (ties: the earlier, so pushes and walks win over the stand they include; none: standing).
 */
export function chooseLocomotionScene(instruction: string, scene?: string): LocomotionScene {
  if (scene !== undefined) {
    const s = scene.trim().toLowerCase();
    const found =
      LOCOMOTION_SCENES[s] ?? Object.values(LOCOMOTION_SCENES).find((x) => x.id.split('/').pop() === s);
    if (!found) {
      throw new TgError(
        'NOT_FOUND',
        `no locomotion scene '${scene}' (scenes: ${LOCOMOTION_SCENE_IDS.join(', ')}; or their last part)`,
      );
    }
    return found;
  }
  const text = ` ${instruction.toLowerCase().replace(/[^a-z0-9-]+/g, ' ')} `;
  let best = LOCOMOTION_SCENES['locomotion/stand']!;
  let bestScore = 0;
  for (const s of Object.values(LOCOMOTION_SCENES)) {
    let score = 0;
    for (const k of s.keywords) if (text.includes(` ${k} `)) score++;
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

/** The built-in planner's steps for `instruction` from the start pose, or none when it cannot plan it. */
export function instructedSteps(robot: Embodiment, instruction: string): SkillCall[] {
  try {
    return planInstruction({
      instruction,
      world: {
        robot: { name: robot.name, kind: 'humanoid' },
        held: null,
        base: { x: 0, y: 0, yawRad: 0 },
        objects: [],
        targets: [],
      },
    });
  } catch {
    return [];
  }
}
