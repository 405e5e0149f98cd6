import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import {
  ACME,
  type CanonicalState,
  channelIndex,
  fromVendor,
  fromVendorAction,
  getVendorProfile,
  KUKA_LIKE,
  TORQUE_DRIVE,
  toVendor,
  toVendorAction,
  VENDOR_PROFILES,
  type VendorProfile,
  vendorNames,
} from '../../src/embodiment/vendors/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { seededRng } from '../../src/sim/rng.ts';

const arm = loadEmbodiment('arm7');
const DEG = 180 / Math.PI;

function randomState(seed: number): CanonicalState {
  const rng = seededRng(seed);
  const position = arm.stateNames.map((_, i) => {
    const lo = arm.jointLimits.lower[i]!;
    const hi = arm.jointLimits.upper[i]!;
    return lo + (hi - lo) * rng.next();
  });
  const velocity = arm.stateNames.map(() => 4 * rng.next() - 2);
  return { position, velocity };
}

function assertClose(actual: number[], expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what} length`);
  actual.forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}[${i}]: ${v} vs ${expected[i]}`);
  });
}

describe('vendor profiles for arm7', () => {
  test('every profile covers the canonical channels of arm7 exactly once', () => {
    assert.ok(VENDOR_PROFILES.length >= 3);
    for (const p of VENDOR_PROFILES) {
      assert.deepEqual(p.canonicalNames, arm.stateNames, p.name);
      assert.deepEqual([...channelIndex(p)].sort(), [0, 1, 2, 3, 4, 5, 6, 7], p.name);
      assert.equal(new Set(vendorNames(p)).size, 8, `${p.name} vendor names unique`);
    }
    assert.equal(getVendorProfile('acme'), ACME);
    assert.throws(
      () => getVendorProfile('nope'),
      (e: unknown) => isTgError(e) && e.code === 'NOT_FOUND',
    );
  });

  test('acme: reversed order, prefixed names, degrees and millimetres, element by element', () => {
    assert.deepEqual(vendorNames(ACME), [
      'acme_gripper_mm',
      'acme_joint_7',
      'acme_joint_6',
      'acme_joint_5',
      'acme_joint_4',
      'acme_joint_3',
      'acme_joint_2',
      'acme_joint_1',
    ]);
    const q = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, 0.05];
    const qd = [1, 2, 3, 4, 5, 6, 7, 0.01];
    const v = toVendor(ACME, { position: q, velocity: qd });
    assert.equal(v.position[0], 50); // 0.05 m = 50 mm
    assert.equal(v.velocity[0], 10); // 0.01 m/s = 10 mm/s
    for (let j = 1; j <= 7; j++) {
      const k = 8 - j; // acme_joint_j sits at vendor index 8 - j
      assert.equal(vendorNames(ACME)[k], `acme_joint_${j}`);
      assert.equal(v.position[k], q[j - 1]! * DEG, `acme_joint_${j} deg`);
      assert.equal(v.velocity[k], qd[j - 1]! * DEG, `acme_joint_${j} deg/s`);
    }
  });

  test('kuka-like: A1..A7 in canonical order, A2/A4 reversed, A4 offset, gripper in m', () => {
    assert.deepEqual(vendorNames(KUKA_LIKE), ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'GRIPPER']);
    const q = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.04];
    const v = toVendor(KUKA_LIKE, { position: q, velocity: q });
    assert.deepEqual(v.position, [0.1, -0.2, 0.3, -0.4 - Math.PI / 2, 0.5, 0.6, 0.7, 0.04]);
    assert.deepEqual(v.velocity, [0.1, -0.2, 0.3, -0.4, 0.5, 0.6, 0.7, 0.04], 'no offset on velocities');
  });

  test('round trips canonical -> vendor -> canonical within 1e-9 (state and action) for 200 random states', () => {
    for (const p of VENDOR_PROFILES) {
      for (let seed = 1; seed <= 200; seed++) {
        const s = randomState(seed);
        const back = fromVendor(p, toVendor(p, s));
        assertClose(back.position, s.position, 1e-9, `${p.name} position seed ${seed}`);
        assertClose(back.velocity, s.velocity, 1e-9, `${p.name} velocity seed ${seed}`);
        const target = randomState(seed + 1000).position;
        const action = toVendorAction(p, target, s);
        assertClose(fromVendorAction(p, action, s), target, 1e-9, `${p.name} action seed ${seed}`);
      }
    }
  });

  test('vendor -> canonical -> vendor round trip too', () => {
    for (const p of [ACME, KUKA_LIKE] as VendorProfile[]) {
      const v = { position: [10, 20, -30, 40, 5, -6, 7, 0.02], velocity: [1, 2, 3, 4, 5, 6, 7, 8] };
      const again = toVendor(p, fromVendor(p, v));
      assertClose(again.position, v.position, 1e-9, p.name);
      assertClose(again.velocity, v.velocity, 1e-9, p.name);
    }
  });

  test('torque-drive: actions are PD torques tau = kp (target - q) - kd qdot, declared as torque', () => {
    assert.equal(TORQUE_DRIVE.actionKind, 'torque');
    assert.equal(ACME.actionKind, 'position');
    const s = { position: [0, 0, 0, 0, 0, 0, 0, 0.08], velocity: [0.5, 0, 0, 0, 0, 0, 0, 0] };
    const target = [0.1, 0, 0, 0, 0, 0, 0, 0];
    const tau = toVendorAction(TORQUE_DRIVE, target, s);
    assertClose(tau, [400 * 0.1 - 40 * 0.5, 0, 0, 0, 0, 0, 0, -2000 * 0.08], 1e-12, 'tau');
    assert.throws(
      () => toVendorAction(TORQUE_DRIVE, target),
      (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
    );
  });

  test('position actions of position vendors use the state mapping', () => {
    const target = [0.3, 0, 0, 0, 0, 0, -0.3, 0.01];
    assert.deepEqual(
      toVendorAction(ACME, target),
      toVendor(ACME, { position: target, velocity: target }).position,
    );
  });

  test('wrong lengths and broken profiles are precise errors', () => {
    assert.throws(
      () => toVendor(ACME, { position: [1, 2], velocity: [1, 2] }),
      /vendor profile acme: canonical position has 2 values, expected 8/,
    );
    const broken: VendorProfile = { ...ACME, channels: [...ACME.channels.slice(0, 7), ACME.channels[1]!] };
    assert.throws(() => channelIndex(broken), /channel acme_joint_7 maps to repeated canonical channel 'j7'/);
  });
});
