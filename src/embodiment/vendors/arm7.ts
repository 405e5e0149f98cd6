/**
 * Simulated vendor profiles for the arm7 embodiment (canonical: j1..j7 in rad, then `gripper` opening in m).
 * They are invented to cover the conventions real controllers differ in: names, order, units, joint
 * direction and zero, and position versus torque commands.
 */
import { channel, type VendorProfile } from './profile.ts';

const ARM7_CANONICAL = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'gripper'];
const JOINTS = ARM7_CANONICAL.slice(0, 7);

/** ACME: degrees, gripper in millimetres, prefixed names, wrist-first (reversed) order; position commands. */
export const ACME: VendorProfile = {
  name: 'acme',
  embodiment: 'arm7',
  description: 'ACME arm controller: degrees and millimetres, reversed order (gripper, joint_7 .. joint_1)',
  canonicalNames: [...ARM7_CANONICAL],
  channels: [
    channel('acme_gripper_mm', 'gripper', 'mm'),
    ...[...JOINTS].reverse().map((j) => channel(`acme_joint_${j.slice(1)}`, j, 'deg')),
  ],
  actionKind: 'position',
};

/**
 * KUKA-like: axes A1..A7 in radians, A2 and A4 counting the other way and A4 zeroed at the canonical
 * -90 deg (so its vendor value is -q + (-pi/2)), gripper stroke in metres; position commands.
 */
export const KUKA_LIKE: VendorProfile = {
  name: 'kuka-like',
  embodiment: 'arm7',
  description: 'KUKA-style axes A1..A7 in rad (A2, A4 reversed; A4 offset -pi/2), gripper in m',
  canonicalNames: [...ARM7_CANONICAL],
  channels: [
    ...JOINTS.map((j, i) =>
      channel(`A${i + 1}`, j, 'rad', {
        sign: i === 1 || i === 3 ? -1 : 1,
        offset: i === 3 ? -Math.PI / 2 : 0,
      }),
    ),
    channel('GRIPPER', 'gripper', 'm'),
  ],
  actionKind: 'position',
};

/**
 * Torque drive: motors m1..m7 and g in radians/metres, commanded in N m and N. Canonical position targets
 * go through the PD law in profile.ts with these gains (stiffer at the shoulder, soft at the wrist; the
 * gripper at 2000 N/m so a full 8 cm opening error asks 160 N).
 */
export const TORQUE_DRIVE: VendorProfile = {
  name: 'torque-drive',
  embodiment: 'arm7',
  description: 'torque-controlled drives m1..m7 + g: state in rad/m, actions in N m / N via a PD law',
  canonicalNames: [...ARM7_CANONICAL],
  channels: [...JOINTS.map((j, i) => channel(`m${i + 1}`, j, 'rad')), channel('g', 'gripper', 'm')],
  actionKind: 'torque',
  pd: {
    kp: [400, 400, 300, 300, 100, 100, 50, 2000],
    kd: [40, 40, 30, 30, 10, 10, 5, 50],
  },
};
