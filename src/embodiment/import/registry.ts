/**
 * The embodiment registry: imported robots stored under a directory (`<TG_HOME>/embodiments`), one folder
 * per id. On disk:
 *
 *   <dir>/<id>/manifest.json   RobotManifest (below)
 *   <dir>/<id>/files/...       the staged model files, main model at `files/<main>`
 *   <dir>/<id>/compiled.xml    MuJoCo's own save of the compiled model (mesh paths relative to the main model)
 *
 * A robot is written into a temporary sibling folder and renamed into place, so a reader never sees a robot
 * registered half-way and a failed import leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import type { CanonicalMap } from '../canonical-map.ts';
import type { ImportedRobot, ImportOptions, ModelFormat } from './import-robot.ts';

export interface RobotManifest {
  version: 1;
  id: string;
  name: string;
  format: ModelFormat;
  /** Main model path relative to the robot's `files/` folder. */
  main: string;
  files: Array<{ path: string; bytes: number }>;
  options: ImportOptions;
  canonicalMap: CanonicalMap;
  warnings: string[];
  registeredAt: string;
}

export interface RegisteredRobot extends RobotManifest {
  /** Absolute path of the main model file. */
  mainPath: string;
  dir: string;
}

const ID = /^[0-9a-f]{64}$/;

export class EmbodimentRegistry {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Stores an imported robot; registering the same id again returns the stored one untouched. */
  register(robot: ImportedRobot): RegisteredRobot {
    const final = path.join(this.dir, robot.id);
    if (existsSync(path.join(final, 'manifest.json'))) return this.read(robot.id);
    const tmp = path.join(this.dir, `.tmp-${robot.id.slice(0, 12)}-${randomUUID()}`);
    try {
      mkdirSync(tmp, { recursive: true });
      for (const [p, bytes] of robot.files) {
        const dest = path.join(tmp, 'files', ...p.split('/'));
        if (!dest.startsWith(path.join(tmp, 'files') + path.sep)) {
          throw new TgError('MODEL_INVALID', `${p}: file path escapes the robot folder`);
        }
        mkdirSync(path.dirname(dest), { recursive: true });
        writeFileSync(dest, bytes);
      }
      writeFileSync(path.join(tmp, 'compiled.xml'), robot.compiledXml);
      const manifest: RobotManifest = {
        version: 1,
        id: robot.id,
        name: robot.name,
        format: robot.format,
        main: robot.main,
        files: [...robot.files]
          .map(([p, b]) => ({ path: p, bytes: b.length }))
          .sort((a, b) => (a.path < b.path ? -1 : 1)),
        options: robot.options,
        canonicalMap: robot.canonicalMap,
        warnings: robot.warnings,
        registeredAt: new Date().toISOString(),
      };
      writeFileSync(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (existsSync(path.join(final, 'manifest.json'))) return this.read(robot.id); // lost a race to an equal copy
      if (err instanceof TgError) throw err;
      throw new TgError('STORAGE_FAILED', `cannot register robot in ${this.dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return this.read(robot.id);
  }

  /** Every registered robot, by name then id. */
  list(): RegisteredRobot[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((e) => ID.test(e) && existsSync(path.join(this.dir, e, 'manifest.json')))
      .map((id) => this.read(id))
      .sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1));
  }

  /** A robot by id or by a prefix that matches exactly one id. */
  get(idOrPrefix: string): RegisteredRobot {
    const q = idOrPrefix.toLowerCase();
    if (!/^[0-9a-f]+$/.test(q))
      throw new TgError('NOT_FOUND', `no registered robot '${idOrPrefix}' (ids are hex)`);
    const ids = existsSync(this.dir)
      ? readdirSync(this.dir).filter(
          (e) => ID.test(e) && e.startsWith(q) && existsSync(path.join(this.dir, e, 'manifest.json')),
        )
      : [];
    if (ids.length === 0) throw new TgError('NOT_FOUND', `no registered robot '${idOrPrefix}'`);
    if (ids.length > 1) {
      throw new TgError(
        'NOT_FOUND',
        `'${idOrPrefix}' matches ${ids.length} robots (${ids.map((i) => i.slice(0, 12)).join(', ')}): give more of the id`,
      );
    }
    return this.read(ids[0]!);
  }

  /** What `compileImported` needs of a registered robot: its staged files and saved model, from disk. */
  load(idOrPrefix: string): Pick<ImportedRobot, 'name' | 'main' | 'files' | 'compiledXml'> {
    const r = this.get(idOrPrefix);
    try {
      const files = new Map<string, Uint8Array>();
      for (const f of r.files) {
        files.set(f.path, new Uint8Array(readFileSync(path.join(r.dir, 'files', ...f.path.split('/')))));
      }
      return {
        name: r.name,
        main: r.main,
        files,
        compiledXml: readFileSync(path.join(r.dir, 'compiled.xml'), 'utf8'),
      };
    } catch (cause) {
      throw new TgError('STORAGE_FAILED', `${r.dir}: robot files unreadable (${(cause as Error).message})`, {
        cause,
      });
    }
  }

  private read(id: string): RegisteredRobot {
    const dir = path.join(this.dir, id);
    let manifest: RobotManifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as RobotManifest;
    } catch (cause) {
      throw new TgError(
        'STORAGE_FAILED',
        `${path.join(dir, 'manifest.json')}: unreadable (${(cause as Error).message})`,
        { cause },
      );
    }
    return { ...manifest, dir, mainPath: path.join(dir, 'files', ...manifest.main.split('/')) };
  }
}
