import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SafetyEvent } from '../../src/control/contracts.ts';
import {
  compileLimits,
  ISO_TS_15066_REGIONS,
  Spine,
  SpineBit,
  type SpineLimits,
  spineLimitsFor,
  toEpisodeEvent,
} from '../../src/control/spine.ts';
import { channelMaxVelocity, loadEmbodiment } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { oneChannelSpine, RecordingPort } from './fixtures/one-channel-spine.ts';

const DT = 0.01;

function spine(): Spine {
  // Two channels: [-1, 1] at 10 units/s, [0, 0.08] at 1 unit/s; tick 0.01 s -> steps 0.1 and 0.01.
  const s = new Spine({ lower: [-1, 0], upper: [1, 0.08], maxVelocity: [10, 1], tickSec: DT });
  s.reset([0, 0.04]);
  return s;
}

/** One channel in [-1, 1], 1 unit/s, 10 units/s^2, with a recording port and event sink. */
function accelSpine(extra: Partial<SpineLimits> = {}, start = 0) {
  const {
    spine: s,
    port,
    events,
  } = oneChannelSpine(DT, { maxAcceleration: [10], names: ['j'], ...extra }, start);
  return { s, port, events };
}

const errs = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);

/** Asserts a position sequence (starting at rest unless told) respects velocity and acceleration limits. */
function assertLimits(xs: number[], vmax: number, amax: number, fromRest = true): void {
  const v = errs(xs).map((d) => d / DT);
  for (const vi of v) assert.ok(Math.abs(vi) <= vmax + 1e-9, `speed ${vi} over ${vmax}`);
  const a = errs(fromRest ? [0, ...v] : v).map((d) => d / DT);
  for (const ai of a) assert.ok(Math.abs(ai) <= amax * (1 + 1e-6), `acceleration ${ai} over ${amax}`);
}

describe('Spine: position and velocity (check)', () => {
  test('passes a command within limits untouched', () => {
    const s = spine();
    const out = new Float64Array(2);
    assert.equal(s.check(Float64Array.of(0.05, 0.045), out), 0);
    assert.deepEqual(Array.from(out), [0.05, 0.045]);
    assert.equal(s.stats.interventions, 0);
    assert.equal(s.stats.ticks, 1);
  });

  test('clamps out-of-range commands to the limits', () => {
    const s = spine();
    const out = new Float64Array(2);
    for (let i = 0; i < 20; i++) s.check(Float64Array.of(5, -3), out);
    assert.deepEqual(Array.from(out), [1, 0]);
    assert.ok(s.check(Float64Array.of(5, -3), out) & SpineBit.CLAMPED);
    assert.equal(s.stats.clamped, 21);
    assert.equal(s.stats.interventions, 21);
  });

  test('rate-limits the per-tick step', () => {
    const s = spine();
    const out = new Float64Array(2);
    const mask = s.check(Float64Array.of(0.5, 0.04), out);
    assert.equal(mask, SpineBit.RATE_LIMITED);
    assert.ok(Math.abs(out[0]! - 0.1) < 1e-12);
    s.check(Float64Array.of(0.5, 0.04), out);
    assert.ok(Math.abs(out[0]! - 0.2) < 1e-12);
    assert.equal(s.stats.rateLimited, 2);
  });

  test('rejects NaN/Inf by holding the last safe command', () => {
    const s = spine();
    const out = new Float64Array(2);
    s.check(Float64Array.of(0.05, 0.045), out);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const mask = s.check(Float64Array.of(0.9, bad), out);
      assert.equal(mask, SpineBit.REJECTED_NONFINITE);
      assert.deepEqual(Array.from(out), [0.05, 0.045]);
    }
    assert.equal(s.stats.rejectedNonFinite, 3);
    assert.equal(s.stats.interventions, 3);
  });

  test('refuses inconsistent limits and unprimed use', () => {
    const invalid = (l: SpineLimits): void =>
      assert.throws(
        () => new Spine(l),
        (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
      );
    invalid({ lower: [0], upper: [1, 2], maxVelocity: [1], tickSec: 0.01 });
    invalid({ lower: [1], upper: [0], maxVelocity: [1], tickSec: 0.01 });
    invalid({ lower: [0], upper: [1], maxVelocity: [0], tickSec: 0.01 });
    invalid({ lower: [0], upper: [1], maxVelocity: [1], maxAcceleration: [-1], tickSec: 0.01 });
    invalid({ lower: [0], upper: [1], maxVelocity: [1], tickSec: 0 });
    invalid({ lower: [0], upper: [1], maxVelocity: [1], tickSec: 0.01, maxTorque: [5] });
    invalid({
      lower: [0],
      upper: [1],
      maxVelocity: [1],
      tickSec: 0.01,
      workspace: { min: [0, 0, 0], max: [1, -1, 1], sites: ['tcp'] },
    });
    invalid({
      lower: [0],
      upper: [1],
      maxVelocity: [1],
      tickSec: 0.01,
      contact: { regions: [{ name: 'hand', quasiStaticN: 100, transientN: 50 }] },
    });
    invalid({
      lower: [0],
      upper: [1],
      maxVelocity: [1],
      tickSec: 0.01,
      watchdog: { holdAfterSec: 0.2, stopAfterSec: 0.1 },
    });
    assert.throws(
      () =>
        new Spine(
          { lower: [0], upper: [1], maxVelocity: [1], tickSec: 0.01 },
          { actuators: new RecordingPort(2) },
        ),
      (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
    );
    const s = new Spine({ lower: [0], upper: [1], maxVelocity: [1], tickSec: 0.01 });
    assert.throws(() => s.check(Float64Array.of(0.5), new Float64Array(1)));
    s.reset([0.5]);
    assert.throws(() => s.tick(0), /actuator port/);
    assert.throws(
      () => s.submit([0.5, 0.5], 0),
      (e) => isTgError(e) && e.code === 'INPUT_INVALID',
    );
  });

  test('forEmbodiment uses the embodiment limits', () => {
    const arm = loadEmbodiment('arm7');
    const s = Spine.forEmbodiment(arm, 0.002);
    assert.equal(s.size, 8);
    s.reset(arm.home);
    const out = new Float64Array(8);
    s.check(Float64Array.from(arm.home), out);
    assert.deepEqual(Array.from(out), arm.home);
  });
});

describe('Spine: acceleration and braking', () => {
  test('a smooth trajectory inside every limit passes untouched', () => {
    const { s } = accelSpine();
    const out = new Float64Array(1);
    // 0.2 (1 - cos 2t) from rest: speed <= 0.4, acceleration <= 0.8.
    for (let k = 1; k <= 300; k++) {
      const x = 0.2 * (1 - Math.cos(2 * k * DT));
      assert.equal(s.check(Float64Array.of(x), out), 0, `tick ${k}`);
      assert.equal(out[0], x);
    }
  });

  test('a step ramps at the acceleration limit and settles on the target without ringing', () => {
    const { s, events } = accelSpine();
    const out = new Float64Array(1);
    const xs = [0];
    let mask = 0;
    for (let k = 0; k < 200; k++) {
      mask |= s.check(Float64Array.of(0.5), out);
      xs.push(out[0]!);
    }
    assertLimits(xs, 1, 10);
    assert.ok(mask & SpineBit.ACCEL_LIMITED);
    assert.ok(mask & SpineBit.RATE_LIMITED);
    assert.equal(xs.at(-1), 0.5);
    assert.ok(Math.max(...xs) <= 0.5 + 1e-9, `overshoot to ${Math.max(...xs)}`);
    s.flushEvents();
    const kinds = events.map((e) => e.kind);
    assert.deepEqual(kinds.slice(0, 2), ['limit_velocity', 'limit_acceleration']);
    assert.equal(events[0]!.target, 'j');
    assert.equal(events[0]!.limit, 1);
  });

  test('brakes before a position limit instead of hitting it', () => {
    const { s, events } = accelSpine({}, -1);
    const out = new Float64Array(1);
    const xs = [-1];
    for (let k = 0; k < 400; k++) {
      s.check(Float64Array.of(5), out);
      xs.push(out[0]!);
    }
    assertLimits(xs, 1, 10);
    assert.ok(Math.max(...xs) <= 1);
    assert.equal(xs.at(-1), 1);
    s.flushEvents();
    const clamp = events.find((e) => e.kind === 'clamp_position')!;
    assert.equal(clamp.value, 5);
    assert.equal(clamp.limit, 1);
    assert.equal(events.filter((e) => e.kind === 'clamp_position').length, 1, 'one event per onset');
  });
});

describe('Spine: torque window', () => {
  const servo = { kp: [100], kd: [10] };
  test('targets stay where the servo effort is within the torque limit', () => {
    const { s, events } = accelSpine({ maxTorque: [5], servo, maxAcceleration: [1000], maxVelocity: [100] });
    const fb = s.feedback;
    fb.stampSec = DT;
    fb.q[0] = 0;
    fb.qd[0] = 0;
    const out = new Float64Array(1);
    assert.equal(s.check(Float64Array.of(0.03), out), 0, 'within 5 N m / 100 N m/rad = 0.05 rad');
    fb.stampSec = 2 * DT;
    const mask = s.check(Float64Array.of(0.5), out);
    assert.ok(mask & SpineBit.TORQUE_LIMITED);
    assert.ok(Math.abs(out[0]! - 0.05) < 1e-12, `target ${out[0]}`);
    // Moving at qd = 0.2: damping takes 10 * 0.2 = 2 N m, so the window shifts by 0.02 rad.
    fb.stampSec = 3 * DT;
    fb.qd[0] = 0.2;
    s.check(Float64Array.of(0.5), out);
    assert.ok(Math.abs(out[0]! - 0.07) < 1e-12, `target ${out[0]}`);
    s.flushEvents();
    const e = events.find((x) => x.kind === 'limit_torque')!;
    assert.equal(e.limit, 5);
    assert.ok(Math.abs(e.value! - 50) < 1e-9);
  });
});

describe('Spine: workspace', () => {
  const workspace = { min: [-1, -1, 0] as const, max: [1, 1, 1] as const, sites: ['tcp'], marginM: 0.05 };

  function feed(s: Spine, t: number, z: number): void {
    s.feedback.stampSec = t;
    s.feedback.tcp[2] = z;
  }

  test('a TCP moving inside the box, or back into it, is left alone', () => {
    const { s } = accelSpine({ workspace });
    const out = new Float64Array(1);
    for (let k = 1; k <= 20; k++) {
      feed(s, k * DT, 0.5 - 0.01 * k); // moving down at 1 m/s, well inside
      s.check(Float64Array.of(0), out);
    }
    const back = accelSpine({ workspace }).s;
    for (let k = 1; k <= 20; k++) {
      feed(back, k * DT, -0.2 + 0.01 * k); // below the floor but rising
      back.check(Float64Array.of(0), out);
    }
    assert.equal(s.mode, 'run');
    assert.equal(back.mode, 'run');
  });

  test('a TCP heading out of the box stops the robot (category 2)', () => {
    const { s, events } = accelSpine({ workspace });
    const out = new Float64Array(1);
    let k = 1;
    for (; k <= 200 && s.mode === 'run'; k++) {
      feed(s, k * DT, 0.3 - 0.01 * k);
      s.check(Float64Array.of(0), out);
    }
    assert.equal(s.stopCategory, 2);
    s.flushEvents();
    const e = events.find((x) => x.kind === 'workspace')!;
    assert.equal(e.target, 'tcp');
    assert.equal(e.category, 2);
    assert.equal(e.limit, 0.05);
    // It stopped before the TCP reached the margin.
    assert.ok(0.3 - 0.01 * (k - 1) >= 0.05 - 0.01 - 1e-9);
  });
});

describe('Spine: contact force (ISO/TS 15066 regions)', () => {
  const hand = ISO_TS_15066_REGIONS.find((r) => r.name === 'hand_finger')!;
  const contact = { regions: [hand], transientSec: 0.1 };

  test('the table has 140 N quasi-static and 280 N transient for the hand', () => {
    assert.equal(hand.quasiStaticN, 140);
    assert.equal(hand.transientN, 280);
    const face = ISO_TS_15066_REGIONS.find((r) => r.name === 'face')!;
    assert.equal(face.transientN, face.quasiStaticN, 'no transient allowance at the head');
  });

  function press(s: Spine, forces: number[]): void {
    const out = new Float64Array(1);
    forces.forEach((f, k) => {
      s.feedback.stampSec = (k + 1) * DT;
      s.feedback.contactForceN[0] = f;
      s.check(Float64Array.of(0), out);
    });
  }

  test('a transient impact under the transient limit passes; a lasting one over the quasi-static limit stops', () => {
    const ok = accelSpine({ contact });
    press(ok.s, [0, 250, 250, 250, 0, 0, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
    assert.equal(ok.s.mode, 'run', 'transient 250 N < 280 N, then 100 N < 140 N');
    const lasting = accelSpine({ contact });
    const forces = Array.from({ length: 30 }, () => 200);
    press(lasting.s, forces);
    assert.equal(lasting.s.stopCategory, 2);
    lasting.s.flushEvents();
    const e = lasting.events.find((x) => x.kind === 'contact_force')!;
    assert.equal(e.target, 'hand_finger');
    assert.equal(e.limit, 140);
    assert.equal(e.value, 200);
    // Contact began at 0.01 s; the window ends 0.1 s later; 200 N is over 140 N from the next tick on.
    assert.ok(Math.abs(e.tSec - 0.12) < 1e-9, `stopped at ${e.tSec}`);
  });

  test('an impact over the transient limit stops at once', () => {
    const { s, events } = accelSpine({ contact });
    press(s, [0, 300]);
    assert.equal(s.mode, 'stopped');
    s.flushEvents();
    assert.equal(events.find((e) => e.kind === 'contact_force')!.limit, 280);
  });

  test('a non-finite force reading is a sensor fault', () => {
    const { s } = accelSpine({ contact });
    press(s, [Number.NaN]);
    assert.equal(s.stopCategory, 1);
  });
});

describe('Spine: watchdog, NaN rejection and sensor dropout (tick)', () => {
  const watchdog = { holdAfterSec: 0.03, stopAfterSec: 0.1 };

  test('a stale command holds, a fresh one resumes, a long silence stops', () => {
    const { s, port, events } = accelSpine({ watchdog });
    s.submit([0.3], 0);
    const masks: number[] = [];
    for (let k = 0; k <= 5; k++) masks.push(s.tick(k * DT));
    assert.equal(masks[3]! & SpineBit.WATCHDOG_HOLD, 0, 'age 0.03 is not yet stale');
    assert.ok(masks[4]! & SpineBit.WATCHDOG_HOLD);
    s.submit([0.3], 6 * DT);
    assert.equal(s.tick(6 * DT) & SpineBit.WATCHDOG_HOLD, 0);
    let k = 7;
    for (; k < 100 && s.mode === 'run'; k++) s.tick(k * DT);
    assert.equal(k - 1, 17, 'stop at the first tick more than 0.1 s after the last command');
    assert.equal(s.stopCategory, 2);
    for (; k < 100; k++) s.tick(k * DT);
    assert.equal(s.mode, 'stopped');
    const xs = port.writes.map((w) => w[0]!);
    assertLimits([0, ...xs], 1, 10);
    assert.equal(xs.at(-1), xs.at(-2), 'at standstill');
    s.flushEvents();
    const kinds = events.filter((e) => e.kind.startsWith('watchdog')).map((e) => [e.kind, e.tSec]);
    assert.deepEqual(kinds, [
      ['watchdog_hold', 4 * DT],
      ['watchdog_hold', 10 * DT],
      ['watchdog_stop', 17 * DT],
    ]);
    assert.deepEqual(port.power, [true], 'category 2 keeps power');
  });

  test('a non-finite command is refused and held; a valid one resumes', () => {
    const { s, port, events } = accelSpine({ watchdog });
    assert.equal(s.submit([0.2], 0), true);
    s.tick(0);
    s.tick(DT);
    assert.equal(s.submit([Number.NaN], 2 * DT), false);
    assert.ok(s.tick(2 * DT) & SpineBit.REJECTED_NONFINITE);
    assert.ok(s.tick(3 * DT) & SpineBit.REJECTED_NONFINITE);
    assert.equal(s.submit([0.2], 4 * DT), true);
    assert.equal(s.tick(4 * DT) & SpineBit.REJECTED_NONFINITE, 0);
    assert.equal(s.stats.rejectedCommands, 1);
    assert.equal(s.stats.commands, 3);
    s.flushEvents();
    assert.equal(events.filter((e) => e.kind === 'reject_nonfinite').length, 1);
    assertLimits([0, ...port.writes.map((w) => w[0]!)], 1, 10);
  });

  test('non-finite commands do not feed the watchdog', () => {
    const { s } = accelSpine({ watchdog });
    s.submit([0.2], 0);
    for (let k = 0; k < 30 && s.mode === 'run'; k++) {
      s.submit([Number.POSITIVE_INFINITY], k * DT);
      s.tick(k * DT);
    }
    assert.equal(s.stopCategory, 2);
  });

  test('stale or non-finite feedback is a sensor dropout: category 1 stop, then power off', () => {
    const contact = { regions: [{ name: 'environment', quasiStaticN: 60, transientN: 60 }] };
    for (const corrupt of ['stale', 'nan'] as const) {
      const { s, port, events } = accelSpine({ contact, watchdog });
      s.feedback.stampSec = 0;
      s.submit([0.5], 0);
      let k = 0;
      for (; k < 10; k++) {
        s.feedback.stampSec = k * DT;
        s.submit([0.5], k * DT);
        s.tick(k * DT);
      }
      if (corrupt === 'nan') {
        s.feedback.stampSec = k * DT;
        s.feedback.q[0] = Number.NaN;
      } else {
        // One missing sample (age one tick) is tolerated; the second is a dropout.
        s.submit([0.5], k * DT);
        assert.equal(s.tick(k * DT) & SpineBit.STOPPING, 0);
        k++;
      }
      s.submit([0.5], k * DT);
      assert.ok(s.tick(k * DT) & SpineBit.STOPPING, `${corrupt}: stops on the first bad tick`);
      assert.equal(s.stopCategory, 1);
      for (k++; k < 60; k++) s.tick(k * DT);
      assert.equal(s.mode, 'off');
      assert.deepEqual(port.power, [true, false]);
      assertLimits([0, ...port.writes.map((w) => w[0]!)], 1, 10);
      s.flushEvents();
      assert.equal(events.find((e) => e.kind === 'watchdog_stop')!.target, 'feedback');
    }
  });

  test('a ramped command is followed along a straight line', () => {
    const { s, port } = accelSpine({ watchdog, maxAcceleration: [1000] });
    s.submit([0.04], 0, 4 * DT);
    for (let k = 0; k < 6; k++) s.tick(k * DT);
    const xs = port.writes.map((w) => w[0]!);
    const expected = [0.01, 0.02, 0.03, 0.04, 0.04, 0.04];
    xs.forEach((x, i) => {
      assert.ok(Math.abs(x - expected[i]!) < 1e-12, `tick ${i}: ${x}`);
    });
  });
});

describe('Spine: e-stop categories', () => {
  function moving(category: 0 | 1 | 2) {
    const r = accelSpine({ watchdog: { holdAfterSec: 1, stopAfterSec: 2 } }, -1);
    for (let k = 0; k < 20; k++) {
      r.s.submit([1], k * DT);
      r.s.tick(k * DT);
    }
    const before = r.port.writes.length;
    r.s.estop(category, 20 * DT, 'button');
    for (let k = 20; k < 80; k++) {
      r.s.submit([1], k * DT);
      r.s.tick(k * DT);
    }
    return { ...r, after: r.port.writes.slice(before - 2).map((w) => w[0]!) };
  }

  test('category 0 removes power at once and freezes the output', () => {
    const { s, port, after, events } = moving(0);
    assert.equal(s.mode, 'off');
    assert.deepEqual(port.power, [true, false]);
    assert.equal(after.length, 2, 'nothing written after power off');
    assert.equal(s.tick(1) & SpineBit.STOPPING, SpineBit.STOPPING);
    s.flushEvents();
    const e = events.find((x) => x.kind === 'estop')!;
    assert.deepEqual([e.category, e.target], [0, 'button']);
  });

  test('category 1 decelerates to standstill, then removes power', () => {
    const { s, port, after } = moving(1);
    assert.equal(s.mode, 'off');
    assert.deepEqual(port.power, [true, false]);
    const v = errs(after);
    assert.ok(v[1]! < v[0]!, 'decelerating from the first tick');
    for (let i = 2; i < v.length; i++) assert.ok(v[i]! <= v[i - 1]! + 1e-12 && v[i]! >= 0);
    // The last write is one deceleration step from rest; power goes off on the standstill tick.
    assert.ok(v.at(-1)! <= 10 * DT * DT + 1e-12);
    assertLimits(after, 1, 10, false);
  });

  test('category 2 decelerates to standstill and keeps power and the hold', () => {
    const { s, port, after } = moving(2);
    assert.equal(s.mode, 'stopped');
    assert.deepEqual(port.power, [true]);
    assert.equal(after.length, 62, 'still written every tick');
    assert.equal(after.at(-1), after.at(-2));
    assert.ok(s.stats.stops === 1);
  });

  test('a harder category overrides a softer one, never the reverse; release only after standstill', () => {
    const { s, port } = accelSpine({ watchdog: { holdAfterSec: 1, stopAfterSec: 2 } }, -1);
    for (let k = 0; k < 20; k++) {
      s.submit([1], k * DT);
      s.tick(k * DT);
    }
    s.estop(2, 0.2);
    s.tick(0.2);
    assert.equal(s.mode, 'stopping');
    assert.equal(s.release(0.21), false, 'still decelerating');
    s.estop(2, 0.21);
    assert.equal(s.stats.stops, 1, 'the same category again is no new stop');
    s.estop(0, 0.21);
    assert.equal(s.mode, 'off');
    s.estop(2, 0.22);
    assert.equal(s.stopCategory, 0);
    s.feedback.stampSec = 0.3;
    s.feedback.q[0] = 0.25;
    assert.equal(s.release(0.3), true);
    assert.equal(s.mode, 'run');
    assert.deepEqual(port.power, [true, false, true]);
    // Restarts from the command it held (no feedback interlocks configured, so no re-prime).
    s.tick(0.3);
    assert.equal(s.stats.releases, 1);
  });

  test('release restarts from the measured position and holds until a new command', () => {
    const contact = { regions: [{ name: 'environment', quasiStaticN: 60, transientN: 60 }] };
    const { s, port } = accelSpine({ contact, watchdog: { holdAfterSec: 1, stopAfterSec: 2 } });
    s.feedback.stampSec = 0;
    s.estop(0, 0);
    s.feedback.q[0] = 0.25;
    assert.equal(s.release(0), true);
    s.tick(0);
    assert.equal(port.writes.at(-1)![0], 0.25);
  });
});

describe('Spine: events and limits from the embodiment', () => {
  test('a full event queue counts what it drops', () => {
    const events: SafetyEvent[] = [];
    const s = new Spine(
      { lower: [-1], upper: [1], maxVelocity: [1], tickSec: DT },
      { sink: (e) => events.push(e), eventCapacity: 2 },
    );
    s.reset([0]);
    const out = new Float64Array(1);
    for (let k = 0; k < 6; k++) s.check(Float64Array.of(k % 2 ? Number.NaN : 0), out);
    assert.equal(s.eventsDropped, 1);
    assert.equal(s.flushEvents(), 2);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['reject_nonfinite', 'reject_nonfinite'],
    );
    assert.equal(s.flushEvents(), 0);
  });

  test('a safety event becomes an episode event at its frame', () => {
    assert.deepEqual(
      toEpisodeEvent(
        {
          kind: 'contact_force',
          tSec: 1.02,
          target: 'hand_finger',
          value: 312.123456,
          limit: 280,
          category: 2,
        },
        30,
      ),
      { frame: 30, kind: 'contact_force', detail: 'target=hand_finger value=312.123 limit=280 category=2' },
    );
    assert.deepEqual(toEpisodeEvent({ kind: 'estop', tSec: 0 }, 30), { frame: 0, kind: 'estop' });
  });

  test('spineLimitsFor takes every interlock from the embodiment', () => {
    const arm = loadEmbodiment('arm7');
    const l = spineLimitsFor(arm, 0.002, {
      servo: { kp: Array(8).fill(100), kd: Array(8).fill(1), maxEffort: [...Array(7).fill(1), 20] },
      humanRegions: ISO_TS_15066_REGIONS,
    });
    const c = compileLimits(l);
    assert.deepEqual(Array.from(c.lower), arm.jointLimits.lower);
    assert.deepEqual(Array.from(c.maxVelocity), channelMaxVelocity(arm));
    assert.deepEqual(
      Array.from(c.maxAcceleration),
      channelMaxVelocity(arm).map((v) => v / 0.05),
    );
    assert.deepEqual(Array.from(c.maxTorque), [...arm.joints.map((j) => j.maxTorque), 20]);
    assert.deepEqual(c.workspace!.sites, arm.safety.tcpSites);
    assert.equal(c.regions[0]!.name, 'environment');
    assert.equal(c.regions[0]!.quasiStaticN, arm.safety.maxContactForceN);
    assert.equal(c.regions.length, 1 + ISO_TS_15066_REGIONS.length);
    assert.equal(c.needsFeedback, true);
    assert.deepEqual(c.names, arm.actionNames);
  });
});
