/**
 * The scene a fleet robot lives in: the robot's MJCF included unchanged over a MuJoCo VFS, a floor when the
 * robot brings none, proprioceptive sensors when it declares none, and a `home` keyframe the seeded reset
 * and the hold-position controller start from. The scene travels to workers as text (XML + VFS files), so
 * every worker compiles exactly the same model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadEmbodiment, readMjcf } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { MjModel, Mujoco } from '../mujoco.ts';
import { compileScene, type Scene } from '../scenes/scene.ts';

export type FleetModelName = 'arm7' | 'humanoid';

/** A scene (src/sim/scenes/scene.ts) with no arm for skills, plus where its robot came from. */
export interface FleetScene extends Scene {
  /** Where the robot's MJCF came from (a path), so a report says which humanoid it ran. */
  readonly source: string;
}

const HUMANOID_PATH = fileURLToPath(new URL('../../embodiment/robots/humanoid.xml', import.meta.url));

/** Compiles a fleet scene (the caller owns and must `.delete()` the model). */
export function compileFleetScene(mj: Mujoco, scene: FleetScene): MjModel {
  return compileScene(mj, scene);
}

/**
 * Builds the fleet scene for a named robot: arm7 alone on a floor (home keyframe from its embodiment), or
 * the humanoid (src/embodiment/robots/humanoid.xml, its own sensors and `stand` keyframe) on a floor.
 */
export function fleetScene(mj: Mujoco, name: FleetModelName): FleetScene {
  if (name === 'arm7') {
    const arm = loadEmbodiment('arm7');
    const armJoints = arm.home.slice(0, arm.jointNames.length);
    const opening = arm.home[arm.jointNames.length] ?? 0;
    // qpos: 7 arm joints then the two finger slides (each half the opening); ctrl: canonical action order.
    const key = { qpos: [...armJoints, opening / 2, opening / 2], ctrl: arm.home };
    return composeScene(mj, 'arm7', arm.mjcfPath, readMjcf(arm), key);
  }
  if (name === 'humanoid') {
    const path = HUMANOID_PATH;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new TgError('MODEL_INVALID', `cannot read humanoid MJCF at ${path}`, { cause: err });
    }
    return composeScene(mj, 'humanoid', path, text);
  }
  throw new TgError('NOT_FOUND', `unknown fleet model '${String(name)}' (arm7, humanoid)`);
}

/**
 * Wraps a robot MJCF in a fleet scene. The robot is compiled once on its own first, to learn whether it has a
 * floor, sensors and keyframes, and its joint and actuator names.
 */
export function composeScene(
  mj: Mujoco,
  name: string,
  source: string,
  robotXml: string,
  home?: { qpos: number[]; ctrl: number[] },
): FleetScene {
  const robotFile = `${name}.xml`;
  const files = { [robotFile]: robotXml };
  const robot = compileFleetScene(mj, { name, source, xml: robotXml, files: {} });
  const parts: string[] = [];
  try {
    if (!hasPlane(mj, robot)) {
      parts.push(
        '  <worldbody>\n    <geom name="fleet/floor" type="plane" size="5 5 0.05" rgba="0.5 0.5 0.5 1"/>\n  </worldbody>',
      );
    }
    if (robot.nsensor === 0) parts.push(proprioSensors(mj, robot));
    if (home && robot.nkey === 0) {
      parts.push(
        `  <keyframe>\n    <key name="home" qpos="${home.qpos.join(' ')}" ctrl="${home.ctrl.join(' ')}"/>\n  </keyframe>`,
      );
    }
  } finally {
    robot.delete();
  }
  const xml = `<mujoco model="fleet-${name}">\n  <include file="${robotFile}"/>\n${parts.join('\n')}\n</mujoco>\n`;
  return { name, source, xml, files };
}

function hasPlane(mj: Mujoco, m: MjModel): boolean {
  const PLANE = mj.mjtGeom.mjGEOM_PLANE.value;
  const types = m.geom_type as Int32Array;
  for (let i = 0; i < m.ngeom; i++) if (types[i] === PLANE) return true;
  return false;
}

/**
 * Proprioception for a robot that declares no sensors: joint position and velocity of every named hinge or
 * slide joint, actuator force of every named actuator, and the pose and twist of a free-floating root body
 * (what an IMU plus odometry would give).
 */
function proprioSensors(mj: Mujoco, m: MjModel): string {
  const JOINT = mj.mjtObj.mjOBJ_JOINT.value;
  const ACTUATOR = mj.mjtObj.mjOBJ_ACTUATOR.value;
  const BODY = mj.mjtObj.mjOBJ_BODY.value;
  const FREE = mj.mjtJoint.mjJNT_FREE.value;
  const BALL = mj.mjtJoint.mjJNT_BALL.value;
  const types = m.jnt_type as Int32Array;
  const bodies = m.jnt_bodyid as Int32Array;
  const lines: string[] = [];
  for (let j = 0; j < m.njnt; j++) {
    const jn = mj.mj_id2name(m, JOINT, j);
    if (types[j] === FREE) {
      const bn = mj.mj_id2name(m, BODY, bodies[j]!);
      if (!bn) continue;
      for (const s of ['framepos', 'framequat', 'framelinvel', 'frameangvel']) {
        lines.push(`    <${s} name="fleet/${bn}/${s}" objtype="xbody" objname="${bn}"/>`);
      }
      continue;
    }
    if (!jn) continue;
    if (types[j] === BALL) {
      lines.push(`    <ballquat name="fleet/${jn}/pos" joint="${jn}"/>`);
      lines.push(`    <ballangvel name="fleet/${jn}/vel" joint="${jn}"/>`);
    } else {
      lines.push(`    <jointpos name="fleet/${jn}/pos" joint="${jn}"/>`);
      lines.push(`    <jointvel name="fleet/${jn}/vel" joint="${jn}"/>`);
    }
  }
  for (let a = 0; a < m.nu; a++) {
    const an = mj.mj_id2name(m, ACTUATOR, a);
    if (an) lines.push(`    <actuatorfrc name="fleet/${an}/force" actuator="${an}"/>`);
  }
  return `  <sensor>\n${lines.join('\n')}\n  </sensor>`;
}
