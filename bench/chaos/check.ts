/**
 * The chaos benchmark's verdict on one network, taken after every process was stopped: the hub's catalog
 * and stored bundles against what was asked (every job's seeds) and what the fields recorded (their logs).
 *
 *   lost        episodes missing: a requested (field, seed) with no stored episode, or an id a field
 *               logged as spooled/delivered that the hub does not have (the larger of the two counts)
 *   duplicated  stored episodes beyond one per requested (field, seed)
 *   consistent  every catalog row names a blob, the blob store holds it with that sha256 and size, and it
 *               decodes to that very episode (content id, robot, seed, length); no two rows share a blob;
 *               the catalog holds no row of anything but the benchmark's fields, its episode counters
 *               (total and per robot) match its rows, episode indexes are dense and unique per dataset,
 *               every episode is in its field's dataset, the blob store holds no blob that no row names
 *               (an orphan: a bundle stored without its catalog commit, or a torn write), and each
 *               field's episodes, frozen and exported as LeRobot v3 (what a trainer reads), are exactly
 *               the catalog's
 *   settled     nothing left behind: no spooled or refused bundle, no journaled job at any field
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeBundle } from '../../src/field/transfer/index.ts';
import { BlobStore } from '../../src/hub/blobs/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { Datasets } from '../../src/hub/datasets/index.ts';
import { EpisodeIngest } from '../../src/hub/ingest/index.ts';
import { type ChaosNetwork, journaledJob, rejectedEntries, spoolEntries } from './network.ts';

export interface NetworkVerdict {
  episodesRequested: number;
  episodesSent: number;
  episodesStored: number;
  /** Blobs in the hub's store; those no catalog row names; temp files a killed write left in its tmp/. */
  blobs: number;
  orphanBlobs: number;
  tmpLeftovers: number;
  lost: number;
  duplicated: number;
  catalogConsistent: boolean;
  /** No bundle left in a spool or refused, no job journaled as in progress at any field. */
  settled: boolean;
  /** What is wrong, when something is (the first few). */
  problems: string[];
}

const MAX_PROBLEMS = 20;

export async function checkNetwork(net: ChaosNetwork): Promise<NetworkVerdict> {
  // Three kinds: the catalog disagrees with the stored data; something was left behind; lost or doubled.
  const inconsistencies: string[] = [];
  const leftovers: string[] = [];
  const delivery: string[] = [];
  const problem = (p: string) => inconsistencies.push(p);
  const fieldNames = net.opts.fields.map((f) => f.name);

  for (const name of fieldNames) {
    const home = net.fieldHome(name);
    const waiting = spoolEntries(home);
    if (waiting) leftovers.push(`field ${name}: ${waiting} bundle(s) still in its spool`);
    const refused = rejectedEntries(home);
    if (refused) leftovers.push(`field ${name}: the hub refused ${refused} bundle(s) for good`);
    const job = journaledJob(home);
    if (job) leftovers.push(`field ${name}: job ${job} still journaled as in progress`);
  }

  const catalog = await Catalog.open(
    net.opts.databaseUrl
      ? { databaseUrl: net.opts.databaseUrl }
      : { dataDir: path.join(net.hubHome, 'catalog') },
  );
  const ingest = await EpisodeIngest.open({ catalog, dir: path.join(net.hubHome, 'hub') });
  try {
    const rows = await catalog.selectEpisodes({ field: fieldNames });
    const counts = await catalog.counts();
    if (counts.episodes !== rows.length) {
      problem(
        `the catalog counts ${counts.episodes} episodes, the benchmark's fields have ${rows.length} rows`,
      );
    }
    const perRobot = new Map<string, number>();
    for (const row of rows) perRobot.set(row.robotId, (perRobot.get(row.robotId) ?? 0) + 1);
    for (const robot of await catalog.listRobots()) {
      const n = perRobot.get(robot.id) ?? 0;
      if (robot.episodeCount !== n)
        problem(`robot ${robot.id}: counted ${robot.episodeCount} episodes, has ${n} rows`);
    }
    const blobOf = new Map<string, string>(); // sha256 -> episode id
    const byPair = new Map<string, number>();
    const storedIds = new Set<string>();
    const indexes = new Map<string, number[]>();
    for (const row of rows) {
      storedIds.add(row.id);
      const pair = `${row.field}:${row.seed}`;
      byPair.set(pair, (byPair.get(pair) ?? 0) + 1);
      const list = indexes.get(row.datasetName) ?? [];
      list.push(row.episodeIndex);
      indexes.set(row.datasetName, list);
      if (row.datasetName !== `${row.field}-arm7`) {
        problem(`episode ${row.id} of field ${row.field} is in dataset ${row.datasetName}`);
      }
      const stored = await ingest.lookup(row.id);
      if (!stored?.sha256) {
        problem(`episode ${row.id}: the catalog row names no blob`);
        continue;
      }
      const other = blobOf.get(stored.sha256);
      if (other) problem(`episodes ${other} and ${row.id} name the same blob ${stored.sha256}`);
      blobOf.set(stored.sha256, row.id);
      let bytes: Uint8Array;
      try {
        bytes = await ingest.blobs.read(stored.sha256);
      } catch (err) {
        problem(`episode ${row.id}: bundle ${stored.sha256} unreadable: ${(err as Error).message}`);
        continue;
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== stored.sha256) {
        problem(`episode ${row.id}: bundle ${stored.sha256} reads back with sha256 ${sha256}`);
      }
      if (stored.bytes !== bytes.length) {
        problem(`episode ${row.id}: bundle has ${bytes.length} bytes, the catalog says ${stored.bytes}`);
      }
      try {
        const { meta, length } = decodeBundle(bytes);
        const got = [meta.id, meta.robot, meta.seed, length].join(' ');
        const want = [row.id, row.robotId, row.seed, row.length].join(' ');
        if (got !== want) problem(`episode ${row.id}: bundle holds ${got}, catalog row says ${want}`);
      } catch (err) {
        problem(`episode ${row.id}: bundle does not decode: ${(err as Error).message}`);
      }
    }
    for (const [dataset, list] of indexes) {
      const sorted = [...list].sort((a, b) => a - b);
      if (!sorted.every((v, i) => v === i)) {
        problem(`dataset ${dataset}: episode indexes are not 0..${list.length - 1}: ${sorted.join(',')}`);
      }
    }

    const store = path.join(net.hubHome, 'hub', 'blobs');
    const blobFiles = (await new BlobStore(store).list()).map((b) => b.sha256);
    const orphans = blobFiles.filter((b) => !blobOf.has(b));
    // A write killed before its rename leaves a temp file: garbage, never read, not a stored blob.
    const tmpLeftovers = (await readdir(path.join(store, 'tmp')).catch(() => [])).length;
    for (const b of orphans.slice(0, 5)) problem(`blob ${b} is in the store, no catalog row names it`);

    await checkExports(catalog, fieldNames, rows, problem);

    const requested = new Set(net.requested.map((r) => `${r.field}:${r.seed}`));
    let duplicated = 0;
    for (const [pair, n] of byPair) {
      if (n > 1) {
        duplicated += n - 1;
        delivery.push(`${pair} stored ${n} times`);
      }
      if (!requested.has(pair)) problem(`${pair} stored but never requested`);
    }
    const lostPairs = [...requested].filter((p) => !byPair.has(p));
    const lostIds = [...net.recorded.keys()].filter((id) => !storedIds.has(id));
    for (const p of lostPairs) delivery.push(`${p} requested, not stored`);
    for (const id of lostIds) delivery.push(`episode ${id} recorded by ${net.recorded.get(id)}, not stored`);

    return {
      episodesRequested: requested.size,
      episodesSent: net.recorded.size,
      episodesStored: rows.length,
      blobs: blobFiles.length,
      orphanBlobs: orphans.length,
      tmpLeftovers,
      lost: Math.max(lostPairs.length, lostIds.length),
      duplicated,
      catalogConsistent: inconsistencies.length === 0,
      settled: leftovers.length === 0,
      problems: [...inconsistencies, ...leftovers, ...delivery].slice(0, MAX_PROBLEMS),
    };
  } finally {
    await ingest.close();
    await catalog.close();
  }
}

/** Each field's episodes frozen and exported as LeRobot v3: the export holds exactly the catalog's ids. */
async function checkExports(
  catalog: Catalog,
  fields: string[],
  rows: Array<{ id: string; field: string }>,
  problem: (p: string) => void,
): Promise<void> {
  const datasets = new Datasets(catalog);
  const out = await mkdtemp(path.join(os.tmpdir(), 'tg-chaos-export-'));
  try {
    for (const field of fields) {
      const want = rows.filter((r) => r.field === field).map((r) => r.id);
      if (want.length === 0) continue;
      const name = `chaos-check-${field}-${Date.now().toString(36)}`;
      try {
        await datasets.create(name, { field });
        await datasets.freeze(name);
        const result = await datasets.export(name, undefined, path.join(out, name));
        const lines = (await readFile(path.join(result.dir, 'meta/tg_episodes.jsonl'), 'utf8'))
          .trim()
          .split('\n');
        const got = lines.map((l) => (JSON.parse(l) as { id: string }).id);
        if (result.episodes !== want.length || got.length !== want.length) {
          problem(`field ${field}: export holds ${got.length} episodes, the catalog ${want.length}`);
        }
        const missing = want.filter((id) => !got.includes(id));
        if (missing.length)
          problem(`field ${field}: ${missing.length} catalog episode(s) missing from its export`);
      } catch (err) {
        problem(`field ${field}: freezing and exporting its episodes failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
