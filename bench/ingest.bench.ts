/**
 * Hub ingest throughput: episodes streamed from N field processes into a hub process over loopback while a
 * separate process loads the hub's API at a fixed rate. Every process is real: the hub is
 * `startNetworkHub` (what `tg hub start` runs: Fastify, PGlite catalog, blob store); each field records
 * 500-frame episodes into its durable spool and drains it with the field's uploader and transport (HTTP
 * batches by default, or NATS JetStream); the load generator sends 500 requests/s of resume checks,
 * bundle downloads, episode pages, per-robot and catalog totals and dataset lists, most of them answered
 * by the catalog (bench/ingest/load.child.ts), and reports the rate it achieved. The fields stand for
 * machines of their own; sharing the hub's cores here, they run at nice `fieldNice` (10) so that they use
 * what the hub and the API client leave rather than taking an equal share from them (`--fieldNice 0`:
 * equals).
 *
 * Nothing is assumed delivered: afterwards the hub is stopped and the catalog and blob store are opened
 * and checked against the ids each field recorded. `lost` counts recorded episodes without a catalog row,
 * or whose blob is missing, corrupt, or holds another episode; `duplicated` counts catalog rows beyond one
 * per recorded episode (rows no field recorded, or two rows at one episode index of a dataset).
 *
 * Baseline: raw loopback HTTP throughput of the same bytes: the same N processes POST the same bundles,
 * batched the same way, to a bare node:http server that only reads the bodies (no verification, storage,
 * catalog or spool), measured in the same run.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { verifyBundle } from '../src/field/transfer/index.ts';
import { natsLayout } from '../src/field/transport/nats-layout.ts';
import { BlobStore } from '../src/hub/blobs/index.ts';
import { Catalog } from '../src/hub/catalog/index.ts';
import { lowerProcessPriority } from '../src/threads/index.ts';
import { defineBenchmark, type Measurement } from './harness.ts';
import { type Child, startChild } from './ingest/child.ts';
import type { FieldReport, HubReport, LoadReport, Transport } from './ingest/protocol.ts';

const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** How long the hub may take to commit what the fields delivered, after the last field is done. */
const HUB_CATCH_UP_MS = 120_000;
/**
 * How long a field may take to drain its spool (a normal run: ~10 s). A field that gets nowhere (a hub
 * that never takes its bundles) fails the run, named, instead of leaving it waiting forever.
 */
const FIELD_DRAIN_MS = 600_000;

export default defineBenchmark({
  name: 'ingest',
  description:
    'episodes from N field processes into the hub (catalog + blobs) under API load, vs raw loopback HTTP',
  options: z
    .object({
      fields: z.coerce.number().int().min(1).max(64).default(4),
      /** Episodes per field. */
      episodes: z.coerce.number().int().min(1).max(100_000).default(1500),
      frames: z.coerce.number().int().min(1).max(100_000).default(500),
      transport: z.enum(['http', 'nats']).default('http'),
      /** backlog: fields fill their spools first and stream the backlog; live: they record while streaming. */
      record: z.enum(['backlog', 'live']).default('backlog'),
      /** API requests per second from the load process (0: none). */
      rate: z.coerce.number().min(0).max(10_000).default(500),
      /** Most episodes per upload request. */
      batch: z.coerce.number().int().min(1).max(1024).default(64),
      /** fsync blobs before the catalog commit (the hub's default). */
      durable: z
        .enum(['true', 'false'])
        .default('true')
        .transform((v) => v === 'true'),
      /** Scheduling priority (nice) of the field processes, which stand for other machines. */
      fieldNice: z.coerce.number().int().min(0).max(19).default(10),
      /** The hub's verification threads. */
      threads: z.coerce.number().int().min(0).max(16).default(1),
      baseline: z
        .enum(['true', 'false'])
        .default('true')
        .transform((v) => v === 'true'),
    })
    .strict(),
  async run(opts, ctx): Promise<Measurement[]> {
    const work = mkdtempSync(path.join(tmpdir(), 'tg-bench-ingest-'));
    const natsUrl = opts.transport === 'nats' ? (process.env.TG_NATS_URL ?? DEFAULT_NATS_URL) : null;
    const token = `B${process.pid}${Date.now().toString(36)}`.toUpperCase();
    const layout = natsUrl
      ? {
          prefix: `tgb${token.toLowerCase()}`,
          episodesStream: `TGB_EP_${token}`,
          jobsStream: `TGB_JOBS_${token}`,
        }
      : {};
    try {
      ctx.progress(0.02, 'starting the hub and fields');
      const run = await ingestRun(opts, work, natsUrl, layout, ctx);
      ctx.progress(0.8, 'checking the catalog and blobs');
      const check = await verify(path.join(work, 'home'), run.fields);
      let baselineFramesPerSec = Number.NaN;
      if (opts.baseline) {
        ctx.progress(0.9, 'baseline: raw loopback HTTP');
        baselineFramesPerSec = await baselineRun(opts, work);
      }
      ctx.progress(1);
      const frames = run.fields.reduce((n, f) => n + f.frames, 0);
      const episodes = run.fields.reduce((n, f) => n + f.ids.length, 0);
      const sec = run.elapsedMs / 1000;
      const framesPerSec = Math.round(frames / sec);
      const perEpisode = (ms: number) => Math.round((ms / episodes) * 1000) / 1000;
      return [
        {
          metric: 'framesPerSec',
          value: framesPerSec,
          unit: 'frames/s',
          baseline: Math.round(baselineFramesPerSec),
          higherIsBetter: true,
          details: {
            fields: opts.fields,
            episodes,
            frames,
            framesPerSec,
            episodesPerSec: Math.round((episodes / sec) * 10) / 10,
            lost: check.lost,
            duplicated: check.duplicated,
            apiP99Ms: run.load ? run.load.all.p99Ms : null,
            transport: opts.transport,
            record: opts.record,
            fieldNice: opts.fieldNice,
            seconds: Math.round(sec * 100) / 100,
            /** When the last field's spool was empty (over NATS: JetStream held everything; the hub may lag). */
            fieldsDrainedSeconds: Math.round(Math.max(...run.fields.map((f) => f.elapsedMs)) / 10) / 100,
            bundleBytes: check.bundleBytes,
            megabytesPerSec: Math.round((check.bundleBytes / 1e6 / sec) * 10) / 10,
            uploads: {
              batches: run.fields.reduce((n, f) => n + f.batches, 0),
              redelivered: run.fields.reduce((n, f) => n + f.duplicates, 0),
              retries: run.fields.reduce((n, f) => n + f.retries, 0),
              rejected: run.fields.reduce((n, f) => n + f.rejected, 0),
            },
            api: run.load,
            hub: {
              eventLoopUtilization: run.hub.eventLoopUtilization,
              eventLoopDelay: run.hub.eventLoopDelay,
              apiServerMs: run.hub.apiServerMs,
              gc: run.hub.gc,
              connections: run.hub.connections,
              threadCpuMs: run.hub.threadCpuMs,
            },
            /** CPU time per episode streamed, by process kind (the API load's share included in the hub's). */
            cpuMsPerEpisode: {
              hub: perEpisode(run.hub.cpuMs),
              fields: perEpisode(run.fields.reduce((n, f) => n + f.cpuMs, 0)),
              load: perEpisode(run.load?.cpuMs ?? 0),
            },
            storage: { catalogRows: check.rows, blobs: check.blobs, orphanBlobs: check.orphanBlobs },
            baselineFramesPerSec: Math.round(baselineFramesPerSec),
          },
        },
      ];
    } finally {
      if (natsUrl) await deleteStreams(natsUrl, layout).catch(() => {});
      rmSync(work, { recursive: true, force: true });
    }
  },
});

interface RunResult {
  fields: FieldReport[];
  load: LoadReport | null;
  hub: HubReport;
  elapsedMs: number;
}

async function ingestRun(
  opts: {
    fields: number;
    episodes: number;
    frames: number;
    transport: Transport;
    record: 'backlog' | 'live';
    rate: number;
    batch: number;
    durable: boolean;
    threads: number;
    fieldNice: number;
  },
  work: string,
  natsUrl: string | null,
  layout: object,
  ctx: { progress(f: number, d?: string): void },
): Promise<RunResult> {
  const children: Child[] = [];
  try {
    const hub = startChild('hub', './hub.child.ts', {
      home: path.join(work, 'home'),
      natsUrl,
      layout,
      durable: opts.durable,
      threads: opts.threads,
    });
    children.push(hub);
    const { url } = await hub.next('ready');
    const fields = Array.from({ length: opts.fields }, (_, i) =>
      startChild(`field-${i}`, './field.child.ts', {
        mode: 'ingest',
        url,
        field: `bench-field-${i}`,
        episodes: opts.episodes,
        frames: opts.frames,
        seed: i * 1_000_000,
        dir: path.join(work, `spool-${i}`),
        transport: opts.transport,
        natsUrl,
        layout,
        batchEpisodes: opts.batch,
        record: opts.record,
      }),
    );
    children.push(...fields);
    // The fields stand for machines of their own: here they share the hub's cores, so they run at a lower
    // priority and use the CPU the hub and the API client leave (0: compete with them as equals).
    const load = opts.rate > 0 ? startChild('load', './load.child.ts', { url, ratePerSec: opts.rate }) : null;
    if (load) children.push(load);
    await Promise.all([...fields, ...(load ? [load] : [])].map((c) => c.next('ready')));
    // Every thread of theirs, once all have started (later ones inherit it): os.setPriority(pid) would
    // lower only the main thread, not the V8 and libuv helpers that garbage-collect and read their spools.
    for (const f of fields) {
      if (opts.fieldNice && f.process.pid) lowerProcessPriority(f.process.pid, opts.fieldNice);
    }

    ctx.progress(0.1, 'streaming');
    const started = performance.now();
    for (const c of [hub, ...fields, ...(load ? [load] : [])]) c.send({ type: 'go' });
    let done = 0;
    const reports = await Promise.all(
      fields.map(async (f) => {
        let timer: NodeJS.Timeout | undefined;
        const stuck = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${f.name} did not drain its spool within ${FIELD_DRAIN_MS / 1000} s`)),
            FIELD_DRAIN_MS,
          );
        });
        const r = await Promise.race([f.next('field-done'), stuck]).finally(() => clearTimeout(timer));
        ctx.progress(0.1 + (0.7 * ++done) / fields.length, `${done}/${fields.length} fields drained`);
        return r;
      }),
    );
    // Over NATS a field is done when JetStream holds its bundles; the run ends when the hub committed them.
    // If it never gets there, the check below counts what is missing as lost.
    hub.send({ type: 'await-episodes', count: reports.reduce((n, r) => n + r.ids.length, 0) });
    await Promise.race([hub.next('hub-holds'), new Promise((r) => setTimeout(r, HUB_CATCH_UP_MS).unref())]);
    const elapsedMs = performance.now() - started;
    for (const c of [hub, ...(load ? [load] : [])]) c.send({ type: 'stop' });
    const loadReport = load ? await load.next('load-done') : null;
    return { fields: reports, load: loadReport, hub: await hub.next('hub-done'), elapsedMs };
  } finally {
    // The hub last: it commits what it holds and closes the catalog, which verify() opens next.
    await Promise.all(children.filter((c) => c.name !== 'hub').map((c) => c.stop()));
    await children.find((c) => c.name === 'hub')?.stop(60_000);
  }
}

interface Check {
  lost: number;
  duplicated: number;
  rows: number;
  blobs: number;
  orphanBlobs: number;
  bundleBytes: number;
}

/** Compares what the fields recorded with what the hub's catalog and blob store hold. */
async function verify(home: string, fields: FieldReport[]): Promise<Check> {
  const catalog = await Catalog.open({ dataDir: path.join(home, 'catalog') });
  const blobs = new BlobStore(path.join(home, 'hub', 'blobs'));
  try {
    const sent = fields.flatMap((f) => f.ids);
    const rows = new Map<string, Awaited<ReturnType<Catalog['getEpisodes']>>[number]>();
    for (let i = 0; i < sent.length; i += 1000) {
      for (const r of await catalog.getEpisodes(sent.slice(i, i + 1000))) rows.set(r.id, r);
    }
    let lost = 0;
    let bundleBytes = 0;
    const referenced = new Set<string>();
    for (const id of new Set(sent)) {
      const row = rows.get(id);
      if (!row?.blobSha256) {
        lost++;
        continue;
      }
      referenced.add(row.blobSha256);
      const ok = await blobs
        .read(row.blobSha256)
        .then((bytes) => {
          bundleBytes += bytes.byteLength;
          const sha = createHash('sha256').update(bytes).digest('hex');
          return sha === row.blobSha256 && verifyBundle(bytes).header.meta.id === id;
        })
        .catch(() => false);
      if (!ok) lost++;
    }
    const counts = await catalog.counts();
    const collisions = await catalog.database.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM (
         SELECT dataset_name, episode_index FROM episodes GROUP BY 1, 2 HAVING count(*) > 1) d`,
    );
    const duplicated = counts.episodes - rows.size + Number(collisions[0]?.n ?? 0);
    const blobCount = (await blobs.list()).length;
    return {
      lost,
      duplicated,
      rows: counts.episodes,
      blobs: blobCount,
      orphanBlobs: blobCount - referenced.size,
      bundleBytes,
    };
  } finally {
    await catalog.close();
  }
}

/** Frames per second the same processes push through plain loopback HTTP, bodies read and discarded. */
async function baselineRun(
  opts: { fields: number; episodes: number; frames: number; batch: number },
  work: string,
): Promise<number> {
  const children: Child[] = [];
  try {
    const sink = startChild('sink', './sink.child.ts', {});
    children.push(sink);
    const { url } = await sink.next('ready');
    const senders = Array.from({ length: opts.fields }, (_, i) =>
      startChild(`sender-${i}`, './field.child.ts', {
        mode: 'baseline',
        url,
        field: `bench-field-${i}`,
        episodes: opts.episodes,
        frames: opts.frames,
        seed: i * 1_000_000,
        dir: path.join(work, `baseline-${i}`),
        transport: 'http',
        natsUrl: null,
        layout: {},
        batchEpisodes: opts.batch,
        record: 'backlog',
      }),
    );
    children.push(...senders);
    await Promise.all(senders.map((s) => s.next('ready')));
    const started = performance.now();
    for (const s of senders) s.send({ type: 'go' });
    const reports = await Promise.all(senders.map((s) => s.next('field-done')));
    const sec = (performance.now() - started) / 1000;
    return reports.reduce((n, r) => n + r.frames, 0) / sec;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

async function deleteStreams(url: string, overrides: object): Promise<void> {
  const l = natsLayout(overrides);
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const s of [l.episodesStream, l.jobsStream]) await jsm.streams.delete(s).catch(() => false);
  } finally {
    await nc.close();
  }
}
