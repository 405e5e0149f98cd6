/**
 * The humanoid through the control stack (RobotStack in a locomotion scene): brain -> plan -> locomotion
 * skills -> spine -> actuators under the rate scheduler, judged by the locomotion tasks.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  chooseLocomotionScene,
  LOCOMOTION_SCENES,
  pushRecoveryScene,
  RobotStack,
} from '../../src/control/stack/index.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';

const humanoid = loadEmbodiment('humanoid');

describe('control stack: humanoid in the locomotion scenes', () => {
  const stacks: RobotStack[] = [];
  after(() => {
    for (const s of stacks) s.dispose();
  });
  const stack = async (id: string) => {
    const s = await RobotStack.create({ robot: humanoid, scene: LOCOMOTION_SCENES[id]! });
    stacks.push(s);
    return s;
  };

  test('walk to (2, 0): the route task succeeds, the plan is one walk_to, every layer ran', async () => {
    const s = await stack('locomotion/walk-route');
    const o = await s.run('walk to (2, 0)', 1);
    assert.equal(o.success, true, o.reason);
    assert.deepEqual(o.plan?.steps, [{ skill: 'walk_to', args: { x: 2, y: 0 } }]);
    assert.equal(o.metrics.falls, 0);
    assert.equal(o.metrics.waypointsReached, 1);
    assert.equal(o.rates.spineHz, 200);
    assert.ok(o.rates.cerebellumHz >= 200);
    assert.ok(o.layers.cerebellum.ticks > 1000 && o.layers.perception.ticks > 0);
    assert.equal(o.layers.spine.ticks, o.layers.cerebellum.ticks);
    assert.equal(o.safeStop, null);
  });

  test('stand for 5 seconds succeeds in place; a reused stack replays the same episode', async () => {
    const s = await stack('locomotion/stand');
    const o = await s.run('stand for 5 seconds', 2);
    assert.equal(o.success, true, o.reason);
    assert.deepEqual(o.plan?.steps, [{ skill: 'stand', args: { seconds: 5 } }]);
    assert.equal(o.metrics.fell, 0);
    assert.ok(o.metrics.driftM! < 0.1, `drift ${o.metrics.driftM}`);
    const again = await s.run('stand for 5 seconds', 2);
    assert.deepEqual(again.metrics, o.metrics);
  });

  test('an instruction the humanoid cannot do is a planning error, not a run', async () => {
    const s = await stack('locomotion/stand');
    const o = await s.run('pick up the red cube', 1);
    assert.equal(o.success, false);
    assert.equal(o.plan, null);
    assert.match(o.planningError ?? '', /cube/);
  });

  test('a push too large: the robot falls, the episode ends early and reports the fall', async () => {
    const scene = pushRecoveryScene({ forceRangeN: [450, 450], pushSec: 0.15, count: 1 });
    const s = await RobotStack.create({ robot: humanoid, scene });
    stacks.push(s);
    const o = await s.run('stand for 6 seconds', 4);
    assert.equal(o.success, false);
    // Measured (seed 4, 67.5 N s): the recovery stomp exceeds the humanoid's 1200 N contact limit and the
    // spine stops the robot before it is down; without that stop the task sees the fall.
    assert.ok(o.metrics.fell === 1 || o.safeStop !== null, JSON.stringify(o.metrics));
    assert.match(o.reason ?? '', /fell|safe stop/);
    assert.ok(o.simSec < 6, `ended at ${o.simSec} s`);
  });

  test('scene choice and robot checks', async () => {
    assert.equal(chooseLocomotionScene('walk to (2, 0)').id, 'locomotion/walk-route');
    assert.equal(chooseLocomotionScene('stand for 5 seconds').id, 'locomotion/stand');
    assert.equal(chooseLocomotionScene('stand while I push you').id, 'locomotion/push-recovery');
    assert.equal(chooseLocomotionScene('x', 'push-recovery').id, 'locomotion/push-recovery');
    assert.throws(
      () => chooseLocomotionScene('x', 'moon'),
      (e) => isTgError(e) && e.code === 'NOT_FOUND',
    );
    await assert.rejects(
      RobotStack.create({ robot: loadEmbodiment('arm7'), scene: LOCOMOTION_SCENES['locomotion/stand']! }),
      (e) => isTgError(e) && e.code === 'CONFIG_INVALID' && /fixed base/.test(e.message),
    );
  });
});
