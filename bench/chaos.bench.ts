/**
 * Chaos: does the 1+N network deliver every episode exactly once when its processes die? Each transport
 * (HTTP, then NATS JetStream) gets a network of real processes: a hub (`tg hub start`, PGlite catalog) and
 * two fields (`tg field start`, one robot and two robots). Every trial queues a drill job per field, waits
 * until the drill is under way, and `kill -9`s the hub or a field at a random point of the recording and
 * upload (for the hub, half the time twice: once while the fields record, again in the middle of the
 * backlog upload after its restart), restarts it, and waits until everything has settled. After the last
 * trial every process is stopped and the hub's catalog and stored bundles are checked against the jobs'
 * seeds and the fields' logs (bench/chaos/check.ts).
 *
 * `--trials T` trials run on each transport (`--transport http|nats` runs one only); the two networks run
 * side by side. A line per trial goes to stderr (the progress bar is off in --json mode).
 *
 * The figure is the fraction of requested episodes stored exactly once (baseline: 1, all of them).
 * `--catalog postgres` runs the hubs on PostgreSQL (TG_DATABASE_URL) instead of their embedded PGlite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { checkNetwork, type NetworkVerdict } from './chaos/check.ts';
import { ChaosNetwork, type Transport } from './chaos/network.ts';
import { defineBenchmark } from './harness.ts';

const FIELDS = [
  { name: 'chaos-a', robots: 1 },
  { name: 'chaos-b', robots: 2 },
];

const optionsSchema = z
  .object({
    /** Trials per transport. */
    trials: z.coerce.number().int().min(1).max(10_000).default(50),
    transport: z.enum(['both', 'http', 'nats']).default('both'),
    /** Episodes per drill job (one job per field and trial). */
    episodes: z.coerce.number().int().min(1).max(100).default(3),
    /** Simulated seconds per episode. */
    maxSimSec: z.coerce.number().positive().max(60).default(0.5),
    /** Seed of the random kill schedule. */
    seed: z.coerce.number().int().min(0).default(1),
    /** How long a trial may take to settle after the restart before it counts as stuck. */
    drainSec: z.coerce.number().positive().max(3600).default(90),
    natsUrl: z.string().default(process.env.TG_NATS_URL ?? 'nats://127.0.0.1:4222'),
    /** The hubs' catalogs: embedded PGlite in their homes, or databases made on a PostgreSQL server. */
    catalog: z.enum(['pglite', 'postgres']).default('pglite'),
    /** PostgreSQL server for --catalog postgres (a database per network is created there and dropped). */
    databaseUrl: z
      .string()
      .default(process.env.TG_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'),
    /** Keep the temp homes (for a look after a failure). */
    keep: z.coerce.boolean().default(false),
  })
  .strict();

type Options = z.infer<typeof optionsSchema>;

interface TransportResult extends NetworkVerdict {
  transport: Transport;
  trials: number;
  kills: { hub: number; field: number };
  stuckTrials: number;
  seconds: number;
}

export default defineBenchmark({
  name: 'chaos',
  description: 'kill -9 hub and field processes mid-upload over HTTP and NATS; every episode exactly once?',
  options: optionsSchema,
  async run(opts, ctx) {
    const transports: Transport[] = opts.transport === 'both' ? ['http', 'nats'] : [opts.transport];
    const started = performance.now();
    const loadBefore = os.loadavg()[0] as number;
    const total = opts.trials * transports.length;
    // The networks run side by side (most of a trial is waiting for processes to start and settle), each
    // with its own kill schedule, seeded from --seed.
    const doneTrials = transports.map(() => 0);
    const results: TransportResult[] = await Promise.all(
      transports.map((transport, k) =>
        runTransport(transport, opts.trials, opts, mulberry32(opts.seed + k), (t, detail) => {
          doneTrials[k] = t;
          const done = doneTrials.reduce((a, b) => a + b, 0);
          ctx.progress(done / total, `${transport}: ${detail}`);
          const secs = Math.round((performance.now() - started) / 1000);
          process.stderr.write(`chaos [${done}/${total} ${secs}s] ${transport} ${detail}\n`);
        }),
      ),
    );
    ctx.progress(1);
    const wallSeconds = Math.round((performance.now() - started) / 100) / 10;

    const sum = (f: (r: TransportResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const requested = sum((r) => r.episodesRequested);
    const lost = sum((r) => r.lost);
    const duplicated = sum((r) => r.duplicated);
    const exactlyOnce = requested ? Math.max(0, requested - lost - duplicated) / requested : 0;
    return [
      {
        metric: 'exactlyOnce',
        value: Math.round(exactlyOnce * 1e6) / 1e6,
        unit: 'fraction of requested episodes stored exactly once',
        baseline: 1,
        higherIsBetter: true,
        details: {
          trials: sum((r) => r.trials),
          episodesSent: sum((r) => r.episodesSent),
          episodesStored: sum((r) => r.episodesStored),
          lost,
          duplicated,
          catalogConsistent: results.every((r) => r.catalogConsistent),
          trialsPerTransport: opts.trials,
          episodesRequested: requested,
          blobs: sum((r) => r.blobs),
          orphanBlobs: sum((r) => r.orphanBlobs),
          kills: { hub: sum((r) => r.kills.hub), field: sum((r) => r.kills.field) },
          settled: results.every((r) => r.settled && r.stuckTrials === 0),
          wallSeconds,
          loadAverage: { before: round2(loadBefore), after: round2(os.loadavg()[0] as number) },
          transports: Object.fromEntries(results.map((r) => [r.transport, r])),
        },
      },
    ];
  },
});

async function runTransport(
  transport: Transport,
  trials: number,
  opts: Options,
  rng: () => number,
  progress: (trial: number, detail: string) => void,
): Promise<TransportResult> {
  const started = performance.now();
  const root = mkdtempSync(path.join(os.tmpdir(), `tg-chaos-${transport}-`));
  const token = `chaos${process.pid}${Date.now().toString(36)}`;
  const database =
    opts.catalog === 'postgres' ? await createDatabase(opts.databaseUrl, `tg_${token}_${transport}`) : null;
  const net = new ChaosNetwork({
    transport,
    root,
    fields: FIELDS,
    natsUrl: opts.natsUrl,
    natsPrefix: token,
    databaseUrl: database?.url,
  });
  let stuckTrials = 0;
  try {
    progress(0, 'starting hub and fields');
    await net.start();
    for (let t = 0; t < trials; t++) {
      const { victim, underWayMs, restartMs } = await trial(net, opts, rng);
      const t1 = performance.now();
      const settled = await net.drain(opts.drainSec * 1000);
      const settleMs = performance.now() - t1;
      if (!settled) stuckTrials++;
      const stored = await net.storedTotal().catch(() => -1);
      const requested = new Set(net.requested.map((r) => `${r.field}:${r.seed}`)).size;
      const ms = (x: number) => `${(x / 1000).toFixed(1)}s`;
      progress(
        t + 1,
        `trial ${t + 1}/${trials}: killed ${victim} (recording after ${ms(underWayMs)}, restarted in ${ms(restartMs)}, settled in ${ms(settleMs)}); ${stored}/${requested} stored${settled ? '' : ' (NOT SETTLED)'}`,
      );
    }
  } finally {
    await net.stop().catch(() => {});
  }
  try {
    const verdict = await checkNetwork(net);
    if (verdict.problems.length || stuckTrials) {
      process.stderr.write(
        `\nchaos ${transport}: ${verdict.problems.join('\n  ')}\nlast log lines:\n${net.logs.slice(-40).join('\n')}\n`,
      );
    }
    return {
      transport,
      trials,
      ...verdict,
      kills: { ...net.kills },
      stuckTrials,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await net.cleanup().catch(() => {});
    await database?.drop().catch(() => {});
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`chaos ${transport}: homes kept in ${root}\n`);
  }
}

interface TrialTimes {
  victim: string;
  /** From queueing the jobs to the victim's (any field's, for the hub) first spooled episode. */
  underWayMs: number;
  /** Time the victim's restarts took (from spawn to listening / started), summed. */
  restartMs: number;
}

/** One trial: queue a job per field, kill the victim at a random point of the drill, restart it. */
async function trial(net: ChaosNetwork, opts: Options, rng: () => number): Promise<TrialTimes> {
  const fields = net.opts.fields.map((f) => f.name);
  const victim = rng() < 0.4 ? 'hub' : (fields[Math.floor(rng() * fields.length)] as string);
  const underWay = net.nextLine(/^spooled /, victim === 'hub' ? undefined : victim);
  const t0 = performance.now();
  for (const f of fields) await net.submit(f, opts.episodes, opts.maxSimSec);
  await underWay;
  const underWayMs = performance.now() - t0;
  let restartMs = 0;
  const restart = async (start: () => Promise<void>) => {
    const r0 = performance.now();
    await start();
    restartMs += performance.now() - r0;
  };
  if (victim !== 'hub') {
    await sleep(rng() * 400);
    await net.killField(victim);
    await sleep(rng() * 300);
    await restart(() => net.startField(victim));
    return { victim, underWayMs, restartMs };
  }
  if (rng() < 0.5) {
    await sleep(rng() * 400);
    await net.killHub();
    await sleep(rng() * 300);
    await restart(() => net.startHub());
    return { victim: 'hub', underWayMs, restartMs };
  }
  // Down while the fields record, then killed again while they upload the backlog.
  await net.killHub();
  await sleep(300 + rng() * 700);
  const burst = net.opts.transport === 'http' ? net.nextLine(/^delivered /, undefined, 30_000) : null;
  await restart(() => net.startHub());
  await (burst ?? sleep(rng() * 300)).catch(() => {});
  await sleep(rng() * 100);
  await net.killHub();
  await sleep(rng() * 300);
  await restart(() => net.startHub());
  return { victim: 'hub twice', underWayMs, restartMs };
}

/** A fresh database on the server of `serverUrl`, dropped by `drop()`. */
async function createDatabase(
  serverUrl: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const db = name
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
  await admin(`CREATE DATABASE ${db}`);
  const url = new URL(serverUrl);
  url.pathname = `/${db}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Small seeded generator so a kill schedule can be replayed (timing itself still varies). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
