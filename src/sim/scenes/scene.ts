/**
 * A scene: the MJCF composition of robots and an environment, compiled once into an MjModel. Robots come
 * in unchanged through MJCF `<include>` over a MuJoCo VFS, under the file names the scene's XML uses; a
 * scene never edits a robot file. Tasks (src/sim/tasks) read and reset a compiled scene, never compose one.
 */
import { type Embodiment, readMjcf } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { MjModel, Mujoco } from '../mujoco.ts';

export interface Scene {
  /** Scene id, e.g. 'factory/peg-board'. */
  readonly name: string;
  /** The arm the scene's skills drive (its grip site and canonical vectors), if it has one. */
  readonly arm?: Embodiment;
  /** The whole scene's MJCF. */
  readonly xml: string;
  /** Files the XML includes, by VFS name (robot MJCF text and anything else). */
  readonly files: Readonly<Record<string, string>>;
}

/** VFS file name under which a robot is included. */
export function robotFile(robot: Embodiment): string {
  return `${robot.name}.xml`;
}

/** The `files` entry for a robot. */
export function robotFiles(...robots: Embodiment[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of robots) out[robotFile(r)] = readMjcf(r);
  return out;
}

/** Compiles a scene. The caller owns (and must `.delete()`) the model. */
export function compileScene(mj: Mujoco, scene: Scene): MjModel {
  const vfs = new mj.MjVFS();
  try {
    for (const [name, text] of Object.entries(scene.files)) {
      vfs.addBuffer(name, new TextEncoder().encode(text));
    }
    return mj.MjModel.from_xml_string(scene.xml, vfs);
  } catch (err) {
    throw new TgError('MODEL_INVALID', `scene '${scene.name}' failed to compile: ${String(err)}`, {
      cause: err,
    });
  } finally {
    vfs.delete();
  }
}

/** Number formatting for generated MJCF: micrometre precision, no exponent noise. */
export function fmt(x: number): string {
  return String(Math.round(x * 1e7) / 1e7);
}
