/**
 * Robot import: MJCF or URDF (a file, or a folder holding one) -> staged files in MuJoCo's virtual file
 * system -> compiled model -> canonical map, id and warnings.
 *
 * The id is the sha256 of the staged sources: every file's staged path and bytes (XML files in the
 * importer's normalized serialization, meshes and textures as they are) plus the import options. Hashing
 * the sources rather than `mj_saveLastXML` output keeps the id stable across MuJoCo versions (the saved XML
 * changes with the compiler) and covers mesh bytes, which the saved XML only names. The compiled model is
 * still saved back (`compiledXml`) so a registered robot can be inspected without the importer.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import { loadMujoco, type MjModel, type Mujoco } from '../../sim/mujoco.ts';
import { type CanonicalMap, inferCanonicalMap } from '../canonical-map.ts';
import { collectSources, type ModelFormat, type ModelSources, type UrdfJointInfo } from './sources.ts';
import { completeUrdfPhysics } from './urdf-physics.ts';
import { attr, parseXml, serializeXml, type XmlElement } from './xml.ts';

export type { ModelFormat } from './sources.ts';

/**
 * URDF carries no actuators for MuJoCo. With `<transmission>` elements (ROS 1 hardware interface:
 * Position/Velocity/Effort) or `<ros2_control>` joints (command interface) they come from there; without,
 * `urdfActuators` adds one actuator of that kind per movable joint that mimics no other (a mimic joint
 * follows its leader through the joint equality MuJoCo makes of `<mimic>`), or leaves the robot
 * unactuated (an error).
 */
export interface ImportOptions {
  urdfActuators?: 'position' | 'velocity' | 'torque';
}

export interface ImportedRobot {
  id: string;
  name: string;
  format: ModelFormat;
  /** Staged path of the main model inside `files`. */
  main: string;
  /** Staged files (path -> bytes): exactly what was compiled. */
  files: Map<string, Uint8Array>;
  /** The compiled model written back by MuJoCo (`mj_saveLastXML`), with URDF actuators added. */
  compiledXml: string;
  canonicalMap: CanonicalMap;
  warnings: string[];
  options: ImportOptions;
}

// Position servo gain for synthesized URDF actuators: full joint effort at this tracking error (rad or m).
const FULL_EFFORT_ERROR = 0.05;
const DEFAULT_KP = 100;
// Velocity servo gain: full joint effort at this speed error (rad/s or m/s).
const FULL_EFFORT_SPEED_ERROR = 1;
const DEFAULT_KV = 10;

let vfsCounter = 0;

type Fs = {
  mkdirTree(p: string): void;
  writeFile(p: string, data: Uint8Array | string): void;
  readFile(p: string): Uint8Array;
  readdir(p: string): string[];
  stat(p: string): { mode: number };
  isDir(mode: number): boolean;
  unlink(p: string): void;
  rmdir(p: string): void;
};

function removeTree(fs: Fs, dir: string): void {
  for (const e of fs.readdir(dir)) {
    if (e === '.' || e === '..') continue;
    const p = `${dir}/${e}`;
    if (fs.isDir(fs.stat(p).mode)) removeTree(fs, p);
    else fs.unlink(p);
  }
  fs.rmdir(dir);
}

/** MuJoCo's error text without its prefix and with virtual paths turned back into staged names. */
function mujocoMessage(err: unknown, vfsRoot: string): string {
  const raw = err instanceof Error ? err.message : String(err);
  return raw
    .replace(/^MuJoCo Error:\s*/, '')
    .replace(/^Loading error:\s*/, '')
    .replaceAll(`${vfsRoot}/`, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export async function importRobot(input: string, options: ImportOptions = {}): Promise<ImportedRobot> {
  const sources = collectSources(input);
  const mj = await loadMujoco();
  const fs = (mj as unknown as { FS: Fs }).FS;
  const vfsRoot = `/tg-import/${process.pid}-${++vfsCounter}`;
  let model: MjModel | undefined;
  try {
    stageFiles(fs, vfsRoot, sources.files);
    const mainVfs = `${vfsRoot}/${sources.main}`;
    const compile = (file: string) => {
      try {
        return mj.MjModel.from_xml_path(file);
      } catch (err) {
        throw new TgError('MODEL_INVALID', `${sources.mainDisplay}: MuJoCo: ${mujocoMessage(err, vfsRoot)}`, {
          cause: err,
        });
      }
    };
    model = compile(mainVfs);
    const warnings = [...sources.warnings];
    let compiledXml = saveXml(mj, fs, model, `${path.posix.dirname(mainVfs)}/.tg-saved.xml`);
    if (sources.format === 'urdf' && model.nu === 0) {
      const added = urdfActuators(sources, options);
      if (added.length > 0) {
        const recompile = (saved: XmlElement) => {
          const file = `${path.posix.dirname(mainVfs)}/.tg-actuated.xml`;
          fs.writeFile(file, serializeXml(saved));
          model?.delete();
          model = undefined;
          model = compile(file);
          compiledXml = saveXml(mj, fs, model, `${path.posix.dirname(mainVfs)}/.tg-saved.xml`);
          return model;
        };
        const saved = parseXml(compiledXml);
        saved.children.push({ name: 'actuator', attrs: [], children: added, line: 0 });
        const actuated = recompile(saved);
        // The physics a URDF leaves out (servo armature, self-collision, integrator) is measured on the
        // actuated model, then written into its saved XML (src/embodiment/import/urdf-physics.ts).
        const servos = new Set(added.filter((a) => a.name === 'position').map((a) => attr(a, 'name') ?? ''));
        const completed = parseXml(compiledXml);
        warnings.push(...completeUrdfPhysics(mj, actuated, completed, servos, sources.mainDisplay));
        recompile(completed);
      }
    }
    if (model.nu === 0) {
      const hint =
        sources.format === 'urdf'
          ? ' (the URDF has no <transmission> or <ros2_control> command interface; import with actuators of a kind: position, velocity or torque)'
          : '';
      throw new TgError(
        'MODEL_INVALID',
        `${sources.mainDisplay}: robot ${sources.name}: no actuators${hint}`,
      );
    }
    const maxVelocity: Record<string, number> = {};
    for (const j of sources.urdf?.joints ?? [])
      if (j.velocity !== null && j.velocity > 0) maxVelocity[j.name] = j.velocity;
    const canonicalMap = inferCanonicalMap(mj, model, { maxVelocity });
    for (const j of canonicalMap.joints) {
      if ((j.kind === 'hinge' || j.kind === 'slide') && j.range === null) {
        warnings.push(`${sources.mainDisplay}: joint ${j.name}: no position limits (${j.kind} is unlimited)`);
      }
    }
    return {
      id: robotId(sources, options),
      name: sources.name,
      format: sources.format,
      main: sources.main,
      files: sources.files,
      compiledXml,
      canonicalMap,
      warnings,
      options,
    };
  } finally {
    model?.delete();
    try {
      removeTree(fs, vfsRoot);
    } catch {
      // nothing was written
    }
  }
}

/** Writes staged files (posix paths relative to `root`) into MuJoCo's virtual file system. */
function stageFiles(fs: Fs, root: string, files: Map<string, Uint8Array>): void {
  for (const [p, bytes] of files) {
    const full = `${root}/${p}`;
    fs.mkdirTree(path.posix.dirname(full));
    fs.writeFile(full, bytes);
  }
}

/**
 * Compiles a robot as it was imported: MuJoCo's saved model (`compiledXml`, URDF actuators included) beside
 * the staged files it references, so a registered robot (`EmbodimentRegistry.load`) simulates exactly as
 * it was checked at import. The caller owns (and must `.delete()`) the model.
 */
export async function compileImported(
  robot: Pick<ImportedRobot, 'name' | 'main' | 'files' | 'compiledXml'>,
): Promise<MjModel> {
  const mj = await loadMujoco();
  const fs = (mj as unknown as { FS: Fs }).FS;
  const vfsRoot = `/tg-import/${process.pid}-${++vfsCounter}`;
  try {
    stageFiles(fs, vfsRoot, robot.files);
    // Mesh paths in the saved model are relative to the main model's folder.
    const file = `${path.posix.dirname(`${vfsRoot}/${robot.main}`)}/.tg-compiled.xml`;
    fs.writeFile(file, robot.compiledXml);
    try {
      return mj.MjModel.from_xml_path(file);
    } catch (err) {
      throw new TgError('MODEL_INVALID', `robot ${robot.name}: MuJoCo: ${mujocoMessage(err, vfsRoot)}`, {
        cause: err,
      });
    }
  } finally {
    try {
      removeTree(fs, vfsRoot);
    } catch {
      // nothing was written
    }
  }
}

function saveXml(mj: Mujoco, fs: Fs, model: MjModel, file: string): string {
  if (mj.mj_saveLastXML(file, model) !== 1)
    throw new TgError('MODEL_INVALID', 'MuJoCo could not save the compiled model');
  return new TextDecoder().decode(fs.readFile(file));
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(12)));
}

function urdfActuators(sources: ModelSources, options: ImportOptions): XmlElement[] {
  const joints = new Map((sources.urdf?.joints ?? []).map((j) => [j.name, j]));
  const plan: Array<{ joint: UrdfJointInfo; kind: 'position' | 'velocity' | 'torque' }> = [];
  for (const t of sources.urdf?.transmissions ?? []) plan.push({ joint: joints.get(t.joint)!, kind: t.kind });
  if (plan.length === 0 && options.urdfActuators) {
    for (const j of joints.values()) {
      if (['revolute', 'continuous', 'prismatic'].includes(j.type) && j.mimic === null)
        plan.push({ joint: j, kind: options.urdfActuators });
    }
  }
  return plan.map(({ joint: j, kind }) => {
    const attrs: Array<[string, string]> = [
      ['name', j.name],
      ['joint', j.name],
    ];
    const effort = j.effort !== null && j.effort > 0 ? j.effort : null;
    const limited = j.type !== 'continuous' && j.lower !== null && j.upper !== null && j.lower < j.upper;
    if (kind === 'torque') {
      if (effort !== null) attrs.push(['ctrlrange', `${fmt(-effort)} ${fmt(effort)}`]);
      return { name: 'motor', attrs, children: [], line: 0 };
    }
    if (effort !== null) attrs.push(['forcerange', `${fmt(-effort)} ${fmt(effort)}`]);
    if (kind === 'velocity') {
      attrs.push(['kv', fmt(effort !== null ? effort / FULL_EFFORT_SPEED_ERROR : DEFAULT_KV)]);
      if (j.velocity !== null && j.velocity > 0)
        attrs.push(['ctrlrange', `${fmt(-j.velocity)} ${fmt(j.velocity)}`]);
      return { name: 'velocity', attrs, children: [], line: 0 };
    }
    attrs.push(['kp', fmt(effort !== null ? effort / FULL_EFFORT_ERROR : DEFAULT_KP)], ['dampratio', '1']);
    if (limited) attrs.push(['ctrlrange', `${fmt(j.lower!)} ${fmt(j.upper!)}`]);
    return { name: 'position', attrs, children: [], line: 0 };
  });
}

/** sha256 over the staged files (path and bytes, sorted by path) and the import options. */
export function robotId(sources: Pick<ModelSources, 'files' | 'main'>, options: ImportOptions): string {
  const h = createHash('sha256');
  h.update(
    `tg-robot-v1\0main=${sources.main}\0options=${JSON.stringify({ urdfActuators: options.urdfActuators ?? null })}\0`,
  );
  for (const p of [...sources.files.keys()].sort()) {
    const bytes = sources.files.get(p)!;
    h.update(`${p}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex');
}
