import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SafetyEvent } from '../../src/control/contracts.ts';
import {
  SceneSpinePort,
  Spine,
  type SpineLimits,
  servoModelFromScene,
  spineLimitsFor,
} from '../../src/control/spine.ts';
import { type Embodiment, loadEmbodiment } from '../../src/embodiment/index.ts';
import { pickPlaceXml } from '../../src/sim/scenes/pick-place.ts';
import { robotFile, robotFiles, type Scene } from '../../src/sim/scenes/scene.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';

/** The pick-and-place table plus, optionally, a person's hand resting on it in front of the arm. */
function scene(arm: Embodiment, withHand: boolean): Scene {
  let xml = pickPlaceXml(robotFile(arm));
  if (withHand) {
    xml = xml.replace(
      '</worldbody>',
      `  <body name="hand" pos="0.45 0 0.03"><geom name="hand" type="box" size="0.05 0.04 0.03" rgba="0.9 0.7 0.6 1"/></body>
  </worldbody>
  <sensor><contact name="hand_contact" subtree1="arm7/base" body2="hand" data="force" reduce="netforce"/></sensor>`,
    );
  }
  return { name: withHand ? 'pick-place+hand' : 'pick-place', arm, xml, files: robotFiles(arm) };
}

interface Rig {
  world: SceneWorld;
  spine: Spine;
  port: SceneSpinePort;
  events: SafetyEvent[];
}

function rig(world: SceneWorld, limits: SpineLimits, regionSensors?: Record<string, string>): Rig {
  const arm = world.scene.arm!;
  world.resetData();
  world.setArmState(arm.home);
  world.forward();
  const port = new SceneSpinePort(world, limits, regionSensors ? { regionSensors } : {});
  const events: SafetyEvent[] = [];
  const spine = new Spine(limits, { actuators: port, sink: (e) => events.push(e) });
  port.sense(spine.feedback, 0);
  spine.reset(spine.feedback.q, 0);
  return { world, spine, port, events };
}

/** Runs the spine on every physics step with a constant command; returns the ctrl written each step. */
function drive(r: Rig, command: number[], steps: number): number[][] {
  const ctrl: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const t = r.world.simTimeSec;
    r.port.sense(r.spine.feedback, t);
    r.spine.submit(command, t);
    r.spine.tick(t);
    r.spine.flushEvents();
    ctrl.push(Array.from(r.world.ctrl.subarray(0, r.world.actionDim)));
    r.world.step();
  }
  return ctrl;
}

describe('Spine on a MuJoCo arm (SceneSpinePort)', () => {
  const arm = loadEmbodiment('arm7');
  let plain: SceneWorld;
  let withHand: SceneWorld;
  before(async () => {
    plain = await SceneWorld.create(scene(arm, false));
    withHand = await SceneWorld.create(scene(arm, true));
  });
  after(() => {
    plain.dispose();
    withHand.dispose();
  });

  test('servo model and feedback come from the compiled model', () => {
    const servo = servoModelFromScene(plain);
    assert.deepEqual(servo.kp, [1500, 1500, 1500, 1500, 500, 500, 500, 400]);
    assert.deepEqual(servo.maxEffort, [150, 150, 150, 150, 40, 40, 40, 20]);
    assert.ok(Array.from(servo.kd).every((k) => k > 0));
    const r = rig(plain, spineLimitsFor(arm, plain.timestepSec, { servo }));
    const fb = r.spine.feedback;
    assert.deepEqual(Array.from(fb.q), arm.home);
    assert.equal(fb.stampSec, 0);
    // Home pose: the grip site 0.45 m in front of the base, 0.34 m above the table.
    assert.ok(Math.abs(fb.tcp[0]! - 0.449) < 0.005 && Math.abs(fb.tcp[2]! - 0.34) < 0.005, `${fb.tcp}`);
    assert.equal(fb.contactForceN[0], 0);
  });

  test('holding home: nothing intervenes and the actuators get exactly the command', () => {
    const servo = servoModelFromScene(plain);
    const r = rig(plain, spineLimitsFor(arm, plain.timestepSec, { servo }));
    const ctrl = drive(r, arm.home, 200);
    assert.equal(r.spine.stats.interventions, 0);
    assert.deepEqual(ctrl.at(-1), arm.home);
    assert.deepEqual(r.events, []);
  });

  test('an arm driven into the table stops on the contact force, within every limit', () => {
    const servo = servoModelFromScene(plain);
    const limits = spineLimitsFor(arm, plain.timestepSec, { servo });
    const r = rig(plain, limits);
    const down = [...arm.home];
    down[1] = 1.3;
    down[3] = 1.2;
    const ctrl = drive(r, down, 1000);
    assert.equal(r.spine.mode, 'stopped');
    const e = r.events.find((x) => x.kind === 'contact_force')!;
    assert.equal(e.target, 'environment');
    assert.equal(e.limit, arm.safety.maxContactForceN);
    assert.ok(e.value! > e.limit!);
    assert.ok(
      r.events.some((x) => x.kind === 'limit_torque'),
      'the servo window bounded the push',
    );
    const dt = plain.timestepSec;
    const vmax = limits.maxVelocity;
    for (let k = 1; k < ctrl.length; k++) {
      for (let i = 0; i < 8; i++) {
        assert.ok(
          Math.abs(ctrl[k]![i]! - ctrl[k - 1]![i]!) <= vmax[i]! * dt * (1 + 1e-9),
          `step ${k} ch ${i}`,
        );
      }
    }
    assert.deepEqual(ctrl.at(-1), ctrl.at(-2), 'standstill');
    assert.equal(r.port.refusedWrites, 0);
  });

  test('a contact with a person maps to that body region and its ISO/TS 15066 limit', () => {
    const servo = servoModelFromScene(withHand);
    const limits = spineLimitsFor(arm, withHand.timestepSec, { servo });
    // Only the hand region here (a low limit, so the push certainly exceeds it before the table does).
    limits.contact = { regions: [{ name: 'hand_finger', quasiStaticN: 10, transientN: 20 }] };
    const r = rig(withHand, limits, { hand_finger: 'hand_contact' });
    const down = [...arm.home];
    down[1] = 1.3;
    down[3] = 1.2;
    drive(r, down, 1000);
    const e = r.events.find((x) => x.kind === 'contact_force')!;
    assert.equal(e.target, 'hand_finger');
    assert.equal(e.limit, 20, 'transient limit: the impact is fresh');
    assert.equal(r.spine.stopCategory, 2);
    assert.throws(
      () => new SceneSpinePort(withHand, limits, { regionSensors: { face: 'hand_contact' } }),
      /face/,
    );
  });

  test('power off leaves the servos holding and refuses writes', () => {
    const r = rig(plain, spineLimitsFor(arm, plain.timestepSec));
    drive(r, arm.home, 5);
    r.spine.estop(0, plain.simTimeSec, 'test');
    assert.equal(r.port.powerOn, false);
    const before = Array.from(plain.ctrl.subarray(0, 8));
    const moved = [...arm.home];
    moved[0] = 1;
    const ctrl = drive(r, moved, 20);
    assert.deepEqual(ctrl.at(-1), before);
    assert.equal(r.port.refusedWrites, 0, 'the spine sent nothing while off');
    r.port.write(Float64Array.from(moved));
    assert.equal(r.port.refusedWrites, 1);
    assert.deepEqual(Array.from(plain.ctrl.subarray(0, 8)), before);
  });
});
