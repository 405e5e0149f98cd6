/**
 * The arm scenes the control stack runs, each with what the layers need to know about it that the MJCF
 * does not say: which bodies and sites perception tracks (under the names plans use), the geometry the
 * skills grasp and place by, the static description the brain's world summary is built from, the layer
 * rates, and the episode's time limit. The scene and the task themselves come from src/sim unchanged.
 *
 * Descriptions live here, next to the stack, rather than in src/sim: kinds, colours and sizes are what a
 * planner needs to resolve "the red cube", and src/sim must not know about planners.
 */

import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import { PEG_BOARD_LAYOUT, pegBoardScene } from '../../sim/scenes/peg-board.ts';
import { PICK_PLACE_LAYOUT, pickPlaceScene } from '../../sim/scenes/pick-place.ts';
import type { Scene } from '../../sim/scenes/scene.ts';
import { SERVE_CUP_LAYOUT, serveCupScene } from '../../sim/scenes/serve-cup.ts';
import { TIDY_LAYOUT, tidyScene } from '../../sim/scenes/tidy.ts';
import { PegInsertionTask } from '../../sim/tasks/peg-insertion.ts';
import { PickPlaceTask } from '../../sim/tasks/pick-place.ts';
import { ServeCupTask } from '../../sim/tasks/serve-cup.ts';
import type { Task } from '../../sim/tasks/task.ts';
import { TidyTask } from '../../sim/tasks/tidy.ts';
import type { SceneDescription } from '../brain/world-summary.ts';
import type { ObjectGeometry } from '../cerebellum/index.ts';
import type { SceneObjectSpec, SimObjectNoise } from '../perception/index.ts';

/** A pose perception tracks: a body's or a site's frame, moved by `offsetM` in that frame. */
/** An object perception tracks: `name` is what plans and skills use ('cube', 'hole_8mm'). */
export type TrackedPose = SceneObjectSpec;

/**
 * A container several things are put into: `place` into it goes to whichever of its slots is free, so
 * that objects do not land on one another. Slots are tracked poses the brain never sees.
 */
export interface ContainerSlots {
  target: string;
  slots: readonly string[];
}

export interface ArmScene {
  /** Tells it from a locomotion scene (locomotion-scenes.ts); absent means an arm scene. */
  readonly kind?: 'arm';
  /** Scene id ('factory/pick-place'). */
  readonly id: string;
  /** Words in an instruction that point to this scene (for choosing one when none is given). */
  readonly keywords: readonly string[];
  /** An instruction this scene's task answers, for help texts and tests. */
  readonly exampleInstruction: string;
  scene(arm: Embodiment): Scene;
  task(arm: Embodiment): Task<unknown>;
  /** What perception tracks, objects and targets alike. */
  readonly tracked: readonly TrackedPose[];
  readonly containers: readonly ContainerSlots[];
  /** Geometry of everything a plan may name, for the skills. */
  readonly catalogue: Readonly<Record<string, ObjectGeometry>>;
  /** The brain's static view of the scene (robot name filled in by the stack). */
  readonly description: Omit<SceneDescription, 'robot'>;
  /** Detection noise over perception's defaults (2 mm, 0.02 rad, 40 ms latency). */
  readonly objectNoise?: SimObjectNoise;
  /** Layer rates (Hz); each must divide the scene's physics rate. */
  readonly cerebellumHz: number;
  readonly perceptionHz: number;
  /** Object held at the start (welded into the hand by the scene), with the grip site above its centre. */
  readonly heldAtStart?: { name: string; siteAboveCentreM: number };
  /** Identify the tool's weight on the wrist sensor after the settle time (a held peg). */
  readonly tareWrench?: boolean;
  /** Sim time the plan may take before the episode is cut off (s). */
  readonly maxSimSec: number;
  /**
   * The task reads MuJoCo sensors as it updates (every physics step): the stack then computes sensors on
   * every step. Otherwise it skips them on steps after which no cerebellum tick reads them.
   */
  readonly taskReadsSensors?: boolean;
}

const mm = (m: number) => Math.round(m * 10000) / 10;

function pickPlace(): ArmScene {
  const { cubeSizeM, bin } = PICK_PLACE_LAYOUT;
  return {
    id: 'factory/pick-place',
    keywords: ['cube', 'block', 'bin', 'brick', 'basket'],
    exampleInstruction: 'put the red cube in the bin',
    scene: (arm) => pickPlaceScene(arm),
    task: (arm) => new PickPlaceTask({ arm }),
    tracked: [{ name: 'cube' }, { name: 'bin' }],
    containers: [],
    catalogue: {
      cube: { widthM: cubeSizeM, heightM: cubeSizeM, shape: 'box' },
      bin: { widthM: 2 * bin.innerHalfM, heightM: bin.wallM + bin.wallHeightM, surfaceM: bin.wallM },
    },
    description: {
      objects: { cube: { kind: 'cube', color: 'red', sizeMm: mm(cubeSizeM) } },
      targets: [{ name: 'bin', kind: 'bin', sizeMm: mm(2 * bin.innerHalfM), radiusM: bin.innerHalfM }],
    },
    cerebellumHz: 250,
    perceptionHz: 50,
    maxSimSec: 30,
  };
}

function pegBoard(): ArmScene {
  const { peg, pegInHandZ, holes } = PEG_BOARD_LAYOUT;
  const pegMm = (name: string) => Math.round(1000 * holes.find((h) => h.name === name)!.pegDiameterM);
  const pegName = `peg_${pegMm(peg.name)}mm`;
  const holeName = (h: (typeof holes)[number]) => `hole_${Math.round(1000 * h.pegDiameterM)}mm`;
  const pegDiameter = holes.find((h) => h.name === peg.name)!.pegDiameterM;
  return {
    id: 'factory/peg-board',
    keywords: ['peg', 'pin', 'hole', 'socket', 'insert', 'board', 'plug'],
    exampleInstruction: `insert the ${pegMm(peg.name)} mm peg`,
    scene: (arm) => pegBoardScene(arm),
    task: () => new PegInsertionTask(),
    tracked: [
      { name: pegName, body: 'peg' },
      ...holes.map((h) => ({ name: holeName(h), site: `hole/${h.name}` })),
    ],
    containers: [],
    catalogue: {
      [pegName]: { widthM: pegDiameter, heightM: peg.lengthM, shape: 'round' },
      ...Object.fromEntries(holes.map((h) => [holeName(h), { widthM: h.holeDiameterM, heightM: 0 }])),
    },
    description: {
      objects: { [pegName]: { kind: 'peg', sizeMm: mm(pegDiameter) } },
      targets: holes.map((h) => ({
        name: holeName(h),
        kind: 'hole',
        sizeMm: mm(h.pegDiameterM),
        radiusM: h.holeDiameterM / 2,
      })),
    },
    // A fixture-mounted camera: 1 mm, averaged by the insertion skill over its approach.
    objectNoise: { posNoiseStd: 0.001 },
    // 0.5 ms physics (the scene's stiff contacts): the cerebellum at 500 Hz servos the insertion forces.
    cerebellumHz: 500,
    perceptionHz: 50,
    // The grasp weld holds the peg's centre `pegInHandZ` along the hand's axis; the grip site is 85 mm
    // along it (src/embodiment/robots/arm7.xml).
    heldAtStart: { name: pegName, siteAboveCentreM: pegInHandZ - 0.085 },
    tareWrench: true,
    maxSimSec: 40,
    // PegInsertionTask.update reads the peg's contact sensor.
    taskReadsSensors: true,
  };
}

function serveCup(): ArmScene {
  const { cup, spotRadiusM } = SERVE_CUP_LAYOUT;
  return {
    id: 'mall/serve-cup',
    keywords: ['cup', 'mug', 'coffee', 'tea', 'serve', 'customer', 'hand-over', 'handover', 'guest'],
    exampleInstruction: 'serve the cup to the customer',
    scene: (arm) => serveCupScene(arm),
    task: (arm) => new ServeCupTask({ arm }),
    // The cup's frame is its bottom centre: perception reports its centre, as for every other object.
    tracked: [
      { name: 'cup', offsetM: [0, 0, cup.heightM / 2] },
      { name: 'handover', site: 'handover' },
    ],
    containers: [],
    catalogue: {
      // Gripped round the wall below the rim: fingertips 45 mm up, the palm clear of the 90 mm rim.
      cup: { widthM: 2 * cup.radiusM, heightM: cup.heightM, shape: 'round', graspHeightM: 0.06 },
      handover: { widthM: 2 * spotRadiusM, heightM: 0 },
    },
    description: {
      objects: { cup: { kind: 'cup', color: 'white', sizeMm: mm(2 * cup.radiusM) } },
      targets: [{ name: 'handover', kind: 'handover', radiusM: spotRadiusM }],
    },
    cerebellumHz: 250,
    perceptionHz: 50,
    maxSimSec: 30,
  };
}

function tidy(): ArmScene {
  const { box, objects } = TIDY_LAYOUT;
  const colours: Record<string, string> = {};
  const catalogue: Record<string, ObjectGeometry> = {};
  for (const o of objects) {
    colours[o.name] = rgbaColour(o.rgba);
    catalogue[o.name] =
      o.shape === 'cylinder'
        ? // Held at its middle: the palm stays clear of its top.
          { widthM: 2 * o.radiusM, heightM: 2 * o.halfHeightM, shape: 'round', graspHeightM: o.halfHeightM }
        : {
            widthM: 2 * o.halfSize[1],
            heightM: 2 * o.halfSize[2],
            shape: o.halfSize[0] === o.halfSize[1] ? 'box' : 'oblong',
          };
  }
  const boxGeometry: ObjectGeometry = {
    widthM: 2 * Math.min(box.innerHalfX, box.innerHalfY),
    heightM: box.wallM + box.wallHeightM,
    surfaceM: box.wallM,
  };
  // One slot per object along the box's long side (x), so that nothing is put down on anything else.
  const n = objects.length;
  const slots = objects.map((_, i) => ({
    name: `box/slot${i}`,
    body: 'box',
    offsetM: [(n === 1 ? 0 : (2 * i) / (n - 1) - 1) * box.innerHalfX * 0.6, 0, 0] as [number, number, number],
  }));
  for (const s of slots) catalogue[s.name] = boxGeometry;
  catalogue.box = boxGeometry;
  return {
    id: 'home/tidy',
    keywords: ['tidy', 'toys', 'clean', 'box', 'put away', 'carton', 'everything'],
    exampleInstruction: 'tidy up the toys into the box',
    scene: (arm) => tidyScene(arm),
    task: (arm) => new TidyTask({ arm }),
    tracked: [...objects.map((o) => ({ name: o.name })), { name: 'box' }, ...slots],
    containers: [{ target: 'box', slots: slots.map((s) => s.name) }],
    catalogue,
    description: {
      objects: Object.fromEntries(objects.map((o) => [o.name, { color: colours[o.name] }])),
      targets: [{ name: 'box', kind: 'box', radiusM: Math.min(box.innerHalfX, box.innerHalfY) }],
    },
    cerebellumHz: 250,
    perceptionHz: 50,
    maxSimSec: 60,
  };
}

/** The nearest colour word to an MJCF rgba ('0.9 0.2 0.2 1' -> 'red'). */
function rgbaColour(rgba: string): string {
  const [r = 0, g = 0, b = 0] = rgba.split(/\s+/).map(Number);
  const names: [string, number, number, number][] = [
    ['red', 0.9, 0.2, 0.2],
    ['green', 0.2, 0.7, 0.2],
    ['blue', 0.2, 0.4, 0.9],
    ['yellow', 0.95, 0.85, 0.2],
    ['white', 0.95, 0.95, 0.95],
    ['black', 0.1, 0.1, 0.1],
  ];
  let best = names[0]!;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of names) {
    const d = (c[1] - r) ** 2 + (c[2] - g) ** 2 + (c[3] - b) ** 2;
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best[0];
}

/** Every arm scene, by id. */
export const ARM_SCENES: Readonly<Record<string, ArmScene>> = Object.fromEntries(
  [pickPlace(), pegBoard(), serveCup(), tidy()].map((s) => [s.id, s]),
);

export const ARM_SCENE_IDS: readonly string[] = Object.keys(ARM_SCENES);

/**
 * The scene for `--scene` (its id or the last part of it: 'pick-place'), or, without one, the scene
 * whose keywords the instruction mentions most (ties: the earlier scene in ARM_SCENE_IDS; none: the
 * pick-and-place cell).
 */
export function chooseArmScene(instruction: string, scene?: string): ArmScene {
  if (scene !== undefined) {
    const s = scene.trim().toLowerCase();
    const found = ARM_SCENES[s] ?? Object.values(ARM_SCENES).find((x) => x.id.split('/').pop() === s);
    if (!found) {
      throw new TgError(
        'NOT_FOUND',
        `no arm scene '${scene}' (scenes: ${ARM_SCENE_IDS.join(', ')}; or their last part, e.g. 'pick-place')`,
      );
    }
    return found;
  }
  const text = ` ${instruction.toLowerCase().replace(/[^a-z0-9-]+/g, ' ')} `;
  let best: ArmScene | null = null;
  let bestScore = 0;
  for (const s of Object.values(ARM_SCENES)) {
    let score = 0;
    for (const k of s.keywords) if (text.includes(` ${k}`)) score++;
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  // Nothing points anywhere ("move the gripper to (0.4, 0, 0.3)"): the factory cell, where the planner
  // says precisely what it cannot do.
  return best ?? ARM_SCENES['factory/pick-place']!;
}
