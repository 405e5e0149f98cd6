/**
 * Imports AgiBot World episodes (layout: ./layout.ts) into a LeRobot v3 dataset.
 *
 * Canonical vectors:
 *   observation.state = state/joint/position ++ state/effector/position            (N rows)
 *   action            = action/joint/position ++ action/effector/position, each brought to N rows:
 *     - with an `index` array beside it: row k of the action belongs to state frame index[k]; every state
 *       frame takes the latest action row at or before it (zero-order hold, what the controller did), and
 *       frames before the first index take the first action row (no earlier command exists);
 *     - without `index`: the action must already have N rows.
 *
 * An episode that cannot be mapped is skipped with its reason (missing group, empty array, length
 * mismatch, index out of range, unreadable file, vector width unlike the episodes before it); the others
 * are written. Nothing is written when no episode could be imported.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TgError } from '../../errors/index.ts';
import { computeEpisodeId, type EpisodeMeta, EpisodeMetaSchema, type RecordedEpisode } from '../episode.ts';
import type { VectorFeatureSpec } from '../lerobot/format.ts';
import { LeRobotWriter } from '../lerobot/writer.ts';
import { h5Ready, hasHdf5Signature, type Matrix, MissingPath, openH5 } from './hdf5.ts';
import {
  ACTION_EFFECTOR,
  ACTION_JOINT,
  AGIBOT_FPS,
  effectorNames,
  jointNames,
  proprioPath,
  STATE_EFFECTOR_POSITION,
  STATE_JOINT_POSITION,
  TASK_INFO_DIR,
  TASK_INFO_FILE,
  type TaskEpisode,
  TaskInfoSchema,
  TIMESTAMP,
} from './layout.ts';

export interface AgibotImportOptions {
  /** Frame rate of the source (default 30, AgiBot World's). */
  fps?: number;
  /** robot_type in info.json (default 'agibot_g1'). */
  robotType?: string;
  /** Only these task ids (default: every task_info file). */
  taskIds?: number[];
  /** Stop after this many imported episodes. */
  limit?: number;
  /** Called after each episode, imported or skipped (progress). */
  onEpisode?: (report: AgibotEpisodeReport) => void;
}

interface EpisodeRef {
  taskId: number;
  episodeId: number;
  /** proprio_stats.h5, relative to the source directory. */
  file: string;
}

export type AgibotEpisodeReport =
  | (EpisodeRef & { status: 'imported'; episodeIndex: number; frames: number })
  | (EpisodeRef & { status: 'skipped'; reason: string });

export interface AgibotImportReport {
  /** The dataset written, or null when no episode could be imported. */
  outDir: string | null;
  imported: number;
  skipped: number;
  episodes: AgibotEpisodeReport[];
}

class Skip extends Error {}

interface MappedEpisode {
  length: number;
  state: Float32Array;
  action: Float32Array;
  stateNames: string[];
  actionNames: string[];
  timestampsSec: Float64Array;
}

function matrix(h5: ReturnType<typeof openH5>, path: string): Matrix {
  try {
    const m = h5.matrix(path);
    if (m.rows === 0 || m.cols === 0) throw new Skip(`empty array ${path}`);
    return m;
  } catch (err) {
    if (err instanceof MissingPath) throw new Skip(`missing group ${err.message}`);
    throw err;
  }
}

/** Brings an action stream to `n` state frames (rules in the header comment). */
function scatter(h5: ReturnType<typeof openH5>, group: string, n: number): Matrix {
  const values = matrix(h5, `${group}/position`);
  if (!h5.has(`${group}/index`)) {
    if (values.rows !== n)
      throw new Skip(
        `length mismatch: ${group}/position has ${values.rows} rows, state has ${n} and there is no index`,
      );
    return values;
  }
  const index = matrix(h5, `${group}/index`);
  if (index.rows * index.cols !== values.rows)
    throw new Skip(
      `length mismatch: ${group}/index has ${index.rows} entries, ${group}/position ${values.rows} rows`,
    );
  const out = new Float64Array(n * values.cols);
  let row = 0;
  let prev = -1;
  for (let k = 0; k < index.rows; k++) {
    const at = index.data[k] as number;
    if (!Number.isInteger(at) || at < 0 || at >= n)
      throw new Skip(`index out of range: ${group}/index[${k}] = ${at}, state has ${n} frames`);
    if (at < prev) throw new Skip(`index not sorted: ${group}/index[${k}] = ${at} after ${prev}`);
    prev = at;
  }
  for (let t = 0; t < n; t++) {
    while (row + 1 < index.rows && (index.data[row + 1] as number) <= t) row++;
    out.set(values.data.subarray(row * values.cols, (row + 1) * values.cols), t * values.cols);
  }
  return { rows: n, cols: values.cols, data: out };
}

function concat(n: number, parts: Matrix[]): Float32Array {
  const width = parts.reduce((a, p) => a + p.cols, 0);
  const out = new Float32Array(n * width);
  for (let t = 0; t < n; t++) {
    let off = t * width;
    for (const p of parts) {
      for (let c = 0; c < p.cols; c++) out[off + c] = p.data[t * p.cols + c] as number;
      off += p.cols;
    }
  }
  return out;
}

function readEpisode(file: string, fps: number): MappedEpisode {
  let h5: ReturnType<typeof openH5>;
  try {
    h5 = openH5(file);
  } catch (err) {
    throw new Skip(`unreadable file (${(err as Error).message})`);
  }
  try {
    const joint = matrix(h5, STATE_JOINT_POSITION);
    const effector = matrix(h5, STATE_EFFECTOR_POSITION);
    const n = joint.rows;
    if (effector.rows !== n)
      throw new Skip(
        `length mismatch: ${STATE_JOINT_POSITION} has ${n} rows, ${STATE_EFFECTOR_POSITION} ${effector.rows}`,
      );
    const actJoint = scatter(h5, ACTION_JOINT, n);
    const actEffector = scatter(h5, ACTION_EFFECTOR, n);
    let timestampsSec = Float64Array.from({ length: n }, (_, f) => f / fps);
    if (h5.has(TIMESTAMP)) {
      const ts = h5.matrix(TIMESTAMP);
      if (ts.rows === n && ts.cols === 1) {
        const t0 = ts.data[0] as number;
        // AgiBot timestamps are nanoseconds since the epoch
        timestampsSec = Float64Array.from(ts.data, (v) => (v - t0) / 1e9);
      }
    }
    return {
      length: n,
      state: concat(n, [joint, effector]),
      action: concat(n, [actJoint, actEffector]),
      stateNames: [...jointNames(joint.cols), ...effectorNames(effector.cols)],
      actionNames: [...jointNames(actJoint.cols), ...effectorNames(actEffector.cols)],
      timestampsSec,
    };
  } catch (err) {
    if (err instanceof Skip) throw err;
    throw new Skip(`unreadable file (${(err as Error).message})`);
  } finally {
    h5.close();
  }
}

async function listTasks(srcDir: string, only: number[] | undefined): Promise<Map<number, TaskEpisode[]>> {
  const dir = join(srcDir, TASK_INFO_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new TgError('INPUT_INVALID', `${dir}: not an AgiBot World directory (no ${TASK_INFO_DIR}/)`, {
      cause,
    });
  }
  const tasks = new Map<number, TaskEpisode[]>();
  const files = names
    .map((n) => [n, TASK_INFO_FILE.exec(n)?.[1]] as const)
    .filter((e): e is readonly [string, string] => e[1] !== undefined)
    .map(([n, id]) => [n, Number(id)] as const)
    .filter(([, id]) => only === undefined || only.includes(id))
    .sort((a, b) => a[1] - b[1]);
  for (const [name, taskId] of files) {
    const path = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path, 'utf8'));
    } catch (cause) {
      throw new TgError('INPUT_INVALID', `${path}: not valid JSON`, { cause });
    }
    const parsed = TaskInfoSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TgError('INPUT_INVALID', `${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    tasks.set(taskId, parsed.data);
  }
  return tasks;
}

function episodeMeta(
  taskId: number,
  info: TaskEpisode,
  mapped: MappedEpisode,
  fps: number,
  robot: string,
  columns: Record<string, Float32Array>,
): EpisodeMeta {
  const events = (info.label_info?.action_config ?? [])
    .filter((s) => s.start_frame < mapped.length)
    .map((s) => ({
      frame: s.start_frame,
      kind: 'segment',
      ...(s.action_text ? { detail: s.action_text } : {}),
    }));
  const withoutId = {
    robot,
    embodimentHash: robot,
    vendor: 'agibot',
    field: 'agibot-world',
    operator: '',
    task: `agibot-task-${taskId}`,
    instruction: info.task_name,
    source: 'teleop' as const,
    phase: 'drill' as const,
    success: null,
    seed: 0,
    fps,
    length: mapped.length,
    events,
  };
  const parsed = EpisodeMetaSchema.omit({ id: true }).parse(withoutId);
  return { ...parsed, id: computeEpisodeId(parsed, columns, mapped.timestampsSec) };
}

export async function importAgibot(
  srcDir: string,
  outDir: string,
  opts: AgibotImportOptions = {},
): Promise<AgibotImportReport> {
  const fps = opts.fps ?? AGIBOT_FPS;
  const robot = opts.robotType ?? 'agibot_g1';
  if (await stat(outDir).catch(() => null))
    throw new TgError('STORAGE_FAILED', `agibot import: ${outDir} already exists`);
  const tasks = await listTasks(srcDir, opts.taskIds);
  await h5Ready();
  const reports: AgibotEpisodeReport[] = [];
  let writer: LeRobotWriter | undefined;
  let features: Record<string, VectorFeatureSpec> | undefined;
  const report = (r: AgibotEpisodeReport) => {
    reports.push(r);
    opts.onEpisode?.(r);
  };
  try {
    outer: for (const [taskId, episodes] of tasks) {
      for (const info of episodes) {
        if (opts.limit !== undefined && reports.filter((r) => r.status === 'imported').length >= opts.limit)
          break outer;
        const ref: EpisodeRef = {
          taskId,
          episodeId: info.episode_id,
          file: proprioPath(taskId, info.episode_id),
        };
        const path = join(srcDir, ref.file);
        let mapped: MappedEpisode;
        try {
          if (!(await stat(path).catch(() => null))?.isFile()) throw new Skip('unreadable file (missing)');
          if (!(await hasHdf5Signature(path))) throw new Skip('unreadable file (not HDF5: no signature)');
          mapped = readEpisode(path, fps);
          if (features) {
            const want = features['observation.state']?.shape[0];
            const wantAction = features.action?.shape[0];
            if (mapped.stateNames.length !== want || mapped.actionNames.length !== wantAction)
              throw new Skip(
                `vector width ${mapped.stateNames.length}/${mapped.actionNames.length} differs from earlier episodes (${want}/${wantAction})`,
              );
          }
        } catch (err) {
          if (!(err instanceof Skip)) throw err;
          report({ ...ref, status: 'skipped', reason: err.message });
          continue;
        }
        if (!features) {
          features = {
            'observation.state': {
              dtype: 'float32',
              shape: [mapped.stateNames.length],
              names: mapped.stateNames,
            },
            action: { dtype: 'float32', shape: [mapped.actionNames.length], names: mapped.actionNames },
          };
          writer = await LeRobotWriter.create(outDir, { fps, robotType: robot, features });
        }
        const columns = { 'observation.state': mapped.state, action: mapped.action };
        const episode: RecordedEpisode = {
          meta: episodeMeta(taskId, info, mapped, fps, robot, columns),
          length: mapped.length,
          timestampsSec: mapped.timestampsSec,
          columns,
        };
        const episodeIndex = await (writer as LeRobotWriter).addEpisode(episode);
        report({ ...ref, status: 'imported', episodeIndex, frames: mapped.length });
      }
    }
    if (writer) await writer.close();
  } catch (err) {
    await writer?.abort();
    throw err;
  }
  const imported = reports.filter((r) => r.status === 'imported').length;
  return { outDir: writer ? outDir : null, imported, skipped: reports.length - imported, episodes: reports };
}
