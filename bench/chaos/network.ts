/**
 * One 1+N network of real processes for the chaos benchmark: a hub (`tg hub start`, embedded PGlite
 * catalog in its own home) and fields (`tg field start`, each with its own home and spool), over HTTP or
 * NATS JetStream. It keeps the ledger the final check compares the hub against:
 *
 *   - what was asked: every drill job, so every (field, seed) that must end up stored exactly once;
 *   - what the fields recorded: every episode id a field logged as spooled or delivered (the field logs
 *     are written synchronously to a pipe, so a line printed before a kill -9 is never lost).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TgProcess } from './process.ts';

export type Transport = 'http' | 'nats';

export interface FieldSpec {
  name: string;
  robots: number;
}

export interface NetworkOptions {
  transport: Transport;
  /** Directory for the homes of the hub and the fields. */
  root: string;
  fields: FieldSpec[];
  natsUrl: string;
  /** NATS subject root and stream prefix of this network (unique per run). */
  natsPrefix: string;
  /** The hub's catalog on this PostgreSQL database (TG_DATABASE_URL) instead of PGlite in its home. */
  databaseUrl?: string | undefined;
}

export interface RequestedEpisode {
  field: string;
  seed: number;
}

const SPOOLED = /^(spooled|delivered) ([0-9a-f]{64}) \(#/;

export class ChaosNetwork {
  hub: TgProcess | null = null;
  readonly fieldProcs = new Map<string, TgProcess | null>();
  /** Episode id -> field, for every episode a field logged as spooled or delivered. */
  readonly recorded = new Map<string, string>();
  readonly requested: RequestedEpisode[] = [];
  /** Kills done, by what was killed. */
  readonly kills = { hub: 0, field: 0 };
  /** Stderr of every process that ever ran, for the report when a check fails. */
  readonly logs: string[] = [];
  url = '';
  private port = 0;
  private nextSeed = new Map<string, number>();
  private nc: NatsConnection | null = null;
  private spooledListeners: Array<(field: string, line: string) => void> = [];

  constructor(readonly opts: NetworkOptions) {}

  get hubHome(): string {
    return path.join(this.opts.root, 'hub');
  }

  fieldHome(name: string): string {
    return path.join(this.opts.root, 'fields', name);
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    if (this.opts.transport === 'nats') this.nc = await connect({ servers: this.opts.natsUrl });
    await this.startHub();
    await Promise.all(this.opts.fields.map((f) => this.startField(f.name)));
  }

  private env(hub = false): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('TG_')) delete env[k];
    if (hub && this.opts.databaseUrl) env.TG_DATABASE_URL = this.opts.databaseUrl;
    return env;
  }

  private natsArgs(): string[] {
    return this.opts.transport === 'nats'
      ? ['--nats', this.opts.natsUrl, '--nats-prefix', this.opts.natsPrefix]
      : [];
  }

  async startHub(): Promise<void> {
    const hub = new TgProcess(
      'hub',
      ['--json', '--home', this.hubHome, '--port', String(this.port), 'hub', 'start', ...this.natsArgs()],
      this.env(true),
    );
    hub.onLine((l) => this.logs.push(`hub: ${l}`));
    this.hub = hub;
    await hub.waitFor('the hub to listen', (out) => out.includes('"url"'));
  }

  async startField(name: string): Promise<void> {
    const spec = this.opts.fields.find((f) => f.name === name);
    if (!spec) throw new Error(`no field ${name}`);
    const field = new TgProcess(
      name,
      [
        '--home',
        this.fieldHome(name),
        'field',
        'start',
        '--hub',
        this.url,
        '--name',
        name,
        '--robots',
        String(spec.robots),
        ...this.natsArgs(),
      ],
      this.env(),
    );
    field.onLine((line) => {
      this.logs.push(`${name}: ${line}`);
      const m = SPOOLED.exec(line);
      if (m) {
        this.recorded.set(m[2] as string, name);
        for (const l of this.spooledListeners) l(name, line);
      }
    });
    this.fieldProcs.set(name, field);
    await field.waitFor('the field to start', (_out, line) => line?.startsWith(`field ${name}: `) ?? false);
  }

  /** kill -9 the hub; resolves with the process killed once it is gone. */
  async killHub(): Promise<TgProcess | null> {
    const hub = this.hub;
    await hub?.kill9();
    this.hub = null;
    this.kills.hub++;
    return hub;
  }

  /** kill -9 a field; resolves with the process killed once it is gone. */
  async killField(name: string): Promise<TgProcess | null> {
    const field = this.fieldProcs.get(name) ?? null;
    await field?.kill9();
    this.fieldProcs.set(name, null);
    this.kills.field++;
    return field;
  }

  /** Resolves at the next line of a field (any, or `field`) matching `re`. */
  nextLine(re: RegExp, field?: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.spooledListeners = this.spooledListeners.filter((l) => l !== listener);
        reject(new Error(`timed out waiting for ${re} from ${field ?? 'any field'}`));
      }, timeoutMs);
      const listener = (f: string, line: string) => {
        if ((field && f !== field) || !re.test(line)) return;
        clearTimeout(timer);
        this.spooledListeners = this.spooledListeners.filter((l) => l !== listener);
        resolve();
      };
      this.spooledListeners.push(listener);
    });
  }

  /** Queues a drill job of `episodes` episodes for `field` (the hub must be up). */
  async submit(field: string, episodes: number, maxSimSec: number): Promise<void> {
    const seed = this.nextSeed.get(field) ?? 0;
    const res = await fetch(`${this.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ field, episodes, seed, maxSimSec }),
    });
    if (res.status !== 201) throw new Error(`queueing a job for ${field}: ${res.status} ${await res.text()}`);
    this.nextSeed.set(field, seed + episodes);
    for (let i = 0; i < episodes; i++) this.requested.push({ field, seed: seed + i });
  }

  /**
   * Whether everything asked for has settled: no job open, every field idle with an empty spool and no
   * job in its journal, and (NATS) nothing waiting in the hub's ingest consumer.
   */
  async settled(): Promise<boolean> {
    if (!this.hub) return false;
    for (const f of this.opts.fields) {
      if (!this.fieldProcs.get(f.name)) return false;
      const home = this.fieldHome(f.name);
      if (spoolEntries(home) > 0) return false;
      if (journaledJob(home)) return false;
    }
    if (this.opts.transport === 'http') {
      const res = await fetch(`${this.url}/api/jobs`).catch(() => null);
      if (res?.status !== 200) return false;
      const { jobs } = (await res.json()) as { jobs: Array<{ state: string }> };
      return jobs.every((j) => j.state === 'done');
    }
    const jsm = await jetstreamManager(this.nc as NatsConnection);
    const jobs = await jsm.streams.info(`${this.opts.natsPrefix}_JOBS`).catch(() => null);
    if (!jobs || jobs.state.messages > 0) return false;
    const ingest = await jsm.consumers
      .info(`${this.opts.natsPrefix}_EPISODES`, 'tg-hub-ingest')
      .catch(() => null);
    return !!ingest && ingest.num_pending === 0 && ingest.num_ack_pending === 0;
  }

  /** Waits until `settled()`; false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (await this.settled().catch(() => false)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** Episodes in the hub's catalog, from its API. */
  async storedTotal(): Promise<number> {
    const res = await fetch(`${this.url}/api/episodes?limit=1`);
    return ((await res.json()) as { total: number }).total;
  }

  /** Stops every process cleanly (Ctrl-C), fields first. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.fieldProcs.entries()].map(async ([name, p]) => {
        await p?.stop();
        this.fieldProcs.set(name, null);
      }),
    );
    await this.hub?.stop();
    this.hub = null;
  }

  /** Deletes this network's NATS streams. */
  async cleanup(): Promise<void> {
    if (!this.nc) return;
    const jsm = await jetstreamManager(this.nc);
    for (const s of ['EPISODES', 'JOBS']) {
      await jsm.streams.delete(`${this.opts.natsPrefix}_${s}`).catch(() => {});
    }
    await this.nc.close();
    this.nc = null;
  }
}

/** Bundles waiting in a field's spool (`<home>/spool/*.tgep`). */
export function spoolEntries(fieldHome: string): number {
  const dir = path.join(fieldHome, 'spool');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((n) => n.endsWith('.tgep')).length;
}

/** Bundles a field's spool moved aside because the hub refused them for good. */
export function rejectedEntries(fieldHome: string): number {
  const dir = path.join(fieldHome, 'spool', 'rejected');
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

/** The job id in a field's journal (src/field/job-journal.ts), or null. */
export function journaledJob(fieldHome: string): string | null {
  const file = path.join(fieldHome, 'field-job.json');
  if (!existsSync(file)) return null;
  try {
    const journal = JSON.parse(readFileSync(file, 'utf8')) as { current: { job: { id: string } } | null };
    return journal.current?.job.id ?? null;
  } catch {
    return null; // being replaced right now
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
