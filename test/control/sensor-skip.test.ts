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

  test('the sensor bit is written straight into the model options: skipped, restored, no binding call', async () => {
    const { world, port, spine } = await rig();
    try {
      const before = (world.model.opt as unknown as { disableflags: number }).disableflags;
      const sensordata = () => Float64Array.from(world.data.sensordata as Float64Array);
      const down = [...arm.home];
      down[1] = 1.0;
      const drive = (k: number) => {
        const t = k * world.timestepSec;
        port.sense(spine.feedback, t);
        spine.submit(down, t);
        spine.tick(t);
      };
      drive(0);
      world.stepWithoutSensors(); // finds the flag word (through the binding, once)
      // From here on the cached options binding must not be used: count its setter calls.
      const opt = (world as unknown as { opt: { disableflags: number } }).opt;
      const proto = Object.getPrototypeOf(opt) as object;
      const desc = Object.getOwnPropertyDescriptor(proto, 'disableflags')!;
      let sets = 0;
      Object.defineProperty(opt, 'disableflags', {
        configurable: true,
        get: () => desc.get!.call(opt),
        set: (v: number) => {
          sets++;
          desc.set!.call(opt, v);
        },
      });
      for (let k = 1; k < 40; k++) {
        drive(k);
        world.step();
        const computed = sensordata();
        drive(k);
        world.stepWithoutSensors();
        // The sensor stage did not run: sensordata is still the previous step's, while the arm moves.
        assert.deepEqual(sensordata(), computed, `sensordata after skipping step ${k}`);
      }
      // ...and a plain step computes them again.
      const stale = sensordata();
      world.step();
      assert.notDeepEqual(sensordata(), stale);
      assert.equal(sets, 0, 'the options binding was written per step');
      assert.equal((world.model.opt as unknown as { disableflags: number }).disableflags, before);
    } finally {
      world.dispose();
    }
  });

  test('without a findable flag word the binding setter is used, with the same trajectory', async () => {
    const a = await rig();
    const b = await rig();
    try {
      // A stand-in for the options binding that hides Emscripten's handle: the word cannot be located.
      const real = b.world.model.opt as unknown as { disableflags: number };
      let sets = 0;
      const stand = {
        get disableflags() {
          return real.disableflags;
        },
        set disableflags(v: number) {
          sets++;
          real.disableflags = v;
        },
      };
      (b.world as unknown as { opt: unknown }).opt = stand;
      const before = real.disableflags;
      for (let k = 0; k < 100; k++) {
        const t = k * a.world.timestepSec;
        for (const r of [a, b]) {
          r.port.sense(r.spine.feedback, t);
          r.spine.submit(arm.home, t);
          r.spine.tick(t);
        }
        a.world.step();
        b.world.stepWithoutSensors();
        assert.deepEqual(b.world.qpos, a.world.qpos, `qpos after step ${k}`);
      }
      assert.equal(sets, 200, 'two setter calls (set, restore) per skipping step');
      assert.equal(real.disableflags, before);
    } finally {
      a.world.dispose();
      b.world.dispose();
    }
  });
});
