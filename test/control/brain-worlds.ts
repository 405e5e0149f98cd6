/**
 * World summaries of the scene tasks the brain must plan (pick-place, NIST peg board, mall cup serve, home
 * tidy, humanoid stand / push recovery / walk), and a fake robot (cerebellum + world) for the executor
 * tests: skills take a few ticks, change the world when they succeed, and fail or hang on a script.
 */

import type { SkillRunner } from '../../src/control/brain/plan-executor.ts';
import type { Vec3, WorldSummary } from '../../src/control/brain/world-summary.ts';
import type { SkillCall, SkillStatus } from '../../src/control/contracts.ts';

export function pickPlaceWorld(): WorldSummary {
  return {
    robot: { name: 'arm7', kind: 'arm' },
    held: null,
    objects: [{ name: 'cube', kind: 'cube', color: 'red', sizeMm: 40, pos: [0.45, 0.1, 0.02] }],
    targets: [{ name: 'bin', kind: 'bin', pos: [0.4, -0.3, 0], radiusM: 0.08 }],
  };
}

export function twoCubesWorld(): WorldSummary {
  const w = pickPlaceWorld();
  w.objects = [
    { name: 'cube_red', kind: 'cube', color: 'red', pos: [0.5, 0.2, 0.02] },
    { name: 'cube_blue', kind: 'cube', color: 'blue', pos: [0.3, 0.1, 0.02] },
  ];
  return w;
}

const HOLES_MM = [4, 8, 12, 16];

/** NIST Assembly Task Board 1 round holes, the 8 mm peg held (as the peg-board scene starts). */
export function pegBoardWorld(): WorldSummary {
  return {
    robot: { name: 'arm7', kind: 'arm' },
    held: 'peg_8mm',
    objects: [{ name: 'peg_8mm', kind: 'peg', sizeMm: 8, pos: [0.5, 0, 0.2] }],
    targets: HOLES_MM.map((d, i) => ({
      name: `hole_${d}mm`,
      kind: 'hole',
      sizeMm: d,
      pos: [0.5, -0.09 + 0.06 * i, 0.03] as Vec3,
      radiusM: 0.004,
    })),
  };
}

/** Pegs lying in a tray, none held: insertion needs a pick first. Sizes only in the names. */
export function loosePegsWorld(): WorldSummary {
  const w = pegBoardWorld();
  w.held = null;
  w.objects = [
    { name: 'peg_4mm', pos: [0.35, 0.2, 0.01] },
    { name: 'peg_8mm', pos: [0.4, 0.2, 0.01] },
  ];
  w.targets = w.targets.map(({ sizeMm: _s, kind: _k, ...t }) => t);
  return w;
}

/** Mall: a service robot at the counter, the hand-over spot 2.5 m away (out of its 0.8 m reach). */
export function mallServeWorld(): WorldSummary {
  return {
    robot: { name: 'service', kind: 'mobile', reachM: 0.8 },
    held: null,
    base: { x: 0, y: 0, yawRad: 0 },
    objects: [{ name: 'cup', kind: 'cup', pos: [0.55, 0, 0.9] }],
    targets: [{ name: 'handover', kind: 'handover', pos: [2.5, 1, 1.0], radiusM: 0.1 }],
  };
}

/** Mall kiosk as src/sim/scenes/serve-cup.ts builds it: the arm on the counter, a cup, the marked spot. */
export function mallCounterWorld(): WorldSummary {
  return {
    robot: { name: 'arm7', kind: 'arm' },
    held: null,
    objects: [{ name: 'cup', kind: 'cup', color: 'white', pos: [0.42, -0.2, 0.045] }],
    targets: [{ name: 'handover', kind: 'handover', pos: [0.52, 0.25, 0], radiusM: 0.03 }],
  };
}

/** Home as src/sim/scenes/tidy.ts builds it (block, can, carton, an open box), the carton already in the box. */
export function homeTidyWorld(): WorldSummary {
  return {
    robot: { name: 'arm7', kind: 'arm' },
    held: null,
    objects: [
      { name: 'block', color: 'red', pos: [0.5, -0.2, 0.02] },
      { name: 'can', color: 'blue', pos: [0.35, -0.1, 0.04] },
      { name: 'carton', color: 'yellow', pos: [0.36, 0.32, 0.04] },
      { name: 'ball', color: 'green', pos: [0.6, 0, 0.03] },
    ],
    targets: [{ name: 'box', pos: [0.35, 0.33, 0], radiusM: 0.12 }],
  };
}

export function humanoidWorld(): WorldSummary {
  return {
    robot: { name: 'humanoid', kind: 'humanoid' },
    held: null,
    base: { x: 0, y: 0, yawRad: 0 },
    objects: [],
    targets: [
      { name: 'wp1', kind: 'waypoint', pos: [1, 0, 0] },
      { name: 'wp2', kind: 'waypoint', pos: [1, 1, 0] },
      { name: 'wp3', kind: 'waypoint', pos: [0, 1, 0] },
    ],
  };
}

export type Fault = 'fail' | 'hang' | 'drop';

/**
 * A fake robot: a world the brain reads and a cerebellum the executor drives. Each skill runs `ticks`
 * steps; `faults` scripts what the n-th call of a skill does ('fail': fails in place, 'drop': fails and
 * leaves the held object on the floor, 'hang': never finishes).
 */
export class FakeRobot implements SkillRunner {
  readonly world: WorldSummary;
  readonly started: SkillCall[] = [];
  stops = 0;
  failure: string | null = null;
  private call: SkillCall | null = null;
  private left = 0;
  private result: SkillStatus = 'succeeded';
  private fault: Fault | null = null;
  private readonly counts = new Map<string, number>();

  constructor(
    world: WorldSummary,
    private readonly faults: Record<string, (Fault | null)[]> = {},
    private readonly ticks = 3,
    /** Skills this cerebellum does not have: `start` throws. */
    private readonly missing: string[] = [],
  ) {
    this.world = structuredClone(world);
  }

  start(call: SkillCall): void {
    if (this.missing.includes(call.skill)) throw new Error(`no skill '${call.skill}' in this cerebellum`);
    this.started.push(call);
    const n = this.counts.get(call.skill) ?? 0;
    this.counts.set(call.skill, n + 1);
    this.call = call;
    this.left = this.ticks;
    this.result = 'running';
    this.failure = null;
    const fault = this.faults[call.skill]?.[n] ?? null;
    if (fault === 'hang') this.left = Number.POSITIVE_INFINITY;
    this.fault = fault;
  }

  /** One cerebellum tick. */
  step(): void {
    if (this.result !== 'running' || !this.call) return;
    if (--this.left > 0) return;
    if (this.fault === 'fail' || this.fault === 'drop') {
      this.result = 'failed';
      this.failure = `${this.call.skill}: slip detected, object lost`;
      if (this.fault === 'drop' && this.world.held) {
        const o = this.world.objects.find((x) => x.name === this.world.held)!;
        o.pos = [0.45, -0.3, 0.02];
        this.world.held = null;
      }
      return;
    }
    this.apply(this.call);
    this.result = 'succeeded';
  }

  status(): SkillStatus {
    return this.result;
  }

  stop(): void {
    this.stops++;
    this.result = 'failed';
    this.call = null;
  }

  private apply(call: SkillCall): void {
    const w = this.world;
    const a = call.args as { object: string; target: string; x: number; y: number };
    if (call.skill === 'pick') w.held = a.object;
    if ((call.skill === 'place' || call.skill === 'insert') && w.held) {
      const t = w.targets.find((x) => x.name === a.target)!;
      w.objects.find((x) => x.name === w.held)!.pos = [...t.pos!];
      w.held = null;
    }
    if (call.skill === 'walk_to') w.base = { x: a.x, y: a.y, yawRad: w.base?.yawRad ?? 0 };
  }
}
