/**
 * The command profile the arm skills give the spine: RampFollower (speed and acceleration bounded,
 * arriving at rest) and the arm profile's shares of the spine's limits. Through the spine's first-order
 * hold at up to 4 actuator ticks per control tick, a profiled command passes every check untouched.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACCEL_SHARE, armProfile } from '../../src/control/cerebellum/arm-profile.ts';
import { RampFollower } from '../../src/control/cerebellum/ramp-follower.ts';
import {
  channelMaxAcceleration,
  DEFAULT_ACCELERATION_TIME_SEC,
  Spine,
} from '../../src/control/spine/index.ts';
import { channelMaxVelocity } from '../../src/embodiment/index.ts';
import { ARM7 } from './fixtures/arm-rig.ts';

const DT = 0.004;

describe('RampFollower', () => {
  test('reaches the target at rest, within its speed and acceleration, without overshoot', () => {
    const f = new RampFollower(DT, 0.2, 1.25);
    f.reset(0.08);
    let prevV = 0;
    let min = Number.POSITIVE_INFINITY;
    let ticks = 0;
    while ((f.x !== 0.02 || f.v !== 0) && ticks < 1000) {
      f.follow(0.02);
      assert.ok(Math.abs(f.v) <= 0.2 + 1e-12, `speed ${f.v}`);
      assert.ok(Math.abs(f.v - prevV) <= 1.25 * DT + 1e-12, `velocity step ${f.v - prevV}`);
      prevV = f.v;
      min = Math.min(min, f.x);
      ticks++;
    }
    assert.equal(f.x, 0.02);
    assert.equal(f.v, 0);
    assert.ok(min >= 0.02 - 1e-12, `overshot to ${min}`);
    // Trapezoid: 0.16 s (16 mm) up to 0.2 m/s, 0.16 s down, the other 28 mm at full speed: about 0.46 s.
    assert.ok(ticks * DT > 0.45 && ticks * DT < 0.48, `${ticks * DT} s`);
  });

  test('a lower speed caps the move; halt brakes to rest at the acceleration', () => {
    const f = new RampFollower(DT, 0.2, 1.25);
    f.reset(0);
    for (let k = 0; k < 50; k++) f.follow(1, 0.05);
    assert.ok(Math.abs(f.v - 0.05) < 1e-12, `cruise ${f.v}`);
    let ticks = 0;
    for (let v = f.v; f.v !== 0 && ticks < 100; ticks++) {
      f.halt();
      assert.ok(f.v >= 0 && v - f.v <= 1.25 * DT + 1e-12, `braking step ${v - f.v}`);
      v = f.v;
    }
    // 0.05 m/s at 1.25 m/s^2 is 10 ticks of 4 ms (one more for rounding).
    assert.ok(ticks >= 10 && ticks <= 11, `${ticks} ticks to rest`);
    // A target behind a moving command: it decelerates first, then comes back.
    f.reset(0);
    for (let k = 0; k < 50; k++) f.follow(1);
    const v0 = f.v;
    f.follow(0);
    assert.ok(f.v < v0 && f.v > 0, 'decelerates by one step, does not reverse at once');
  });

  test('step (target and speed as fields) and brake move exactly as follow and halt', () => {
    const a = new RampFollower(DT, 0.2, 1.25);
    const b = new RampFollower(DT, 0.2, 1.25);
    a.reset(0.03);
    b.reset(0.03);
    let target = 0.08;
    let speed = 0.2;
    for (let k = 0; k < 600; k++) {
      if (k % 45 === 0) target = 0.005 + ((k * 37) % 80) / 1000;
      if (k % 70 === 0) speed = k % 140 === 0 ? 0.05 : 0.5; // below and above the channel's 0.2
      if (k % 90 >= 80) {
        a.halt();
        b.brake();
      } else {
        a.follow(target, speed);
        b.target = target;
        b.speed = speed;
        b.step();
      }
      assert.equal(b.x, a.x, `x at tick ${k}`);
      assert.equal(b.v, a.v, `v at tick ${k}`);
    }
  });
});

describe('arm profile within the spine limits', () => {
  test("speeds and accelerations are shares of the spine's channel limits", () => {
    const p = armProfile(ARM7);
    const vmax = channelMaxVelocity(ARM7);
    const amax = channelMaxAcceleration(ARM7);
    for (let i = 0; i < p.armDof; i++) {
      assert.ok(p.maxJointSpeed[i]! < vmax[i]!);
      assert.ok(p.maxJointAccel <= ACCEL_SHARE * amax[i]!);
    }
    const g = p.gripper;
    assert.ok(g.speedMps < vmax[g.channel]!);
    assert.equal(g.accelMps2, ACCEL_SHARE * amax[g.channel]!);
    assert.ok(g.openM < ARM7.jointLimits.upper[g.channel]! && g.closedM > ARM7.jointLimits.lower[g.channel]!);
    assert.throws(() => armProfile(ARM7, { accelShare: 0 }), /accelShare 0 must be in \(0, 1\]/);
  });

  for (const actuatorTicks of [2, 4]) {
    test(`gripper open/close profile passes the spine untouched at ${actuatorTicks} actuator ticks per control tick`, () => {
      const p = armProfile(ARM7);
      const g = p.gripper;
      const tick = DT / actuatorTicks;
      const spine = Spine.forEmbodiment(ARM7, tick, { accelerationTimeSec: DEFAULT_ACCELERATION_TIME_SEC });
      const cmd = Float64Array.from(ARM7.home);
      cmd[g.channel] = g.openM;
      spine.reset(cmd);
      const prev = Float64Array.from(cmd);
      const held = new Float64Array(cmd.length);
      const out = new Float64Array(cmd.length);
      const f = new RampFollower(DT, g.speedMps, g.accelMps2);
      f.reset(g.openM);
      // Close to a grasp, squeeze further at once, open fully: each a jump of the target.
      for (const target of [0.03, 0.021, g.openM, g.closedM, g.openM]) {
        for (let k = 0; k < 150; k++) {
          prev.set(cmd);
          cmd[g.channel] = f.follow(target);
          for (let j = 1; j <= actuatorTicks; j++) {
            for (let i = 0; i < cmd.length; i++)
              held[i] = prev[i]! + (j / actuatorTicks) * (cmd[i]! - prev[i]!);
            assert.equal(spine.check(held, out), 0, `target ${target}, tick ${k}.${j}`);
          }
        }
        assert.equal(f.x, target);
      }
      assert.equal(spine.stats.interventions, 0);
    });
  }
});
