/**
 * Steps that skip the sensor stage (SceneWorld.stepWithoutSensors, used by RobotStack between cerebellum
 * ticks) must not change what anyone sees: the trajectory, the spine's contact forces (cfrc_ext, which the
 * port recomputes) and the sensors on the steps that compute them are bit for bit those of plain steps,
 * and reading sensordata after a skipping step fails loudly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SceneSpinePort, Spine, servoModelFromScene, spineLimitsFor } from '../../src/control/spine/index.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';

const arm = loadEmbodiment('arm7');

async function rig() {
  const world = new SceneWorld(await loadMujoco(), pickPlaceScene(arm));
  world.resetData();
  world.setArmState(arm.home);
  world.forward();
  const limits = spineLimitsFor(arm, world.timestepSec, { servo: servoModelFromScene(world) });
  const port = new SceneSpinePort(world, limits);
  const spine = new Spine(limits, { actuators: port });
  port.sense(spine.feedback, 0);
  spine.reset(spine.feedback.q, 0);
  return { world, port, spine };
}

describe('sensor-skipping steps', () => {
  test('trajectory, contact forces and computed sensors are those of plain steps', async () => {
    const a = await rig();
    const b = await rig();
    try {
      // Down into the table: contacts, contact forces and a spine stop on them.
      const down = [...arm.home];
      down[1] = 1.3;
      down[3] = 1.2;
      let touching = 0;
      for (let k = 0; k < 800; k++) {
        const t = k * a.world.timestepSec;
        for (const r of [a, b]) {
          r.port.sense(r.spine.feedback, t);
          r.spine.submit(down, t);
          r.spine.tick(t);
        }
        assert.deepEqual(b.spine.feedback.q, a.spine.feedback.q, `q at step ${k}`);
        assert.deepEqual(b.spine.feedback.contactForceN, a.spine.feedback.contactForceN, `force at ${k}`);
        if (a.spine.feedback.contactForceN[0]! > 1) touching++;
        a.world.step();
        if (k % 2 === 0) b.world.stepWithoutSensors();
        else {
          b.world.step();
          assert.deepEqual(b.world.sensordata, a.world.sensordata, `sensors after step ${k}`);
        }
      }
      assert.ok(touching > 50, `the arm touched the table for ${touching} steps only`);
      assert.equal(a.spine.mode, b.spine.mode);
    } finally {
      a.world.dispose();
      b.world.dispose();
    }
  });

  test('sensordata after a skipping step throws until a step or forward computes it', async () => {
    const { world } = await rig();
    try {
      const wrench = world.id('sensor', 'wrist_force');
      const out = new Float64Array(3);
      world.stepWithoutSensors();
      assert.equal(world.sensorsSkipped, true);
      assert.throws(() => world.readSensor(wrench, out), /skipped the sensors/);
      world.step();
      assert.equal(world.sensorsSkipped, false);
      world.readSensor(wrench, out);
      world.stepWithoutSensors();
      world.forward();
      world.readSensor(wrench, out);
      assert.ok(out.every(Number.isFinite));
    } finally {
      world.dispose();
    }
  });
});
