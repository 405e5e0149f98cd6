/**
 * The per-robot control stack (src/control/stack): scene choice, seeded replay, the brain's view of a
 * scene, the cerebellum adapter, and layer faults ending in a safe stop through the spine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BuiltinPlanner,
  type Planner,
  PlanningError,
  type PlanRequest,
} from '../../src/control/brain/index.ts';
import type { ArmSkills } from '../../src/control/cerebellum/index.ts';
import type { Skill, SkillCall, WorldState } from '../../src/control/contracts.ts';
import { createWorldState } from '../../src/control/perception/index.ts';
import {
  ARM_SCENES,
  ArmSkillRunner,
  chooseArmScene,
  type EpisodeOutcome,
  RobotStack,
  type RobotStackOptions,
} from '../../src/control/stack/index.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';

const ARM7 = loadEmbodiment('arm7');
const PICK_PLACE = ARM_SCENES['factory/pick-place']!;

async function episode(
  instruction: string,
  seed: number,
  opts: Partial<RobotStackOptions> = {},
  patch?: (stack: RobotStack) => void,
): Promise<EpisodeOutcome> {
  const stack = await RobotStack.create({ robot: ARM7, scene: PICK_PLACE, ...opts });
  try {
    patch?.(stack);
    return await stack.run(instruction, seed);
  } finally {
    stack.dispose();
  }
}

/** A planner that records what the brain was shown and refuses. */
class SpyPlanner implements Planner {
  readonly name = 'spy';
  readonly requests: PlanRequest[] = [];
  async plan(request: PlanRequest): Promise<never> {
    this.requests.push(structuredClone(request));
    throw new PlanningError(request.instruction, ['spy planner: nothing planned']);
  }
}

describe('chooseArmScene', () => {
  test('by id, by last part, and from the instruction', () => {
    assert.equal(chooseArmScene('x', 'home/tidy').id, 'home/tidy');
    assert.equal(chooseArmScene('x', 'peg-board').id, 'factory/peg-board');
    assert.equal(chooseArmScene('insert the 8 mm peg into its hole').id, 'factory/peg-board');
    assert.equal(chooseArmScene('bring the coffee to the customer').id, 'mall/serve-cup');
    assert.equal(chooseArmScene('tidy up the toys into the box').id, 'home/tidy');
    assert.equal(chooseArmScene('can you put the cube in the bin').id, 'factory/pick-place');
    // Nothing points anywhere: the factory cell, where the planner says what it cannot do.
    assert.equal(chooseArmScene('move the gripper to (0.4, 0, 0.3)').id, 'factory/pick-place');
  });

  test('an unknown scene names the ones there are', () => {
    assert.throws(
      () => chooseArmScene('x', 'kitchen'),
      (e) =>
        isTgError(e) && e.code === 'NOT_FOUND' && /factory\/pick-place, factory\/peg-board/.test(e.message),
    );
  });
});

describe('RobotStack episodes', () => {
  test('a seed replays exactly (simulated time, built-in planner)', async () => {
    const a = await episode('put the red cube in the bin', 3);
    const b = await episode('put the red cube in the bin', 3);
    assert.equal(a.success, true, a.reason);
    assert.equal(a.simSec, b.simSec);
    assert.deepEqual(a.metrics, b.metrics);
    assert.deepEqual(
      a.timeline.map((e) => [e.kind, e.tSec]),
      b.timeline.map((e) => [e.kind, e.tSec]),
    );
    assert.deepEqual(a.safetySummary, b.safetySummary);
    const c = await episode('put the red cube in the bin', 4);
    assert.notDeepEqual(c.metrics, a.metrics, 'another seed is another episode');
  });

  test("the brain sees the scene's objects and targets, not perception's container slots", async () => {
    const tidy = new SpyPlanner();
    const o = await episode('tidy up', 1, { scene: ARM_SCENES['home/tidy']!, brain: { planner: tidy } });
    assert.equal(o.plan, null);
    assert.match(o.planningError ?? '', /spy planner: nothing planned/);
    const world = tidy.requests[0]!.world;
    assert.deepEqual(world.objects.map((x) => [x.name, x.color]).sort(), [
      ['block', 'red'],
      ['can', 'blue'],
      ['carton', 'yellow'],
    ]);
    assert.ok(world.objects.every((x) => x.visible && x.pos !== undefined));
    assert.deepEqual(
      world.targets.map((t) => t.name),
      ['box'],
    );
    assert.ok(world.targets[0]!.pos, 'the box position comes from perception');
    assert.equal(world.held, null);

    const peg = new SpyPlanner();
    await episode('insert the 8 mm peg', 1, {
      scene: ARM_SCENES['factory/peg-board']!,
      brain: { planner: peg },
    });
    const pw = peg.requests[0]!.world;
    assert.equal(pw.held, 'peg_8mm', 'the peg starts in the hand');
    assert.deepEqual(
      pw.targets.map((t) => [t.name, t.sizeMm]),
      [
        ['hole_4mm', 4],
        ['hole_8mm', 8],
        ['hole_12mm', 12],
        ['hole_16mm', 16],
      ],
    );
  });

  test('a plan step the arm cannot start fails the step; replans give up with the reason', async () => {
    const bad: Planner = {
      name: 'bad',
      plan: async (r) => ({
        instruction: r.instruction,
        steps: [{ skill: 'fly', args: {} }],
        planner: 'bad',
      }),
    };
    const o = await episode('fly', 1, { brain: { planner: bad } });
    assert.equal(o.success, false);
    assert.equal(o.executor, 'failed');
    assert.equal(o.replans, 3);
    assert.match(o.reason ?? '', /could not start: this arm has no skill 'fly'.*gave up after 3 replans/);
    assert.equal(o.safeStop, null, 'a refused step is not a safety stop: the arm holds');
  });
});

describe('RobotStack: a failing layer ends in a safe stop through the spine', () => {
  test('perception throws: fault, category 2 stop, robot stopped, episode failed', async () => {
    const o = await episode('put the red cube in the bin', 1, {}, (stack) => {
      const update = stack.perception.updateObjects.bind(stack.perception);
      stack.perception.updateObjects = (t) => {
        if (t > 1) throw new Error('camera unplugged');
        update(t);
      };
    });
    assert.equal(o.success, false);
    assert.equal(o.faults.length, 1);
    assert.equal(o.faults[0]!.layer, 'perception');
    assert.match(o.faults[0]!.reason, /exception: camera unplugged/);
    assert.ok(o.safeStop);
    assert.match(o.safeStop.reason, /^estop: perception: exception: camera unplugged/);
    assert.equal(o.safeStop.category, 2);
    assert.equal(o.spine.mode, 'stopped');
    assert.ok(
      Math.abs(o.safeStop.tSec - o.faults[0]!.tSec) < 1e-9,
      'the stop begins in the tick of the fault',
    );
    assert.ok(o.simSec < o.safeStop.tSec + 1, `ended ${o.simSec} s: soon after the stop`);
    assert.match(o.reason ?? '', /^safe stop/);
    assert.equal(o.layers.perception.faults, 1);
  });

  test('the cerebellum throws: same, attributed to the cerebellum', async () => {
    const o = await episode('put the red cube in the bin', 1, {}, (stack) => {
      const update = stack.pipeline.update.bind(stack.pipeline);
      stack.pipeline.update = (t) => {
        if (t > 2) throw new Error('encoder bus error');
        update(t);
      };
    });
    assert.deepEqual(
      o.faults.map((f) => f.layer),
      ['cerebellum'],
    );
    assert.match(o.safeStop?.reason ?? '', /^estop: cerebellum: exception: encoder bus error/);
    assert.equal(o.spine.mode, 'stopped');
    assert.equal(o.success, false);
  });

  test('a brain that never answers is timed out by the scheduler: fault, safe stop', async () => {
    const hang: Planner = { name: 'hang', plan: () => new Promise(() => {}) };
    const o = await episode('put the red cube in the bin', 1, { brain: { planner: hang, timeoutMs: 200 } });
    assert.equal(o.faults[0]?.layer, 'brain');
    assert.match(o.faults[0]!.reason, /timeout: no plan after 200 ms/);
    assert.match(o.safeStop?.reason ?? '', /^estop: brain: timeout/);
    assert.equal(o.plan, null);
    assert.equal(o.success, false);
  });

  test('the built-in planner under the same stack still succeeds (control for the three above)', async () => {
    const o = await episode('put the red cube in the bin', 1, { brain: { planner: new BuiltinPlanner() } });
    assert.equal(o.success, true, o.reason);
    assert.deepEqual(o.faults, []);
  });
});

describe('ArmSkillRunner', () => {
  /** ArmSkills stand-in: records the calls it is started with. */
  function fakeSkills(held: string | null) {
    const calls: SkillCall[] = [];
    const skill: Skill = { name: 'place', failure: null, start() {}, step: () => 'running' };
    const skills = {
      context: { held: held ? { name: held, siteAboveCentreM: 0 } : null },
      start(call: SkillCall) {
        calls.push(call);
        return skill;
      },
    } as unknown as ArmSkills;
    return { skills, calls };
  }

  function stateWith(poses: Record<string, [number, number, number]>): WorldState {
    const s = createWorldState({ stateDim: 8, objects: Object.keys(poses) });
    for (const [name, p] of Object.entries(poses)) {
      const e = s.objects.get(name)!;
      e.pos.set(p);
      e.stampSec = 0;
      e.visible = true;
    }
    return s;
  }

  test('place into a container goes to the slot farthest from what is already there', () => {
    const state = stateWith({
      s0: [0.25, 0.33, 0],
      s1: [0.35, 0.33, 0],
      s2: [0.45, 0.33, 0],
      block: [0.26, 0.33, 0.03], // already in, over s0
      can: [0.5, -0.2, 0.04], // on the table
      carton: [0.44, 0.34, 0.04], // already in, over s2
    });
    const { skills, calls } = fakeSkills('can');
    const runner = new ArmSkillRunner(
      skills,
      state,
      [{ target: 'box', slots: ['s0', 's1', 's2'] }],
      ['block', 'can', 'carton'],
    );
    runner.start({ skill: 'place', args: { target: 'box' } });
    assert.deepEqual(calls[0], { skill: 'place', args: { target: 's1' } });
    runner.start({ skill: 'place', args: { target: 'bin' } });
    assert.deepEqual(calls[1], { skill: 'place', args: { target: 'bin' } }, 'not a container: unchanged');
    runner.start({ skill: 'pick', args: { object: 'box' } });
    assert.deepEqual(calls[2], { skill: 'pick', args: { object: 'box' } });
  });

  test('status follows the skill; stop fails the call and holds', () => {
    const state = stateWith({});
    let status: 'running' | 'succeeded' | 'failed' = 'running';
    const skill: Skill = {
      name: 'pick',
      failure: 'pick: slipped',
      start() {},
      step: () => status,
    };
    const skills = {
      context: { held: null, motion: { ready: false } },
      start: () => skill,
    } as unknown as ArmSkills;
    const runner = new ArmSkillRunner(skills, state);
    const cmd = new Float64Array(8).fill(0.5);
    runner.step(cmd);
    assert.equal(runner.status(), 'succeeded', 'nothing started yet: idle');
    assert.deepEqual([...cmd], new Array(8).fill(0.5), 'and the command is held');
    runner.start({ skill: 'pick', args: { object: 'cube' } });
    assert.equal(runner.status(), 'running');
    runner.step(cmd);
    assert.equal(runner.status(), 'running');
    status = 'failed';
    runner.step(cmd);
    assert.equal(runner.status(), 'failed');
    assert.equal(runner.failure, 'pick: slipped');
    runner.start({ skill: 'pick', args: { object: 'cube' } });
    status = 'running';
    runner.stop();
    runner.step(cmd);
    assert.equal(runner.status(), 'failed', 'a stopped call stays failed');
    assert.equal(runner.failure, 'stopped by the executor');
  });
});
