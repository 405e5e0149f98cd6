/**
 * Importing an existing LeRobot v3.0 dataset (e.g. one downloaded from the Hugging Face hub) as a copy.
 *
 * `stageLeRobotImport` validates the source with the reader (every metadata file and every episode's
 * frames), then copies it into a hidden staging directory beside its destination. The caller commits it
 * (rename into place, then registers it) or discards it: until `commit`, nothing exists at `dest`.
 * Video features are copied as-is: their mp4 files are neither decoded nor checked.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TgError } from '../../errors/index.ts';
import { canonicalJson, computeEpisodeId, type EpisodeMeta, EpisodeMetaSchema } from '../episode.ts';
import { readLeRobotDataset } from './reader.ts';

/** One imported episode, with what the catalog records about it. */
export interface ImportedEpisode {
  /** The episode's content hash: Training Ground's own id when the dataset carries it, else computed. */
  id: string;
  episodeIndex: number;
  length: number;
  robot: string;
  embodimentHash: string;
  vendor: string;
  field: string;
  task: string;
  instruction: string;
  source: 'teleop' | 'mocap' | 'policy' | 'scripted';
  phase: 'orientation' | 'drill' | 'autonomy';
  /** null when the dataset does not label it. */
  success: boolean | null;
  seed: number;
}

export interface StagedImport {
  dest: string;
  fps: number;
  robotType: string;
  totalFrames: number;
  episodes: ImportedEpisode[];
  /** Video feature keys: copied as-is, not decoded or checked. */
  videoKeys: string[];
  /** Renames the staged copy to `dest` (which must still not exist). */
  commit(): Promise<void>;
  /** Removes the staged copy (and `dest`, once committed). */
  discard(): Promise<void>;
}

/** Labels for episodes of a dataset that Training Ground did not record (LeRobot knows none of them). */
const FOREIGN = {
  vendor: 'unknown',
  field: 'import',
  source: 'teleop',
  phase: 'orientation',
  seed: 0,
} as const;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Validates `src`, computes its episodes' catalog facts and copies it next to `dest` (not yet visible). */
export async function stageLeRobotImport(src: string, dest: string): Promise<StagedImport> {
  if (
    !(await stat(src).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    throw new TgError('NOT_FOUND', `${src}: no such dataset directory`);
  if (await exists(dest)) throw new TgError('STORAGE_FAILED', `${dest} already exists`);
  const ds = await readLeRobotDataset(src).catch((err: unknown) => {
    // the reader names the file relative to the dataset; say which dataset
    if (err instanceof TgError) throw new TgError(err.code, `${src}/${err.message}`, { cause: err });
    throw err;
  });
  const episodes: ImportedEpisode[] = [];
  try {
    const { info } = ds;
    const robotType = info.robot_type ?? 'unknown';
    const header = canonicalJson({ robot_type: robotType, fps: info.fps, features: info.features });
    for (const ep of ds.episodes) {
      // Reading the frames checks every data file against the metadata (the reader names the file).
      const frames = await ds.readEpisodeFrames(ep.episodeIndex).catch((err: unknown) => {
        if (err instanceof TgError) throw new TgError(err.code, `${src}/${err.message}`, { cause: err });
        throw err;
      });
      const tg = EpisodeMetaSchema.safeParse(ds.tgEpisodes?.[ep.episodeIndex]);
      const instruction = ep.tasks[0] ?? '';
      if (tg.success && tg.data.length === ep.length) {
        const m = tg.data;
        episodes.push({
          id: m.id,
          episodeIndex: ep.episodeIndex,
          length: ep.length,
          robot: m.robot,
          embodimentHash: m.embodimentHash,
          vendor: m.vendor,
          field: m.field,
          task: m.task,
          instruction: m.instruction,
          source: m.source,
          phase: m.phase,
          success: m.success,
          seed: m.seed,
        });
        continue;
      }
      // No Training Ground metadata: the content hash covers what the dataset says about the episode.
      const described = { dataset: header, episode_index: ep.episodeIndex, tasks: ep.tasks };
      const id = computeEpisodeId(
        described as unknown as Omit<EpisodeMeta, 'id'>,
        frames.columns,
        frames.timestamp,
      );
      episodes.push({
        id,
        episodeIndex: ep.episodeIndex,
        length: ep.length,
        robot: robotType,
        embodimentHash: robotType,
        ...FOREIGN,
        task: instruction.length > 0 ? instruction : robotType,
        instruction,
        success: null,
      });
    }
  } finally {
    ds.close();
  }
  const videoKeys = Object.entries(ds.info.features)
    .filter(([, spec]) => spec.dtype === 'video')
    .map(([name]) => name);

  await mkdir(dirname(dest), { recursive: true });
  const staging = join(
    dirname(dest),
    `.${basename(dest)}.import-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let committed = false;
  try {
    await cp(src, staging, { recursive: true, errorOnExist: true, force: false });
  } catch (cause) {
    await rm(staging, { recursive: true, force: true });
    throw new TgError('STORAGE_FAILED', `cannot copy ${src} to ${dest}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return {
    dest,
    fps: ds.info.fps,
    robotType: ds.info.robot_type ?? 'unknown',
    totalFrames: ds.info.total_frames,
    episodes,
    videoKeys,
    async commit() {
      if (await exists(dest)) throw new TgError('STORAGE_FAILED', `${dest} appeared while importing`);
      await rename(staging, dest);
      committed = true;
    },
    async discard() {
      await rm(staging, { recursive: true, force: true });
      if (committed) await rm(dest, { recursive: true, force: true });
    },
  };
}
