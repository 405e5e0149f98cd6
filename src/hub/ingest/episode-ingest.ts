/**
 * The hub's side of episode transfer: takes a bundle (over HTTP or NATS), verifies its transfer checksum
 * and content, stores it in the dataset of its field and robot type, and registers it in the catalog.
 *
 * On disk, under `dir`:
 *   pending/<id>.tgep                                  a verified bundle whose catalog commit is under way
 *   datasets/<field>-<embodiment>/episodes/<index>-<id>.tgep   committed: the dataset's episode log
 *
 * A bundle is renamed into its dataset only after `insertEpisodes` committed, so "the file is in the
 * dataset" implies "the catalog has the row"; `has()` answers from the committed files. A crash between
 * the two leaves a pending file, and the re-sent bundle finishes the job (the catalog skips a known id).
 * Ingests run one at a time so episode indexes are dense and in arrival order.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import { decodeBundle, readBundleHeader } from '../../field/transfer/index.ts';
import type { Catalog, RobotRow } from '../catalog/index.ts';

export interface EpisodeIngestOptions {
  catalog: Catalog;
  /** Where bundles and the per-dataset episode logs live, normally `<TG_HOME>/hub`. */
  dir: string;
  /** Largest bundle accepted (default 256 MiB). */
  maxBundleBytes?: number;
}

export interface StoredBundle {
  id: string;
  dataset: string;
  episodeIndex: number;
  bytes: number;
  file: string;
}

export type IngestStatus = 'stored' | 'already stored';

export interface IngestResult extends StoredBundle {
  status: IngestStatus;
}

const COMMITTED_NAME = /^(\d{9})-([0-9a-f]{64})\.tgep$/;

export class EpisodeIngest {
  readonly maxBundleBytes: number;
  private readonly catalog: Catalog;
  private readonly dir: string;
  private readonly stored = new Map<string, StoredBundle>();
  private readonly nextIndex = new Map<string, number>();
  private readonly registered = new Set<string>();
  private robots = new Map<string, RobotRow>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: EpisodeIngestOptions) {
    this.catalog = opts.catalog;
    this.dir = opts.dir;
    this.maxBundleBytes = opts.maxBundleBytes ?? 256 * 1024 * 1024;
  }

  /** Opens the store and indexes the committed bundles of every dataset. */
  static open(opts: EpisodeIngestOptions): EpisodeIngest {
    const ingest = new EpisodeIngest(opts);
    const datasets = path.join(ingest.dir, 'datasets');
    mkdirSync(path.join(ingest.dir, 'pending'), { recursive: true });
    mkdirSync(datasets, { recursive: true });
    for (const dataset of readdirSync(datasets)) {
      const episodes = path.join(datasets, dataset, 'episodes');
      let names: string[];
      try {
        names = readdirSync(episodes);
      } catch {
        continue;
      }
      let next = 0;
      for (const name of names) {
        const m = COMMITTED_NAME.exec(name);
        if (!m) continue;
        const file = path.join(episodes, name);
        const episodeIndex = Number(m[1]);
        ingest.stored.set(m[2] as string, {
          id: m[2] as string,
          dataset,
          episodeIndex,
          bytes: statSync(file).size,
          file,
        });
        next = Math.max(next, episodeIndex + 1);
      }
      ingest.nextIndex.set(dataset, next);
    }
    return ingest;
  }

  /** The committed bundle of episode `id`, or null when the hub does not have it. */
  has(id: string): StoredBundle | null {
    return this.stored.get(id) ?? null;
  }

  /** Directory of a dataset's episode log. */
  datasetDir(dataset: string): string {
    return path.join(this.dir, 'datasets', dataset);
  }

  /**
   * Verifies and stores one bundle. `expected.sha256` is the sender's transfer checksum and `expected.id`
   * the episode id it addressed (both checked when given). Throws `INPUT_INVALID` for a bundle that lies
   * or is malformed and `NOT_FOUND` for an episode of a robot the catalog does not know; nothing is
   * stored in either case.
   */
  ingest(bundle: Uint8Array, expected: { sha256?: string; id?: string } = {}): Promise<IngestResult> {
    const run = this.queue.then(() => this.ingestNow(bundle, expected));
    this.queue = run.catch(() => {});
    return run;
  }

  private async ingestNow(
    bundle: Uint8Array,
    expected: { sha256?: string; id?: string },
  ): Promise<IngestResult> {
    if (bundle.byteLength > this.maxBundleBytes) {
      throw new TgError(
        'INPUT_INVALID',
        `bundle of ${bundle.byteLength} bytes exceeds ${this.maxBundleBytes}`,
      );
    }
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    if (expected.sha256 !== undefined && expected.sha256.toLowerCase() !== sha256) {
      throw new TgError(
        'INPUT_INVALID',
        `checksum mismatch: sender says sha256 ${expected.sha256}, body has ${sha256}`,
      );
    }
    const episode = decodeBundle(bundle); // re-computes the content id: throws on any lie
    const { header } = readBundleHeader(bundle);
    const { meta } = episode;
    if (expected.id !== undefined && expected.id !== meta.id) {
      throw new TgError('INPUT_INVALID', `bundle holds episode ${meta.id}, not ${expected.id}`);
    }
    const known = this.stored.get(meta.id);
    if (known) return { ...known, status: 'already stored' };

    const robot = await this.robot(meta.robot);
    if (!robot) {
      throw new TgError(
        'NOT_FOUND',
        `episode ${meta.id} is from robot ${meta.robot}, which no field has registered`,
      );
    }
    if (robot.field !== meta.field) {
      throw new TgError(
        'INPUT_INVALID',
        `robot ${meta.robot} belongs to field ${robot.field}, not ${meta.field}`,
      );
    }
    if (robot.embodimentHash !== meta.embodimentHash) {
      throw new TgError(
        'INPUT_INVALID',
        `episode ${meta.id} ran embodiment ${meta.embodimentHash}, robot ${meta.robot} is registered with ${robot.embodimentHash}`,
      );
    }

    const dataset = datasetName(meta.field, robot.embodiment);
    const pending = path.join(this.dir, 'pending', `${meta.id}.tgep`);
    await writeDurably(pending, bundle);
    if (!this.registered.has(dataset)) {
      await this.catalog.registerDataset({
        name: dataset,
        path: this.datasetDir(dataset),
        fps: meta.fps,
        robotType: robot.embodiment,
      });
      mkdirSync(path.join(this.datasetDir(dataset), 'episodes'), { recursive: true });
      this.registered.add(dataset);
    }
    const episodeIndex = this.nextIndex.get(dataset) ?? 0;
    const result = await this.catalog.insertEpisodes(dataset, [
      {
        id: meta.id,
        robotId: meta.robot,
        episodeIndex,
        task: meta.task,
        instruction: meta.instruction,
        source: meta.source,
        phase: meta.phase,
        success: meta.success === true,
        seed: meta.seed,
        length: meta.length,
        durationSec: meta.length / meta.fps,
        recordedAt: header.recordedAt ?? new Date(),
      },
    ]);
    const file = path.join(
      this.datasetDir(dataset),
      'episodes',
      `${String(episodeIndex).padStart(9, '0')}-${meta.id}.tgep`,
    );
    await rename(pending, file);
    await syncDir(path.dirname(file));
    this.nextIndex.set(dataset, episodeIndex + 1);
    const stored: StoredBundle = { id: meta.id, dataset, episodeIndex, bytes: bundle.byteLength, file };
    this.stored.set(meta.id, stored);
    // inserted 0: the catalog had the row already (a crash after the commit, before the rename).
    return { ...stored, status: result.inserted === 1 ? 'stored' : 'already stored' };
  }

  private async robot(id: string): Promise<RobotRow | undefined> {
    let robot = this.robots.get(id);
    if (!robot) {
      this.robots = new Map((await this.catalog.listRobots()).map((r) => [r.id, r]));
      robot = this.robots.get(id);
    }
    return robot;
  }

  /** Forgets cached robots (after a field (re)registers them). */
  robotsChanged(): void {
    this.robots.clear();
  }
}

/** The hub keeps one dataset per field and robot type. */
export function datasetName(field: string, embodiment: string): string {
  return `${field}-${embodiment}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
