/**
 * Joint frames for /tf. A LeRobot dataset carries joint values, not the robot's kinematic tree, so what
 * /tf can honestly say depends on what the caller supplies:
 *
 * - with a `KinematicDescription` (per joint: parent frame, fixed origin, axis, revolute or prismatic, as a
 *   URDF <joint> says), each joint's child frame is placed as URDF does: origin, then the joint motion
 *   (rotation about the axis by the angle, or translation along it by the displacement);
 * - without one, every joint becomes a frame named after the joint, parented directly to the root frame at
 *   zero offset and rotated about its own z axis by the joint value. That is a flat star, not the robot's
 *   shape: enough for plots and for a URDF layer whose link frames carry the joint names, nothing more.
 */

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}
export interface Quat extends Vec3 {
  w: number;
}

export interface JointKinematics {
  /** Parent frame id (a link or another joint's child frame). */
  parent: string;
  /** Child frame id; defaults to the joint name. */
  child?: string;
  type: 'revolute' | 'prismatic';
  /** Fixed origin of the joint in the parent frame (URDF <origin xyz rpy>), metres. */
  originXyz?: [number, number, number];
  /** Fixed origin rotation as roll, pitch, yaw (URDF rpy), radians. */
  originRpy?: [number, number, number];
  /** Motion axis in the joint frame (URDF <axis>); normalised here. Default z. */
  axis?: [number, number, number];
}

/** Joint name -> how that joint moves. Joints not listed fall back to the flat star. */
export type KinematicDescription = Record<string, JointKinematics>;

export interface JointTransform {
  parent: string;
  child: string;
  translation: Vec3;
  rotation: Quat;
}

const IDENTITY: Quat = { x: 0, y: 0, z: 0, w: 1 };

function axisAngle(axis: [number, number, number], angle: number): Quat {
  const n = Math.hypot(axis[0], axis[1], axis[2]) || 1;
  const s = Math.sin(angle / 2) / n;
  return { x: axis[0] * s, y: axis[1] * s, z: axis[2] * s, w: Math.cos(angle / 2) };
}

function multiply(a: Quat, b: Quat): Quat {
  return {
    w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
    x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
    y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
    z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
  };
}

/** URDF rpy: fixed-axis roll about x, then pitch about y, then yaw about z (R = Rz * Ry * Rx). */
function fromRpy([r, p, y]: [number, number, number]): Quat {
  return multiply(axisAngle([0, 0, 1], y), multiply(axisAngle([0, 1, 0], p), axisAngle([1, 0, 0], r)));
}

function rotate(q: Quat, v: Vec3): Vec3 {
  // v' = q v q*, expanded
  const tx = 2 * (q.y * v.z - q.z * v.y);
  const ty = 2 * (q.z * v.x - q.x * v.z);
  const tz = 2 * (q.x * v.y - q.y * v.x);
  return {
    x: v.x + q.w * tx + (q.y * tz - q.z * ty),
    y: v.y + q.w * ty + (q.z * tx - q.x * tz),
    z: v.z + q.w * tz + (q.x * ty - q.y * tx),
  };
}

/** The transform of one joint's child frame at joint value `q` (radians or metres). */
export function jointTransform(
  joint: string,
  q: number,
  rootFrame: string,
  kin: JointKinematics | undefined,
): JointTransform {
  if (kin === undefined) {
    return {
      parent: rootFrame,
      child: joint,
      translation: { x: 0, y: 0, z: 0 },
      rotation: axisAngle([0, 0, 1], q),
    };
  }
  const axis = kin.axis ?? [0, 0, 1];
  const [ox, oy, oz] = kin.originXyz ?? [0, 0, 0];
  const origin = kin.originRpy ? fromRpy(kin.originRpy) : IDENTITY;
  let translation: Vec3 = { x: ox, y: oy, z: oz };
  let rotation = origin;
  if (kin.type === 'revolute') {
    rotation = multiply(origin, axisAngle(axis, q));
  } else {
    const n = Math.hypot(axis[0], axis[1], axis[2]) || 1;
    const d = rotate(origin, { x: (axis[0] / n) * q, y: (axis[1] / n) * q, z: (axis[2] / n) * q });
    translation = { x: ox + d.x, y: oy + d.y, z: oz + d.z };
  }
  return { parent: kin.parent, child: kin.child ?? joint, translation, rotation };
}
