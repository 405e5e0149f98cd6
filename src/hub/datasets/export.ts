/**
 * Materializes a frozen dataset version as a LeRobot v3.0 dataset (layout: src/data/lerobot/format.ts). The
 * version's episodes are taken one part per (split, source) and the parts merged in manifest order (dataset
 * surgery, src/data/lerobot/surgery.ts), so train comes first and val after it, and info.json's `splits`
 * names the two ranges as LeRobot expects ("0:n"). A part from a LeRobot source is filtered out of it; a
 * part from the hub's blob store (episodes fields uploaded) is written from the bundles, each re-hashed and
 * decoded (which re-checks its content id) on the way, so an export never carries a corrupted episode.
 *
 * Everything is written in a hidden sibling of `outDir` that is renamed into place last: `outDir` holds
 * either nothing or the complete dataset. The manifest goes along as meta/tg_dataset_version.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { INFO_PATH, type VectorFeatureSpec } from '../../data/lerobot/format.ts';
import { filterEpisodes, mergeDatasets } from '../../data/lerobot/surgery.ts';
import { LeRobotWriter } from '../../data/lerobot/writer.ts';
import { TgError } from '../../errors/index.ts';
import { decodeBundle, readBundleHeader } from '../../field/transfer/index.ts';
import { BlobStore } from '../blobs/index.ts';
import type { DatasetRow } from '../catalog/types.ts';
import type { DatasetManifest, ManifestEpisode, SplitName } from './manifest.ts';

export const MANIFEST_EXPORT_PATH = 'meta/tg_dataset_version.json';

export interface ExportResult {
  dir: string;
  name: string;
  version: number;
  episodes: number;
  frames: number;
  /** LeRobot `splits` as written to info.json, e.g. { train: "0:90", val: "90:100" }. */
  splits: Partial<Record<SplitName, string>>;
}

/** What an export needs to know about a source dataset (the catalog's row of it, as it is now). */
export type SourceDataset = Pick<DatasetRow, 'path' | 'storage' | 'fps' | 'robotType'>;

/** `source(dataset)`: the named source dataset as the catalog has it now (undefined when it is gone). */
export async function exportManifest(
  manifest: DatasetManifest,
  outDir: string,
  source: (dataset: string) => SourceDataset | undefined,
): Promise<ExportResult> {
  if (manifest.episodes.length === 0) {
    throw new TgError('INPUT_INVALID', `dataset ${manifest.name} v${manifest.version} holds no episodes`);
  }
  const out = path.resolve(outDir);
  if (await exists(out)) throw new TgError('INPUT_INVALID', `${out} already exists; choose a new directory`);
  await mkdir(path.dirname(out), { recursive: true });
  const staging = path.join(
    path.dirname(out),
    `.${path.basename(out)}.tg-export-${randomBytes(6).toString('hex')}`,
  );
  try {
    await mkdir(staging);
    const parts = partition(manifest.episodes);
    const partDirs: string[] = [];
    for (const [k, part] of parts.entries()) {
      const found = source(part.dataset);
      if (!found)
        throw new TgError('NOT_FOUND', `source dataset ${part.dataset} is no longer in the catalog`);
      const dir = path.join(staging, `part-${k}`);
      partDirs.push(dir);
      if (found.storage === 'blobs') {
        await writeFromBlobs(manifest, part.episodes, found, dir);
        continue;
      }
      const src = found.path;
      const wanted = new Map(part.episodes.map((e) => [e.episodeIndex, e.id]));
      const r = await filterEpisodes(src, dir, (ep) => {
        const id = wanted.get(ep.episodeIndex);
        if (id === undefined) return false;
        const onDisk = ep.tg?.id;
        if (typeof onDisk === 'string' && onDisk !== id) {
          throw new TgError(
            'INPUT_INVALID',
            `${src}: episode ${ep.episodeIndex} is ${onDisk}, but dataset ${manifest.name} v${manifest.version} expects ${id} there`,
          );
        }
        return true;
      });
      if (r.episodes !== part.episodes.length) {
        throw new TgError(
          'STORAGE_FAILED',
          `${src}: has ${r.episodes} of the ${part.episodes.length} episodes dataset ${manifest.name} v${manifest.version} takes from it`,
        );
      }
    }
    const built = path.join(staging, 'dataset');
    if (partDirs.length === 1) await rename(partDirs[0] as string, built);
    else await mergeDatasets(partDirs, built);

    const splits = lerobotSplits(manifest);
    const infoPath = path.join(built, INFO_PATH);
    const info = JSON.parse(await readFile(infoPath, 'utf8')) as Record<string, unknown>;
    info.splits = splits;
    await writeFile(infoPath, `${JSON.stringify(info, null, 4)}\n`);
    await writeFile(path.join(built, MANIFEST_EXPORT_PATH), `${JSON.stringify(manifest, null, 2)}\n`);

    if (await exists(out)) throw new TgError('INPUT_INVALID', `${out} appeared while exporting`);
    await rename(built, out);
    return {
      dir: out,
      name: manifest.name,
      version: manifest.version,
      episodes: manifest.counts.episodes,
      frames: manifest.counts.frames,
      splits,
    };
  } catch (err) {
    if (err instanceof TgError) throw err;
    throw new TgError(
      'STORAGE_FAILED',
      `exporting ${manifest.name} v${manifest.version}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Writes `episodes` (bundles in the blob store at `src.path`) as a LeRobot v3 dataset at `dir`. Features
 * come from the first bundle's header: its dimension names when the field sent them, else "dim0", ...
 */
async function writeFromBlobs(
  manifest: DatasetManifest,
  episodes: readonly ManifestEpisode[],
  src: SourceDataset,
  dir: string,
): Promise<void> {
  const blobs = new BlobStore(src.path);
  const what = `dataset ${manifest.name} v${manifest.version}`;
  let writer: LeRobotWriter | undefined;
  try {
    for (const e of episodes) {
      if (!e.blobSha256) {
        throw new TgError('STORAGE_FAILED', `${what}: episode ${e.id} names no bundle in the blob store`);
      }
      const bytes = await blobs.read(e.blobSha256).catch((err: unknown) => {
        throw new TgError('STORAGE_FAILED', `${what}: episode ${e.id}: ${(err as Error).message}`, {
          cause: err,
        });
      });
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== e.blobSha256) {
        throw new TgError(
          'STORAGE_FAILED',
          `${what}: the bundle of episode ${e.id} is corrupt (sha256 ${actual}, stored as ${e.blobSha256})`,
        );
      }
      let episode: ReturnType<typeof decodeBundle>;
      try {
        episode = decodeBundle(bytes);
      } catch (err) {
        throw new TgError('STORAGE_FAILED', `${what}: episode ${e.id}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (episode.meta.id !== e.id) {
        throw new TgError(
          'STORAGE_FAILED',
          `${what}: bundle ${e.blobSha256} holds ${episode.meta.id}, not ${e.id}`,
        );
      }
      if (!writer) {
        const features: Record<string, VectorFeatureSpec> = {};
        for (const f of lerobotOrder(readBundleHeader(bytes).header.features)) {
          const names = f.names ?? Array.from({ length: f.dim }, (_, i) => `dim${i}`);
          features[f.name] = { dtype: 'float32', shape: [f.dim], names };
        }
        writer = await LeRobotWriter.create(dir, { fps: src.fps, robotType: src.robotType, features });
      }
      await writer.addEpisode(episode);
    }
    if (!writer) throw new TgError('INPUT_INVALID', `${what}: no episodes to write`);
    await writer.close();
  } catch (err) {
    await writer?.abort();
    throw err;
  }
}

/**
 * Features in the order LeRobot datasets list them (observation.*, then action, then the rest), not the
 * bundle's name order, so a part written from bundles merges with datasets the recorder wrote.
 */
function lerobotOrder<F extends { name: string }>(features: readonly F[]): F[] {
  const rank = (name: string) => (name.startsWith('observation.') ? 0 : name === 'action' ? 1 : 2);
  return [...features].sort((a, b) => rank(a.name) - rank(b.name));
}

/** Consecutive runs of the manifest's episodes from one source within one split. */
function partition(episodes: readonly ManifestEpisode[]): { dataset: string; episodes: ManifestEpisode[] }[] {
  const parts: { dataset: string; split: SplitName; episodes: ManifestEpisode[] }[] = [];
  for (const e of episodes) {
    const last = parts[parts.length - 1];
    if (last && last.dataset === e.dataset && last.split === e.split) last.episodes.push(e);
    else parts.push({ dataset: e.dataset, split: e.split, episodes: [e] });
  }
  for (const p of parts) {
    // filterEpisodes keeps source order, so each part must already be in episode-index order.
    p.episodes.sort((a, b) => a.episodeIndex - b.episodeIndex);
  }
  return parts;
}

function lerobotSplits(m: DatasetManifest): Partial<Record<SplitName, string>> {
  const train = m.counts.train.episodes;
  const total = m.counts.episodes;
  const splits: Partial<Record<SplitName, string>> = {};
  if (train > 0) splits.train = `0:${train}`;
  if (total > train) splits.val = `${train}:${total}`;
  return splits;
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );
