/**
 * Materializes a frozen dataset version as a LeRobot v3.0 dataset (layout: src/data/lerobot/format.ts),
 * through the dataset surgery in src/data/lerobot/surgery.ts: the version's episodes are filtered out of
 * each source dataset, one part per (split, source), and the parts merged in manifest order, so train comes
 * first and val after it, and info.json's `splits` names the two ranges as LeRobot expects ("0:n").
 *
 * Everything is written in a hidden sibling of `outDir` that is renamed into place last: `outDir` holds
 * either nothing or the complete dataset. The manifest goes along as meta/tg_dataset_version.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { INFO_PATH } from '../../data/lerobot/format.ts';
import { filterEpisodes, mergeDatasets } from '../../data/lerobot/surgery.ts';
import { TgError } from '../../errors/index.ts';
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

/** `sourcePath(dataset)`: where the named source dataset is on disk now (the catalog's datasets.path). */
export async function exportManifest(
  manifest: DatasetManifest,
  outDir: string,
  sourcePath: (dataset: string) => string | undefined,
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
      const src = sourcePath(part.dataset);
      if (!src) throw new TgError('NOT_FOUND', `source dataset ${part.dataset} is no longer in the catalog`);
      const dir = path.join(staging, `part-${k}`);
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
      partDirs.push(dir);
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
