/**
 * Gathers a robot description and every file it references (MJCF includes, meshes, textures, height
 * fields; URDF meshes, `package://` paths included) into one self-contained set of files, checking each
 * reference before MuJoCo sees it so a problem names its file and element.
 *
 * The staged set is rewritten to be self-contained: every file reference is made relative to the main
 * model's directory, and the compiler's `meshdir`/`texturedir`/`assetdir` (and `strippath`) are removed,
 * because the references no longer need them. The staged files are what MuJoCo compiles, what the id is
 * hashed from, and what the registry stores; importing a registered copy again gives the same files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import {
  attr,
  childElements,
  parseXml,
  removeAttr,
  serializeXml,
  setAttr,
  walk,
  type XmlElement,
  XmlSyntaxError,
} from './xml.ts';

export type ModelFormat = 'mjcf' | 'urdf';

/**
 * A joint a URDF declares actuated, and how: a ROS 1 `<transmission>` (hardware interface) or a ROS 2
 * `<ros2_control>` joint (its first command interface).
 */
export interface UrdfTransmission {
  name: string;
  joint: string;
  kind: 'position' | 'velocity' | 'torque';
}

export interface UrdfJointInfo {
  name: string;
  type: string;
  lower: number | null;
  upper: number | null;
  effort: number | null;
  velocity: number | null;
  /** The joint this one mimics (`<mimic joint=...>`): MuJoCo couples them with a joint equality. */
  mimic: string | null;
}

export interface ModelSources {
  format: ModelFormat;
  name: string;
  /** Staged path (posix, relative to the staging root) of the main model file. */
  main: string;
  /** The main file as messages name it (relative to the folder or file given). */
  mainDisplay: string;
  /** Staged files: XML files as rewritten text, assets as their bytes. */
  files: Map<string, Uint8Array>;
  /** Display name of a staged file's origin, for messages. */
  display: Map<string, string>;
  warnings: string[];
  urdf?: { joints: UrdfJointInfo[]; transmissions: UrdfTransmission[] };
}

/** Mesh formats MuJoCo reads (XML reference: asset/mesh `file`). */
const MESH_FORMATS = new Set(['.stl', '.obj', '.msh']);
const MODEL_EXTS = new Set(['.xml', '.urdf', '.mjcf']);

const invalid = (message: string) => new TgError('MODEL_INVALID', message);
const lineOf = (el: XmlElement) => ` (line ${el.line})`;
const label = (el: XmlElement) => {
  const n = attr(el, 'name');
  return n === undefined ? `<${el.name}>` : `${el.name} ${n}`;
};

function readXml(abs: string, display: string): XmlElement {
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (cause) {
    throw new TgError('MODEL_INVALID', `${display}: cannot read (${(cause as Error).message})`, { cause });
  }
  try {
    return parseXml(text);
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw invalid(`${display}: malformed XML: ${err.message}`);
    throw err;
  }
}

function listModelFiles(dir: string, depth = 0): string[] {
  if (depth > 4) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listModelFiles(p, depth + 1));
    else if (MODEL_EXTS.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out.sort();
}

/**
 * The main model of a folder: the one MJCF or URDF file that no other file includes. A folder holding
 * several (a robot and its scene are one: the scene includes the robot) must be narrowed by naming the file.
 */
export function findMainModel(dir: string): string {
  const candidates: Array<{ file: string; complete: boolean }> = [];
  const included = new Set<string>();
  for (const file of listModelFiles(dir)) {
    let root: XmlElement;
    try {
      root = parseXml(readFileSync(file, 'utf8'));
    } catch {
      continue; // not XML, or broken: only a file that is chosen must parse
    }
    if (root.name !== 'mujoco' && root.name !== 'robot') continue;
    // A fragment (a part file left out of the model, e.g. optional actuators) has no bodies or links and
    // includes nothing; a main model has a worldbody (or links) of its own or includes them.
    const complete =
      root.name === 'robot'
        ? childElements(root, 'link').length > 0
        : childElements(root, 'worldbody').length > 0 || [...walk(root)].some(([e]) => e.name === 'include');
    candidates.push({ file, complete });
    for (const [el] of walk(root)) {
      const f = el.name === 'include' ? attr(el, 'file') : undefined;
      if (f !== undefined) {
        included.add(path.resolve(path.dirname(file), f));
        included.add(path.resolve(dir, f));
      }
    }
  }
  const roots = candidates.filter((c) => !included.has(c.file));
  const complete = roots.filter((c) => c.complete);
  const mains = (complete.length > 0 ? complete : roots).map((c) => c.file);
  if (mains.length === 1) return mains[0]!;
  if (mains.length === 0) throw invalid(`${dir}: no MJCF (<mujoco>) or URDF (<robot>) model found`);
  const names = mains.map((m) => path.relative(dir, m)).join(', ');
  throw invalid(`${dir}: several models (${names}): pass the file to import`);
}

interface Staging {
  /** Folder messages name files relative to: the folder given, or the main file's folder. */
  inputRoot: string;
  main: string;
  mainDir: string;
  /** absolute path -> bytes (XML files are replaced by their rewritten text at the end) */
  files: Map<string, Uint8Array>;
  xml: Map<string, XmlElement>;
}

/** A file's name in messages. */
function shown(s: Staging, abs: string): string {
  const rel = path.relative(s.inputRoot, abs);
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel.split(path.sep).join('/');
}

/** Adds a referenced file and returns the reference to write: its path relative to the main model's folder. */
function stageFile(s: Staging, abs: string, source = abs): string {
  if (!s.files.has(abs)) s.files.set(abs, new Uint8Array(readFileSync(source)));
  return path.relative(s.mainDir, abs).split(path.sep).join('/');
}

function commonDir(paths: string[]): string {
  let dir = path.dirname(paths[0]!);
  while (!paths.every((p) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep))) {
    dir = path.dirname(dir);
  }
  return dir;
}

/**
 * Staged paths are relative to the deepest folder holding every file, so the same robot gets the same
 * staged files (and id) whether its main file, its folder or a parent folder was given.
 */
function finish(
  s: Staging,
  rest: Omit<ModelSources, 'main' | 'mainDisplay' | 'files' | 'display'>,
): ModelSources {
  for (const [abs, tree] of s.xml) s.files.set(abs, xmlBytes(tree));
  const root = commonDir([...s.files.keys()]);
  const files = new Map<string, Uint8Array>();
  const display = new Map<string, string>();
  for (const abs of [...s.files.keys()].sort()) {
    const staged = path.relative(root, abs).split(path.sep).join('/');
    files.set(staged, s.files.get(abs)!);
    display.set(staged, shown(s, abs));
  }
  const main = path.relative(root, s.main).split(path.sep).join('/');
  return { ...rest, main, mainDisplay: shown(s, s.main), files, display };
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** Reads the model at `input` (file or folder) and stages it with everything it references. */
export function collectSources(input: string): ModelSources {
  const abs = path.resolve(input);
  if (!existsSync(abs)) throw new TgError('NOT_FOUND', `${input}: no such file or folder`);
  const isDir = statSync(abs).isDirectory();
  const main = isDir ? findMainModel(abs) : abs;
  const root = isDir ? abs : path.dirname(abs);
  const s: Staging = { inputRoot: root, main, mainDir: path.dirname(main), files: new Map(), xml: new Map() };
  const display = shown(s, main);
  const tree = readXml(main, display);
  stageFile(s, main);
  s.xml.set(main, tree);
  if (tree.name === 'mujoco') return collectMjcf(s, tree);
  if (tree.name === 'robot') return collectUrdf(s, tree);
  throw invalid(`${display}: root element <${tree.name}> is neither <mujoco> (MJCF) nor <robot> (URDF)`);
}

const encoder = new TextEncoder();
const xmlBytes = (tree: XmlElement) => encoder.encode(`${serializeXml(tree)}\n`);

// ---------------------------------------------------------------------------------------------- MJCF

const MJCF_ASSET_FILES: Record<string, string[]> = {
  mesh: ['file'],
  skin: ['file'],
  hfield: ['file'],
  texture: ['file', 'fileright', 'fileleft', 'fileup', 'filedown', 'filefront', 'fileback'],
};
/** Elements that create or rename joints in ways the pre-check does not follow (left to MuJoCo). */
const MJCF_GENERATORS = new Set(['attach', 'replicate', 'model', 'composite', 'flexcomp']);
const MJCF_JOINT_ACTUATORS = new Set([
  'general',
  'motor',
  'position',
  'velocity',
  'intvelocity',
  'damper',
  'cylinder',
  'muscle',
  'adhesion',
]);

function collectMjcf(s: Staging, tree: XmlElement): ModelSources {
  const main = s.main;
  const docs: Array<{ abs: string; tree: XmlElement }> = [{ abs: main, tree }];
  // Includes, depth first; MuJoCo resolves them against the main file's folder (XML reference, include).
  const pending = [{ abs: main, tree }];
  while (pending.length > 0) {
    const doc = pending.shift()!;
    for (const [el] of walk(doc.tree)) {
      if (el.name !== 'include') continue;
      const file = attr(el, 'file');
      const where = shown(s, doc.abs);
      if (file === undefined) throw invalid(`${where}: include: no file attribute${lineOf(el)}`);
      const candidates = [path.resolve(s.mainDir, file), path.resolve(path.dirname(doc.abs), file)];
      const found = candidates.find(isFile);
      if (!found) throw invalid(`${where}: include ${file}: file not found${lineOf(el)}`);
      const known = s.files.has(found);
      setAttr(el, 'file', stageFile(s, found));
      if (known) continue;
      const sub = readXml(found, shown(s, found));
      if (sub.name !== 'mujoco') {
        throw invalid(`${shown(s, found)}: included file's root is <${sub.name}>, expected <mujoco>`);
      }
      s.xml.set(found, sub);
      docs.push({ abs: found, tree: sub });
      pending.push({ abs: found, tree: sub });
    }
  }

  // Compiler directories, in document order (a later <compiler> overrides an earlier one).
  let meshdir: string | undefined;
  let texturedir: string | undefined;
  let strippath = false;
  for (const doc of docs) {
    for (const [el] of walk(doc.tree)) {
      if (el.name !== 'compiler') continue;
      const assetdir = attr(el, 'assetdir');
      if (assetdir !== undefined) {
        meshdir = assetdir;
        texturedir = assetdir;
      }
      meshdir = attr(el, 'meshdir') ?? meshdir;
      texturedir = attr(el, 'texturedir') ?? texturedir;
      if (attr(el, 'strippath') !== undefined) strippath = attr(el, 'strippath') === 'true';
      for (const a of ['meshdir', 'texturedir', 'assetdir', 'strippath']) removeAttr(el, a);
    }
  }

  const joints = new Set<string>();
  let generated = false;
  const actuatorRefs: Array<{ doc: string; el: XmlElement; joint: string }> = [];
  for (const doc of docs) {
    const where = shown(s, doc.abs);
    for (const [el, parent] of walk(doc.tree)) {
      if (MJCF_GENERATORS.has(el.name)) generated = true;
      if (
        (el.name === 'joint' || el.name === 'freejoint') &&
        parent &&
        (parent.name === 'body' || parent.name === 'frame')
      ) {
        const n = attr(el, 'name');
        if (n !== undefined) joints.add(n);
      }
      if (parent?.name === 'actuator' && MJCF_JOINT_ACTUATORS.has(el.name)) {
        const j = attr(el, 'joint') ?? attr(el, 'jointinparent');
        if (j !== undefined) actuatorRefs.push({ doc: where, el, joint: j });
      }
      const fileAttrs = MJCF_ASSET_FILES[el.name];
      if (!fileAttrs || (parent?.name !== 'asset' && el.name !== 'skin')) continue;
      for (const a of fileAttrs) {
        const f = attr(el, a);
        if (f === undefined) continue;
        const dir = el.name === 'texture' ? texturedir : meshdir;
        const ref = strippath ? path.basename(f) : f;
        const full = path.isAbsolute(ref) ? ref : path.resolve(s.mainDir, dir ?? '', ref);
        if (!isFile(full)) {
          throw invalid(`${where}: ${label(el)}: ${el.name} file not found: ${f}${lineOf(el)}`);
        }
        if (el.name === 'mesh' && !MESH_FORMATS.has(path.extname(full).toLowerCase())) {
          throw invalid(
            `${where}: ${label(el)}: unsupported mesh format ${path.extname(full)} (MuJoCo reads STL, OBJ, MSH)${lineOf(el)}`,
          );
        }
        setAttr(el, a, stageFile(s, full));
      }
    }
  }
  if (!generated) {
    for (const r of actuatorRefs) {
      if (!joints.has(r.joint))
        throw invalid(
          `${r.doc}: actuator ${attr(r.el, 'name') ?? `<${r.el.name}>`}: unknown joint '${r.joint}'${lineOf(r.el)}`,
        );
    }
  }
  return finish(s, {
    format: 'mjcf',
    name: attr(tree, 'model') ?? path.basename(main, path.extname(main)),
    warnings: [],
  });
}

// ---------------------------------------------------------------------------------------------- URDF

/** Resolves a URDF mesh filename: `package://<pkg>/<rest>` against the import folder and the URDF's ancestors. */
function resolveUrdfMesh(s: Staging, urdfAbs: string, filename: string): string | undefined {
  const pkg = /^package:\/\/([^/]+)\/(.*)$/.exec(filename);
  if (pkg) {
    const [, name, rest] = pkg as unknown as [string, string, string];
    const tries = [path.join(s.inputRoot, rest), path.join(s.inputRoot, name, rest)];
    // ROS packages: the folder named after the package, found among the URDF's ancestors.
    for (let d = path.dirname(urdfAbs), i = 0; i < 6; i++, d = path.dirname(d)) {
      if (path.basename(d) === name) tries.push(path.join(d, rest));
      tries.push(path.join(d, name, rest));
      if (d === path.dirname(d)) break;
    }
    return tries.find(isFile);
  }
  const plain = filename.replace(/^file:\/\//, '');
  if (path.isAbsolute(plain)) return isFile(plain) ? plain : undefined;
  return [path.resolve(path.dirname(urdfAbs), plain), path.resolve(s.inputRoot, plain)].find(isFile);
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v.trim() === '') return null;
  const x = Number(v);
  return Number.isFinite(x) ? x : null;
};

function collectUrdf(s: Staging, tree: XmlElement): ModelSources {
  const main = s.main;
  const where = shown(s, main);
  const warnings: string[] = [];
  const links = new Set(childElements(tree, 'link').map((l) => attr(l, 'name') ?? ''));
  const joints: UrdfJointInfo[] = [];
  for (const j of childElements(tree, 'joint')) {
    const name = attr(j, 'name');
    if (name === undefined) throw invalid(`${where}: <joint>: no name${lineOf(j)}`);
    for (const end of ['parent', 'child']) {
      const link = childElements(j, end)[0];
      const ln = link ? attr(link, 'link') : undefined;
      if (ln === undefined) throw invalid(`${where}: joint ${name}: no <${end} link=...>${lineOf(j)}`);
      if (!links.has(ln))
        throw invalid(`${where}: joint ${name}: ${end} link '${ln}' is not defined${lineOf(j)}`);
    }
    const limit = childElements(j, 'limit')[0];
    const mimic = childElements(j, 'mimic')[0];
    joints.push({
      name,
      type: attr(j, 'type') ?? '',
      lower: num(limit && attr(limit, 'lower')),
      upper: num(limit && attr(limit, 'upper')),
      effort: num(limit && attr(limit, 'effort')),
      velocity: num(limit && attr(limit, 'velocity')),
      mimic: (mimic && attr(mimic, 'joint')) ?? null,
    });
  }
  const jointNames = new Set(joints.map((j) => j.name));

  // <mujoco><compiler .../></mujoco> extension: keep its options, drop the directories (references are
  // rewritten), and never strip paths (the staged references carry their folders).
  let mujocoExt = childElements(tree, 'mujoco')[0];
  let meshdir: string | undefined;
  if (!mujocoExt) {
    mujocoExt = { name: 'mujoco', attrs: [], children: [], line: tree.line };
    tree.children.unshift(mujocoExt);
  }
  let compiler = childElements(mujocoExt, 'compiler')[0];
  if (!compiler) {
    compiler = { name: 'compiler', attrs: [], children: [], line: mujocoExt.line };
    mujocoExt.children.unshift(compiler);
  }
  meshdir = attr(compiler, 'meshdir') ?? attr(compiler, 'assetdir');
  for (const a of ['meshdir', 'texturedir', 'assetdir']) removeAttr(compiler, a);
  setAttr(compiler, 'strippath', 'false');
  // MuJoCo's URDF reader discards visual geoms by default; keep them for viewers (they do not collide).
  if (attr(compiler, 'discardvisual') === undefined) setAttr(compiler, 'discardvisual', 'false');
  // MuJoCo fuses fixed-joint links into their parents for URDF by default; a base fused into the world
  // body then collides with the first moving link (the parent-child contact filter exempts the world),
  // and mounted tools lose their frames. Keep them as bodies: static ones never collide with each other.
  if (attr(compiler, 'fusestatic') === undefined) setAttr(compiler, 'fusestatic', 'false');

  // MuJoCo's URDF reader names each mesh after its file's stem and reuses a mesh of the same name, so
  // meshes/visual/base.obj and meshes/collision/base.stl would both become the OBJ. A later file whose stem
  // is taken is staged under `<stem>_<ext>.<ext>` (then `<stem>_<ext>2.<ext>`, ...) beside the original.
  const stems = new Map<string, string>();
  const aliases = new Map<string, string>();
  const meshAlias = (found: string): string => {
    const known = aliases.get(found);
    if (known !== undefined) return known;
    const ext = path.extname(found);
    let stem = path.basename(found, ext);
    for (let i = 1; stems.has(stem) && stems.get(stem) !== found; i++) {
      stem = `${path.basename(found, ext)}_${ext.slice(1).toLowerCase()}${i > 1 ? i : ''}`;
    }
    stems.set(stem, found);
    const alias = path.join(path.dirname(found), `${stem}${ext}`);
    aliases.set(found, alias);
    return alias;
  };

  for (const link of childElements(tree, 'link')) {
    const linkName = attr(link, 'name') ?? '?';
    for (const role of ['visual', 'collision']) {
      for (const g of childElements(link, role)) {
        for (const [mesh] of walk(g)) {
          if (mesh.name !== 'mesh') continue;
          const filename = attr(mesh, 'filename');
          if (filename === undefined)
            throw invalid(`${where}: link ${linkName}: ${role} mesh without filename${lineOf(mesh)}`);
          let found = resolveUrdfMesh(s, main, filename);
          if (!found && meshdir !== undefined && !filename.startsWith('package://')) {
            const viaMeshdir = path.resolve(s.mainDir, meshdir, filename);
            const stripped = path.resolve(s.mainDir, meshdir, path.basename(filename));
            found = [viaMeshdir, stripped].find(isFile);
          }
          if (!found)
            throw invalid(
              `${where}: link ${linkName}: ${role} mesh file not found: ${filename}${lineOf(mesh)}`,
            );
          const ext = path.extname(found).toLowerCase();
          if (!MESH_FORMATS.has(ext)) {
            if (role === 'visual') {
              warnings.push(
                `${where}: link ${linkName}: visual mesh ${filename} dropped: MuJoCo cannot read ${ext} (STL, OBJ, MSH only)`,
              );
              link.children = link.children.filter((c) => c !== g);
              continue;
            }
            throw invalid(
              `${where}: link ${linkName}: collision mesh ${filename}: unsupported format ${ext} (MuJoCo reads STL, OBJ, MSH)${lineOf(mesh)}`,
            );
          }
          setAttr(mesh, 'filename', stageFile(s, meshAlias(found), found));
        }
      }
    }
  }

  const transmissions: UrdfTransmission[] = [];
  const declared = new Set<string>();
  const declare = (t: UrdfTransmission) => {
    // A joint declared twice (a transmission and a ros2_control block) gets one actuator: the first.
    if (declared.has(t.joint)) return;
    declared.add(t.joint);
    transmissions.push(t);
  };
  for (const t of childElements(tree, 'transmission')) {
    const tName = attr(t, 'name') ?? '?';
    for (const j of childElements(t, 'joint')) {
      const jn = attr(j, 'name') ?? '';
      if (!jointNames.has(jn))
        throw invalid(`${where}: transmission ${tName}: actuator on unknown joint '${jn}'${lineOf(j)}`);
      const iface = walkText(t, 'hardwareInterface');
      const kind = /velocity/i.test(iface) ? 'velocity' : /effort/i.test(iface) ? 'torque' : 'position';
      declare({ name: tName, joint: jn, kind });
    }
  }
  // ROS 2 descriptions declare actuation in <ros2_control> (ros2_control docs, "URDF tag"): per joint its
  // command interfaces; the first one is the mode the controller drives it in. Joints with state
  // interfaces only are sensed, not actuated.
  for (const sys of childElements(tree, 'ros2_control')) {
    const sName = attr(sys, 'name') ?? '?';
    for (const j of childElements(sys, 'joint')) {
      const jn = attr(j, 'name') ?? '';
      if (!jointNames.has(jn))
        throw invalid(`${where}: ros2_control ${sName}: actuator on unknown joint '${jn}'${lineOf(j)}`);
      const cmd = childElements(j, 'command_interface')[0];
      if (!cmd) continue;
      const iface = attr(cmd, 'name') ?? '';
      const kind = iface === 'velocity' ? 'velocity' : iface === 'effort' ? 'torque' : 'position';
      if (!['position', 'velocity', 'effort'].includes(iface)) {
        warnings.push(
          `${where}: ros2_control ${sName}: joint ${jn}: command interface '${iface}' driven as position`,
        );
      }
      declare({ name: `${sName}/${jn}`, joint: jn, kind });
    }
  }

  return finish(s, {
    format: 'urdf',
    name: attr(tree, 'name') ?? path.basename(main, path.extname(main)),
    warnings,
    urdf: { joints, transmissions },
  });
}

function walkText(el: XmlElement, name: string): string {
  const parts: string[] = [];
  for (const [e] of walk(el)) {
    if (e.name === name) parts.push(...e.children.filter((c): c is string => typeof c === 'string'));
  }
  return parts.join(' ');
}
