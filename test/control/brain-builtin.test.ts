import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BuiltinPlanner,
  DEFAULT_STAND_SEC,
  planInstruction,
} from '../../src/control/brain/builtin-planner.ts';
import { parseInstruction } from '../../src/control/brain/instruction.ts';
import { validateSteps } from '../../src/control/brain/plan-validation.ts';
import { isPlanningError, type PlanningError } from '../../src/control/brain/planner.ts';
import { summarizeWorld, type WorldSummary } from '../../src/control/brain/world-summary.ts';
import type { SkillCall, WorldState } from '../../src/control/contracts.ts';
import {
  homeTidyWorld,
  humanoidWorld,
  loosePegsWorld,
  mallCounterWorld,
  mallServeWorld,
  pegBoardWorld,
  pickPlaceWorld,
  twoCubesWorld,
} from './brain-worlds.ts';

const plan = (world: WorldSummary, instruction: string) => planInstruction({ instruction, world });
const call = (skill: string, args: Record<string, unknown> = {}): SkillCall => ({ skill, args });

/** One test per phrasing: each plans to `expected` in a fresh `world()`. */
function plansTo(
  world: () => WorldSummary,
  instructions: readonly string[],
  expected: SkillCall[],
  name = (instruction: string) => `"${instruction}"`,
): void {
  for (const instruction of instructions) {
    test(name(instruction), () => assert.deepEqual(plan(world(), instruction), expected));
  }
}

/** The PlanningError for an instruction that must not plan. */
function refusal(world: WorldSummary, instruction: string): PlanningError {
  try {
    plan(world, instruction);
  } catch (err) {
    assert.ok(isPlanningError(err), `expected a PlanningError, got ${String(err)}`);
    assert.equal(err.code, 'INPUT_INVALID');
    return err;
  }
  assert.fail(`"${instruction}" was planned`);
}

describe('builtin planner: pick-and-place (cube into bin)', () => {
  plansTo(
    pickPlaceWorld,
    [
      'put the red cube in the bin',
      'Put the cube into the bin.',
      'Please pick up the cube and put it in the bin',
      'pick the cube up, then drop it into the bin',
      'could you move the block to the bin please',
      'grab the red block; place it in the basket',
      'take the cube to the bin',
    ],
    [call('pick', { object: 'cube' }), call('place', { target: 'bin' })],
  );

  test('colour picks one of two cubes; the plural takes both, nearest first', () => {
    assert.deepEqual(plan(twoCubesWorld(), 'put the blue cube in the bin'), [
      call('pick', { object: 'cube_blue' }),
      call('place', { target: 'bin' }),
    ]);
    assert.deepEqual(plan(twoCubesWorld(), 'put all the cubes in the bin'), [
      call('pick', { object: 'cube_blue' }),
      call('place', { target: 'bin' }),
      call('pick', { object: 'cube_red' }),
      call('place', { target: 'bin' }),
    ]);
  });

  test('plans from the world state: a held cube is not picked again, a cube in the bin is done', () => {
    const held = pickPlaceWorld();
    held.held = 'cube';
    assert.deepEqual(plan(held, 'put the cube in the bin'), [call('place', { target: 'bin' })]);
    const done = pickPlaceWorld();
    done.objects[0]!.pos = [0.41, -0.29, 0.03];
    assert.deepEqual(plan(done, 'put the cube in the bin'), []);
  });

  test('arm motions: move_to a point, release, home', () => {
    assert.deepEqual(
      plan(pickPlaceWorld(), 'move the gripper to (0.4, 0, 0.3), then open the gripper and go home'),
      [call('move_to', { position: [0.4, 0, 0.3] }), call('release'), call('home')],
    );
  });
});

describe('builtin planner: NIST peg insertion', () => {
  test('"insert the 8 mm peg" uses the held peg and the hole of its size', () => {
    assert.deepEqual(plan(pegBoardWorld(), 'insert the 8 mm peg'), [
      call('insert', { object: 'peg_8mm', target: 'hole_8mm' }),
    ]);
    assert.deepEqual(plan(pegBoardWorld(), 'put the peg in the hole'), [
      call('insert', { object: 'peg_8mm', target: 'hole_8mm' }),
    ]);
    assert.deepEqual(plan(pegBoardWorld(), 'insert the peg into the 12mm hole'), [
      call('insert', { object: 'peg_8mm', target: 'hole_12mm' }),
    ]);
  });

  test('the peg board under its MuJoCo names (hole sites "hole/round8"), sizes given by the scene', () => {
    const w = pegBoardWorld();
    w.objects = [{ name: 'peg', sizeMm: 8, pos: [0.5, 0, 0.2] }];
    w.held = 'peg';
    w.targets = [4, 8, 12, 16].map((d) => ({ name: `hole/round${d}`, sizeMm: d + 0.1 }));
    assert.deepEqual(plan(w, 'insert the 8 mm peg'), [
      call('insert', { object: 'peg', target: 'hole/round8' }),
    ]);
  });

  test('a loose peg is picked first; sizes are read from the names', () => {
    assert.deepEqual(plan(loosePegsWorld(), 'insert the 4 mm peg'), [
      call('pick', { object: 'peg_4mm' }),
      call('insert', { object: 'peg_4mm', target: 'hole_4mm' }),
    ]);
    assert.deepEqual(plan(loosePegsWorld(), 'plug the smallest pin into its hole'), [
      call('pick', { object: 'peg_4mm' }),
      call('insert', { object: 'peg_4mm', target: 'hole_4mm' }),
    ]);
  });
});

describe('builtin planner: mall cup serve', () => {
  plansTo(
    mallCounterWorld,
    ['serve the cup', 'put the cup on the hand-over spot', 'hand the customer the cup'],
    [call('pick', { object: 'cup' }), call('place', { target: 'handover' })],
    (instruction) => `kiosk arm: "${instruction}"`,
  );

  for (const instruction of [
    'serve the cup',
    'Give me the cup',
    'bring the coffee to the customer',
    'serve the customer',
    'hand the mug over to the guest',
  ]) {
    test(`mobile robot: "${instruction}": pick, drive within reach of the hand-over spot, place`, () => {
      const steps = plan(mallServeWorld(), instruction);
      assert.deepEqual(
        steps.map((s) => s.skill),
        ['pick', 'walk_to', 'place'],
      );
      assert.deepEqual(steps[0]!.args, { object: 'cup' });
      assert.deepEqual(steps[2]!.args, { target: 'handover' });
      const { x, y } = steps[1]!.args as { x: number; y: number };
      const d = Math.hypot(2.5 - x, 1 - y);
      assert.ok(d < 0.8 && d > 0.5, `stops ${d.toFixed(3)} m from the spot, inside the 0.8 m reach`);
    });
  }
});

describe('builtin planner: home tidy', () => {
  plansTo(
    homeTidyWorld,
    [
      'tidy up the toys into the box',
      'put away all the toys',
      'clean up',
      'tidy up everything',
      'put all the things in the box',
    ],
    ['can', 'block', 'ball'].flatMap((object) => [
      call('pick', { object }),
      call('place', { target: 'box' }),
    ]),
    (instruction) => `"${instruction}": every object not yet in the box, nearest first`,
  );

  test('colours narrow the objects: "tidy up the red and blue toys", "the red one"', () => {
    assert.deepEqual(plan(homeTidyWorld(), 'tidy up the red and blue toys'), [
      call('pick', { object: 'can' }),
      call('place', { target: 'box' }),
      call('pick', { object: 'block' }),
      call('place', { target: 'box' }),
    ]);
    assert.deepEqual(plan(homeTidyWorld(), 'put the red one in the box'), [
      call('pick', { object: 'block' }),
      call('place', { target: 'box' }),
    ]);
    assert.deepEqual(plan(homeTidyWorld(), 'put the yellow carton in the box'), [], 'already there');
    assert.match(
      refusal(homeTidyWorld(), 'tidy up the purple toys').message,
      /no object matches "the purple toys"/,
    );
  });
});

describe('builtin planner: humanoid stand, push recovery, walk', () => {
  const cases: [string, SkillCall[]][] = [
    ['stand still for 10 seconds', [call('stand', { seconds: 10 })]],
    ['Keep your balance for twenty seconds while I push you', [call('stand', { seconds: 20 })]],
    ['recover from pushes for 1.5 min', [call('stand', { seconds: 90 })]],
    ['stand', [call('stand', { seconds: DEFAULT_STAND_SEC })]],
    ['stand as still as you can', [call('stand', { seconds: DEFAULT_STAND_SEC })]],
    ['stay upright for a minute', [call('stand', { seconds: 60 })]],
    ['walk to (2, 0)', [call('walk_to', { x: 2, y: 0 })]],
    ['walk to x=2, y=-1.5', [call('walk_to', { x: 2, y: -1.5 })]],
    [
      'walk to (1, 0) then (1, 1), then (0, 1)',
      [call('walk_to', { x: 1, y: 0 }), call('walk_to', { x: 1, y: 1 }), call('walk_to', { x: 0, y: 1 })],
    ],
    [
      'walk the route (0,0) -> (1,0) -> (1,1)',
      [call('walk_to', { x: 0, y: 0 }), call('walk_to', { x: 1, y: 0 }), call('walk_to', { x: 1, y: 1 })],
    ],
    [
      'follow the route and then stand for 5 s',
      [
        call('walk_to', { x: 1, y: 0 }),
        call('walk_to', { x: 1, y: 1 }),
        call('walk_to', { x: 0, y: 1 }),
        call('stand', { seconds: 5 }),
      ],
    ],
    ['walk to wp2', [call('walk_to', { x: 1, y: 1 })]],
    ['walk 2 m forward, then 1 m left', [call('walk_to', { x: 2, y: 0 }), call('walk_to', { x: 2, y: 1 })]],
  ];
  for (const [instruction, steps] of cases) plansTo(humanoidWorld, [instruction], steps);

  test('relative walks start from the base pose and heading', () => {
    const w = humanoidWorld();
    w.base = { x: 1, y: 2, yawRad: Math.PI / 2 };
    assert.deepEqual(plan(w, 'walk 3 meters forward'), [call('walk_to', { x: 1, y: 5 })]);
  });

  test('a replan skips the waypoints reached before the failure', async () => {
    const completed = [call('walk_to', { x: 1, y: 0 })];
    const p = await new BuiltinPlanner().plan({
      instruction: 'follow the route',
      world: humanoidWorld(),
      failure: { index: 1, step: call('walk_to', { x: 1, y: 1 }), reason: 'fell', completed, replan: 1 },
    });
    assert.equal(p.planner, 'builtin');
    assert.deepEqual(p.steps, [call('walk_to', { x: 1, y: 1 }), call('walk_to', { x: 0, y: 1 })]);
  });
});

describe('builtin planner: instructions it cannot plan', () => {
  test('an unknown action is named, with what it can do, and nothing is half-planned', () => {
    const err = refusal(pickPlaceWorld(), 'pick up the cube, then dance a jig');
    assert.equal(err.problems[0], 'did not understand "dance a jig"');
    assert.match(
      err.message,
      /^cannot plan "pick up the cube, then dance a jig": did not understand "dance a jig"; I can: pick up/,
    );
    // Joined by "and" to an unknown verb, the words read as part of the noun phrase, and are named as such.
    assert.deepEqual(refusal(pickPlaceWorld(), 'pick up the cube and dance a jig').problems, [
      'no object matches "the cube and dance a jig" (objects: cube)',
    ]);
  });

  test('an object that is not there', () => {
    const err = refusal(pickPlaceWorld(), 'put the purple elephant in the bin');
    assert.deepEqual(err.problems, ['no object matches "the purple elephant" (objects: cube)']);
    assert.match(
      refusal(loosePegsWorld(), 'insert the 3 mm peg').message,
      /no peg matches "the 3 mm peg" \(objects: peg_4mm, peg_8mm\)/,
    );
  });

  test('a target that is not there, or an object named as a place', () => {
    assert.match(
      refusal(mallServeWorld(), 'serve the cup to table 5').message,
      /no target matches "table 5" \(targets: handover\)/,
    );
    assert.match(
      refusal(twoCubesWorld(), 'put the red cube on the blue cube').message,
      /it is an object, not a place/,
    );
  });

  test('an ambiguous reference lists the candidates', () => {
    const err = refusal(twoCubesWorld(), 'put the cube in the bin');
    assert.deepEqual(err.problems, ['"the cube" is ambiguous: it could be cube_red, cube_blue']);
  });

  test('a skill the robot does not have', () => {
    assert.match(
      refusal(pickPlaceWorld(), 'walk to (2, 0)').message,
      /robot 'arm7' \(arm\) has no 'walk_to' skill \(it has: move_to, pick, place, insert, release, home\)/,
    );
    assert.match(
      refusal(humanoidWorld(), 'pick up the cube').message,
      /no object matches "the cube" \(objects: none\)/,
    );
    assert.match(refusal(pickPlaceWorld(), 'stand still for 5 s').message, /has no 'stand' skill/);
  });

  test('incomplete or empty instructions', () => {
    assert.match(
      refusal(pickPlaceWorld(), 'put the cube').message,
      /did not understand "put the cube": put the cube where\?/,
    );
    assert.deepEqual(refusal(pickPlaceWorld(), '   ').problems, ['the instruction is empty']);
    assert.match(refusal(pegBoardWorld(), 'pick up the cube').message, /no object matches "the cube"/);
  });

  test('a second pick while holding something says to put it down first', () => {
    const w = loosePegsWorld();
    w.held = 'peg_8mm';
    assert.match(
      refusal(w, 'pick up the 4 mm peg').message,
      /the gripper holds 'peg_8mm'; say where to put it first/,
    );
  });

  test('the builtin planner rejects asynchronously with the same error', async () => {
    await assert.rejects(new BuiltinPlanner().plan({ instruction: 'fly', world: pickPlaceWorld() }), (e) =>
      isPlanningError(e),
    );
  });
});

describe('plan validation and world summaries', () => {
  test('validateSteps names unknown skills, bad args, unknown objects and targets', () => {
    const w = pickPlaceWorld();
    const bad = validateSteps(
      [
        { skill: 'fly', args: {} },
        { skill: 'pick', args: { object: 3 } },
        { skill: 'pick', args: { object: 'banana' } },
        { skill: 'place', args: { target: 'oven' } },
        { skill: 'move_to', args: { position: [1, 2] } },
        { skill: 'home', args: { speed: 2 } },
        'pick',
      ],
      w,
    );
    assert.equal(bad.ok, false);
    const reason = bad.ok ? '' : bad.reason;
    for (const part of [
      "step 1: unknown skill 'fly'",
      'step 2 (pick): args.object:',
      "step 3 (pick): unknown object 'banana'",
      "step 4 (place): unknown target 'oven'",
      'step 5 (move_to): args.position',
      'step 6 (home): args: Unrecognized key',
      'step 7: not an object',
    ]) {
      assert.ok(reason.includes(part), `"${part}" in ${reason}`);
    }
    assert.deepEqual(validateSteps([{ skill: 'release' }], w), { ok: true, steps: [call('release')] });
  });

  test('the parser keeps coordinates whole and splits clauses before verbs only', () => {
    const clauses = parseInstruction(
      'walk to (1.5, -2), then stand for 500 ms and release the red and blue cubes',
    );
    assert.deepEqual(
      clauses.map((c) => c.intent?.kind),
      ['walk', 'stand', 'release'],
    );
    assert.deepEqual(clauses[0]!.intent, { kind: 'walk', points: [[1.5, -2]] });
    assert.deepEqual(clauses[1]!.intent, { kind: 'stand', seconds: 0.5 });
  });

  test('summarizeWorld turns perception output into the summary planners read', () => {
    const state: WorldState = {
      tSec: 1.25,
      q: new Float64Array(0),
      qd: new Float64Array(0),
      tau: new Float64Array(0),
      objects: new Map([
        [
          'cube',
          {
            pos: Float64Array.of(0.45012, 0.1, 0.0204),
            quat: Float64Array.of(1, 0, 0, 0),
            stampSec: 1.2,
            visible: true,
          },
        ],
        // Perception tracks the bin too: it moves the target, it does not become an object.
        [
          'bin',
          {
            pos: Float64Array.of(0.41, -0.31, 0),
            quat: Float64Array.of(1, 0, 0, 0),
            stampSec: 1.2,
            visible: true,
          },
        ],
        // Never seen: no position.
        [
          'duck',
          {
            pos: new Float64Array(3),
            quat: Float64Array.of(1, 0, 0, 0),
            stampSec: Number.NaN,
            visible: false,
          },
        ],
      ]),
      tactile: new Map(),
      base: {
        pos: Float64Array.of(1, 2, 0.9),
        quat: Float64Array.of(Math.cos(Math.PI / 4), 0, 0, Math.sin(Math.PI / 4)),
        linVel: new Float64Array(3),
        angVel: new Float64Array(3),
      },
    };
    const w = summarizeWorld(
      state,
      {
        robot: { name: 'service', kind: 'mobile' },
        objects: { cube: { kind: 'cube', color: 'red' }, cup: { kind: 'cup' } },
        targets: [{ name: 'bin', pos: [0.4, -0.3, 0] }],
      },
      null,
    );
    assert.deepEqual(w.objects, [
      { name: 'cube', kind: 'cube', color: 'red', pos: [0.45, 0.1, 0.02], visible: true },
      { name: 'duck', visible: false },
      { name: 'cup', kind: 'cup', visible: false },
    ]);
    assert.deepEqual(w.targets, [{ name: 'bin', pos: [0.41, -0.31, 0] }]);
    assert.deepEqual(w.base, { x: 1, y: 2, yawRad: 1.571 });
    assert.equal(w.tSec, 1.25);
    assert.deepEqual(plan(w, 'put the red cube in the bin'), [
      call('pick', { object: 'cube' }),
      call('place', { target: 'bin' }),
    ]);
  });
});
