/**
 * The hub's side of episode transfer: takes bundles (over HTTP or NATS, one or a batch at a time), verifies
 * each one's transfer checksum and content id, stores it in the content-addressed blob store and registers
 * it in the catalog, in the dataset of its field and robot type.
 *
 *   <dir>/blobs/packs/<name>.pack   the stored bundles, named by their sha256, a pack per commit group
 *                                   (src/hub/blobs)
 *
 * Exactly once: the episode id is the content hash of the episode, the catalog's primary key. An upload
 * is verified completely before anything is written, so a bundle that lies or is malformed leaves no
 * trace. A new episode's blob is written (and fsync'd) first and its catalog row committed after, so "the
 * catalog has the row" implies "the blob is there"; a crash in between leaves an unreferenced copy, and the
 * re-sent bundle is stored again (in a new pack) and committed. A re-sent episode the catalog has is
 * answered from the catalog and stores nothing.
 *
 * Verification (hashes, header, content id) and blob writes run in worker threads (./bundle-workers.ts),
 * so the thread that serves the API only parses HTTP and talks to the catalog. Group commit: uploads
 * queue in arrival order; a committer takes what is queued a group at a time (up to `maxCommitEpisodes`),
 * has the new blobs written while the group before it commits, and commits each group's rows in one
 * catalog transaction. Episode indexes are dense per dataset and follow arrival order.
 */
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import type { BatchEntry } from '../../field/transfer/index.ts';
import { BlobStore } from '../blobs/index.ts';
import type { Catalog, EpisodeGroup, EpisodeRow, RobotRow } from '../catalog/index.ts';
import { BundleWorkers, UploadRefused, type WritePart } from './bundle-workers.ts';
import type { BundleUpload, VerifiedUpload } from './verify.ts';

export type { BundleUpload } from './verify.ts';

export interface EpisodeIngestOptions {
  catalog: Catalog;
  /** The hub's storage, normally `<TG_HOME>/hub`; bundles go to the blob store in `<dir>/blobs`. */
  dir: string;
  /** Largest bundle accepted (default 256 MiB). */
  maxBundleBytes?: number;
  /** fsync each new blob and its directory before the catalog commit (default true). */
  durable?: boolean;
  /** Most episodes one catalog transaction takes (default 128). */
  maxCommitEpisodes?: number;
  /** Threads that verify bundles and write blobs (default 1; 0: the calling thread). */
  threads?: number;
}

/** `handOver`: the caller never reads the bundles' bytes again, so they may be moved, not copied. */
export interface HandOver {
  handOver?: boolean;
}

/** An episode the hub has. `sha256` names its bundle in the blob store; null for one not stored as a blob. */
export interface StoredEpisode {
  id: string;
  dataset: string;
  episodeIndex: number;
  sha256: string | null;
  bytes: number | null;
}

export type IngestStatus = 'stored' | 'already stored';

export interface IngestResult extends StoredEpisode {
  status: IngestStatus;
}

interface Unit {
  size: number;
  /** The ids the sender claimed, for error messages. */
  claims: Array<string | undefined>;
  /** Started when the unit arrived; its ticket names the verified bytes in the workers. */
  verification: Promise<{ ticket: number; verified: VerifiedUpload[] }>;
  /** How a failure names an upload: "" for a single one, "episode 3 of 8 (<id>): " in a batch. */
  label: (i: number) => string;
  resolve: (results: IngestResult[]) => void;
  reject: (err: unknown) => void;
}

interface Group {
  units: Array<{ unit: Unit; ticket: number; verified: VerifiedUpload[]; datasets: string[] }>;
  /** Every upload of the group in order, with its dataset. */
  items: Array<{ u: VerifiedUpload; dataset: string }>;
  /** Episodes of the group that the catalog already had. */
  known: Map<string, StoredEpisode>;
}

const DEFAULT_MAX_BUNDLE_BYTES = 256 * 1024 * 1024;
/** A catalog insert blocks the thread that serves the API while it runs: keep each one short. */
const DEFAULT_MAX_COMMIT_EPISODES = 128;
/** Episodes committed lately, answered without the catalog (a field's resume check asks about these). */
const RECENT_EPISODES = 20_000;
/** An unknown robot reloads the robot list at most this often (unless a field registered meanwhile). */
const ROBOT_RELOAD_MS = 1000;

export class EpisodeIngest {
  readonly maxBundleBytes: number;
  readonly blobs: BlobStore;
  private readonly catalog: Catalog;
  private readonly durable: boolean;
  private readonly maxCommitEpisodes: number;
  private readonly workers: BundleWorkers;
  /** Registered datasets by name (storage and fps), and the next episode index of the ones seen. */
  private datasets = new Map<string, { storage: string; fps: number }>();
  private readonly nextIndex = new Map<string, number>();
  private robots = new Map<string, RobotRow>();
  private robotsLoadedAt = Number.NEGATIVE_INFINITY;
  private robotsStale = true;
  private readonly recent = new Map<string, StoredEpisode>();
  private readonly queue: Unit[] = [];
  private committing: Promise<void> | null = null;

  private constructor(opts: EpisodeIngestOptions) {
    this.catalog = opts.catalog;
    this.maxBundleBytes = opts.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    this.durable = opts.durable ?? true;
    this.maxCommitEpisodes = opts.maxCommitEpisodes ?? DEFAULT_MAX_COMMIT_EPISODES;
    this.blobs = new BlobStore(path.join(opts.dir, 'blobs'), { maxBytes: this.maxBundleBytes });
    this.workers = new BundleWorkers({
      threads: opts.threads ?? 1,
      store: this.blobs,
      maxBundleBytes: this.maxBundleBytes,
    });
  }

  static async open(opts: EpisodeIngestOptions): Promise<EpisodeIngest> {
    const ingest = new EpisodeIngest(opts);
    // A hub killed during a write left a partial file behind; nothing writes before the ingest opens.
    await ingest.blobs.removeLeftovers();
    ingest.workers.warm();
    ingest.datasets = new Map(
      (await ingest.catalog.listDatasets()).map((d) => [d.name, { storage: d.storage, fps: d.fps }]),
    );
    return ingest;
  }

  /** The episode if the hub has it (from the catalog), else null. */
  async lookup(id: string): Promise<StoredEpisode | null> {
    const recent = this.recent.get(id);
    if (recent) return recent;
    const [row] = await this.catalog.getEpisodes([id]);
    return row ? this.stored(row) : null;
  }

  /**
   * Verifies and stores one bundle; resolves once its catalog row is committed. Throws `INPUT_INVALID` for
   * a bundle that lies or is malformed and `NOT_FOUND` for an episode of a robot the catalog does not
   * know; nothing is stored in either case.
   */
  async ingest(
    bundle: Uint8Array,
    expected: { sha256?: string; id?: string } = {},
    opts: HandOver = {},
  ): Promise<IngestResult> {
    const [result] = await this.enqueue([{ bundle, ...expected }], () => '', opts);
    return result as IngestResult;
  }

  /**
   * Verifies and stores a batch, in order. All or nothing: when any upload is bad (or its robot unknown)
   * the whole batch is refused, naming the upload, and nothing of it is stored.
   */
  ingestBatch(uploads: readonly (BundleUpload | BatchEntry)[], opts: HandOver = {}): Promise<IngestResult[]> {
    const n = uploads.length;
    return this.enqueue(uploads, (i) => (n === 1 ? '' : `episode ${i + 1} of ${n}: `), opts);
  }

  /** Forgets cached robots (after a field (re)registers them). */
  robotsChanged(): void {
    this.robotsStale = true;
  }

  /** Resolves when everything queued so far is committed (or failed). */
  async settled(): Promise<void> {
    while (this.committing) await this.committing;
  }

  /** Finishes what is queued and stops the verification threads. */
  async close(): Promise<void> {
    await this.settled();
    await this.workers.close();
  }

  /** Queues a unit in arrival order; its verification starts now, on a worker thread. */
  private enqueue(
    uploads: readonly BundleUpload[],
    label: (i: number) => string,
    opts: HandOver,
  ): Promise<IngestResult[]> {
    if (uploads.length === 0) return Promise.reject(new TgError('INPUT_INVALID', 'no episodes to ingest'));
    return new Promise((resolve, reject) => {
      const verification = this.workers.verify(uploads, opts.handOver === true);
      verification.catch(() => {}); // awaited by the committer, in turn
      this.queue.push({
        size: uploads.length,
        claims: uploads.map((u) => u.id),
        verification,
        label,
        resolve,
        reject,
      });
      this.committing ??= this.commitLoop();
    });
  }

  /**
   * Takes the queue a group at a time. A group is prepared (robots checked, duplicates looked up, blobs
   * written) while the group before it is still committing its catalog rows, so the blob writes' I/O waits
   * overlap the catalog's work; rows are committed strictly in queue order.
   */
  private async commitLoop(): Promise<void> {
    let previous: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        if (this.queue.length === 0) {
          await previous;
          if (this.queue.length === 0) return;
        }
        const units: Unit[] = [];
        let episodes = 0;
        while (this.queue.length > 0 && (units.length === 0 || episodes < this.maxCommitEpisodes)) {
          const unit = this.queue.shift() as Unit;
          units.push(unit);
          episodes += unit.size;
        }
        const prepared = this.prepare(units);
        const before = previous;
        previous = prepared.then(async (group) => {
          await before;
          // The insert blocks this thread while it runs: let the requests waiting on it go first.
          await new Promise((resolve) => setImmediate(resolve));
          if (group) await this.commit(group);
        });
        await prepared; // at most one group prepares ahead of the one committing
      }
    } finally {
      this.committing = null;
    }
  }

  /**
   * Waits for the units' verification, checks robots, finds what the catalog already has and has the new
   * blobs written; null when no unit is left.
   */
  private async prepare(all: Unit[]): Promise<Group | null> {
    const units: Group['units'] = [];
    for (const unit of all) {
      let ticket: number | null = null;
      try {
        const v = await unit.verification;
        ticket = v.ticket;
        units.push({ unit, ticket, verified: v.verified, datasets: await this.placeUnit(unit, v.verified) });
      } catch (err) {
        // A unit with a bad bundle or an unknown or mismatched robot is refused whole; the others go on.
        if (ticket !== null) this.workers.drop(ticket);
        unit.reject(
          err instanceof UploadRefused
            ? relabel(err.error, unit.label(err.index), unit.claims[err.index])
            : err,
        );
      }
    }
    if (units.length === 0) return null;
    const group: Group = {
      units,
      items: units.flatMap(({ verified, datasets }) =>
        verified.map((u, i) => ({ u, dataset: datasets[i] as string })),
      ),
      known: new Map(),
    };
    let written = false;
    try {
      // The first upload of an id in the group is the one stored; later ones, and ids the hub has, are
      // answered as already stored.
      const ids = [...new Set(group.items.map((f) => f.u.id))].filter((id) => !this.recent.has(id));
      for (const r of await this.catalog.getEpisodes(ids)) group.known.set(r.id, this.stored(r));
      const seen = new Set<string>();
      const parts: WritePart[] = [];
      for (const { ticket, verified } of units) {
        const fresh: number[] = [];
        for (const [i, u] of verified.entries()) {
          if (seen.has(u.id) || group.known.has(u.id) || this.recent.has(u.id)) continue;
          seen.add(u.id);
          fresh.push(i);
        }
        if (fresh.length === 0) this.workers.drop(ticket);
        else parts.push({ ticket, indexes: fresh });
      }
      written = true;
      await this.workers.write(parts, this.durable);
      return group;
    } catch (err) {
      if (!written) for (const { ticket } of units) this.workers.drop(ticket);
      this.fail(group, err);
      return null;
    }
  }

  /** Commits the group's new rows in one transaction and answers every upload of it. */
  private async commit(group: Group): Promise<void> {
    try {
      const inserts = new Map<string, EpisodeGroup>();
      const fresh = new Map<string, StoredEpisode>();
      for (const { u, dataset } of group.items) {
        // `recent` also holds what the group before this one committed after this group looked ids up.
        if (fresh.has(u.id) || group.known.has(u.id) || this.recent.has(u.id)) continue;
        let insert = inserts.get(dataset);
        if (!insert) {
          insert = { dataset, episodes: [] };
          inserts.set(dataset, insert);
        }
        const episodeIndex = (await this.next(dataset)) + insert.episodes.length;
        insert.episodes.push({ ...u.episode, episodeIndex });
        fresh.set(u.id, {
          id: u.id,
          dataset,
          episodeIndex,
          sha256: u.sha256,
          bytes: u.bytes,
        });
      }
      if (fresh.size > 0) {
        // Each episode is its own upload, idempotent by id: the group need not commit all or none. If it
        // fails part way, the indexes handed out are read afresh (some rows may have committed).
        const { inserted } = await this.catalog
          .insertEpisodeGroups([...inserts.values()], { atomic: false })
          .catch((err: unknown) => {
            for (const d of inserts.keys()) this.nextIndex.delete(d);
            throw err;
          });
        if (inserted !== fresh.size) {
          // Another writer (a second hub on the same PostgreSQL) added some of these meanwhile: answer
          // from the catalog, and read the datasets' next indexes afresh.
          for (const d of inserts.keys()) this.nextIndex.delete(d);
          for (const r of await this.catalog.getEpisodes([...fresh.keys()])) {
            group.known.set(r.id, this.stored(r));
          }
          fresh.clear();
        } else {
          for (const insert of inserts.values()) {
            this.nextIndex.set(insert.dataset, (await this.next(insert.dataset)) + insert.episodes.length);
          }
          for (const e of fresh.values()) this.remember(e);
        }
      }
      let at = 0;
      for (const { unit } of group.units) {
        const results = group.items.slice(at, at + unit.size).map(({ u }): IngestResult => {
          const mine = fresh.get(u.id);
          if (mine) {
            fresh.delete(u.id); // only the first upload of an id stored it
            return { ...mine, status: 'stored' };
          }
          const had = group.known.get(u.id) ?? this.recent.get(u.id);
          if (!had) {
            throw new TgError('STORAGE_FAILED', `episode ${u.id} is not in the catalog after its commit`);
          }
          return { ...had, status: 'already stored' };
        });
        at += unit.size;
        unit.resolve(results);
      }
    } catch (err) {
      this.fail(group, err);
    }
  }

  private fail(group: Group, err: unknown): void {
    const failure =
      err instanceof TgError
        ? err
        : new TgError('STORAGE_FAILED', `ingest: ${(err as Error).message}`, { cause: err });
    for (const { unit } of group.units) unit.reject(failure);
  }

  /** Keeps a committed episode in the recent index (the oldest is forgotten past `RECENT_EPISODES`). */
  private remember(e: StoredEpisode): void {
    this.recent.delete(e.id);
    this.recent.set(e.id, e);
    if (this.recent.size > RECENT_EPISODES) this.recent.delete(this.recent.keys().next().value as string);
  }

  /** Checks each upload's robot and picks its dataset (registering new datasets). */
  private async placeUnit(unit: Unit, verified: VerifiedUpload[]): Promise<string[]> {
    const datasets: string[] = [];
    for (const [i, u] of verified.entries()) {
      const robot = await this.robot(u.robot);
      const where = unit.label(i);
      if (!robot) {
        throw new TgError(
          'NOT_FOUND',
          `${where}episode ${u.id} is from robot ${u.robot}, which no field has registered`,
        );
      }
      if (robot.field !== u.field) {
        throw new TgError(
          'INPUT_INVALID',
          `${where}robot ${u.robot} belongs to field ${robot.field}, not ${u.field}`,
        );
      }
      if (robot.embodimentHash !== u.embodimentHash) {
        throw new TgError(
          'INPUT_INVALID',
          `${where}episode ${u.id} ran embodiment ${u.embodimentHash}, robot ${u.robot} is registered with ${robot.embodimentHash}`,
        );
      }
      datasets.push(await this.datasetFor(u.field, robot.embodiment, u.fps));
    }
    return datasets;
  }

  /**
   * The hub keeps one dataset per field, robot type and frame rate: `<field>-<embodiment>`, or with the
   * rate appended when that name is taken by another rate or by a dataset that is not the hub's own.
   */
  private async datasetFor(field: string, embodiment: string, fps: number): Promise<string> {
    const base = datasetName(field, embodiment);
    for (const name of [base, `${base}-${fps}fps`, `${base}-${fps}fps-hub`]) {
      const known = this.datasets.get(name);
      if (known && (known.storage !== 'blobs' || known.fps !== fps)) continue;
      if (!known) {
        await this.catalog.registerDataset({
          name,
          path: this.blobs.root,
          fps,
          robotType: embodiment,
          storage: 'blobs',
        });
        this.datasets.set(name, { storage: 'blobs', fps });
      }
      return name;
    }
    throw new TgError(
      'STORAGE_FAILED',
      `no free dataset name for field ${field}, ${embodiment} at ${fps} fps`,
    );
  }

  private async next(dataset: string): Promise<number> {
    let n = this.nextIndex.get(dataset);
    if (n === undefined) {
      n = await this.catalog.nextEpisodeIndex(dataset);
      this.nextIndex.set(dataset, n);
    }
    return n;
  }

  private stored(row: EpisodeRow): StoredEpisode {
    const sha256 = row.blobSha256 ?? null;
    return {
      id: row.id,
      dataset: row.datasetName,
      episodeIndex: row.episodeIndex,
      sha256,
      bytes: row.blobBytes ?? null,
    };
  }

  private async robot(id: string): Promise<RobotRow | undefined> {
    let robot = this.robots.get(id);
    const now = Date.now();
    // A registration marks the cache stale (a robot may have moved or changed embodiment); an unknown robot
    // reloads it at most every ROBOT_RELOAD_MS (a field registering through another hub process).
    if (this.robotsStale || (!robot && now - this.robotsLoadedAt > ROBOT_RELOAD_MS)) {
      this.robotsStale = false;
      this.robotsLoadedAt = now;
      this.robots = new Map((await this.catalog.listRobots()).map((r) => [r.id, r]));
      robot = this.robots.get(id);
    }
    return robot;
  }
}

/** The hub keeps one dataset per field and robot type. */
export function datasetName(field: string, embodiment: string): string {
  return `${field}-${embodiment}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

function relabel(err: unknown, label: string, claimedId: string | undefined): unknown {
  if (!label || !(err instanceof TgError)) return err;
  const id = claimedId ? ` (${claimedId})` : '';
  return new TgError(err.code, `${label.replace(/: $/, '')}${id}: ${err.message}`, { cause: err });
}
