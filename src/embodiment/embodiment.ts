/**
 * Embodiments: a robot's description (MJCF) plus its canonical vector layout. The canonical order here is
 * the order of `observation.state` and `action` everywhere downstream (recorder, datasets, policies).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TgError } from '../errors/index.ts';

export interface Embodiment {
  name: string;
  /** Absolute path of the robot's MJCF file. */
  mjcfPath: string;
  /** MJCF joint names of the arm, canonical order. */
  jointNames: string[];
  /** Canonical `observation.state` names: joint positions (rad), then `gripper` opening (m). */
  stateNames: string[];
  /** Canonical `action` names: joint position targets (rad), then `gripper` target opening (m). */
  actionNames: string[];
  actionKind: 'position';
  /** Limits per state/action channel (joints, then gripper), same order as `stateNames`. */
  jointLimits: { lower: number[]; upper: number[] };
  /** Rest pose in state order (joints, then gripper opening): reached by resets. */
  home: number[];
}

export type EmbodimentName = 'arm7';

const ARM7_JOINTS = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'];
// Must match the MJCF's joint ranges and the gripper actuator's ctrlrange (test/sim checks it).
const ARM7_LOWER = [-2.9, -2.0, -2.9, -2.5, -2.9, -2.0, -3.0, 0];
const ARM7_UPPER = [2.9, 2.0, 2.9, 2.5, 2.9, 2.0, 3.0, 0.08];
// Elbow up, gripper pointing down about 0.45 m in front of the base and 0.34 m above the table.
const ARM7_HOME = [0, 0.4, 0, 1.6, 0, Math.PI - 2.0, 0, 0.08];

export function loadEmbodiment(name: EmbodimentName): Embodiment {
  if (name !== 'arm7') throw new TgError('NOT_FOUND', `unknown embodiment '${String(name)}'`);
  const names = [...ARM7_JOINTS, 'gripper'];
  return {
    name,
    mjcfPath: fileURLToPath(new URL('./robots/arm7.xml', import.meta.url)),
    jointNames: [...ARM7_JOINTS],
    stateNames: [...names],
    actionNames: [...names],
    actionKind: 'position',
    jointLimits: { lower: [...ARM7_LOWER], upper: [...ARM7_UPPER] },
    home: [...ARM7_HOME],
  };
}

/** The MJCF text of an embodiment. */
export function readMjcf(e: Embodiment): string {
  try {
    return readFileSync(e.mjcfPath, 'utf8');
  } catch (err) {
    throw new TgError('MODEL_INVALID', `cannot read MJCF of '${e.name}' at ${e.mjcfPath}`, { cause: err });
  }
}

/**
 * Normalizes MJCF text so that edits that do not change the model (comments, indentation, line endings)
 * do not change the hash.
 */
export function normalizeMjcf(xml: string): string {
  return xml
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\s+/g, ' ')
    .replace(/>\s+</g, '><')
    .trim();
}

/** sha256 (hex) of the embodiment's normalized MJCF: identifies the exact robot an episode ran on. */
export function embodimentHash(e: Embodiment): string {
  return createHash('sha256')
    .update(normalizeMjcf(readMjcf(e)))
    .digest('hex');
}
