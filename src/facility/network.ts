/**
 * `tg up --fields N`: a whole 1+N network on one machine. The hub (catalog, API, console, ingest) and N
 * field agents run in this process; each field has its own robots (worker threads), its own home with
 * spool and job journal under `<home>/fields/<name>`, and talks to the hub over loopback HTTP (or NATS
 * JetStream with TG_NATS_URL) exactly as a remote field would. The drill is split into one job per field
 * (consecutive seeds), queued through the hub's job queue; the run is over when every job is done and
 * every spool is drained.
 *
 * Ctrl-C (`interrupt`): the run's unfinished jobs are cancelled at the hub (so the next `tg up` does not
 * inherit them), the fields stop drilling, and what they already spooled is delivered (for a few seconds;
 * the rest stays spooled for the next start). The catalog lists exactly the episodes the hub stored.
 */
import path from 'node:path';
import type { Config } from '../config/index.ts';
import { FieldAgent, type FieldEvent } from '../field/agent.ts';
import { ensureConsoleBuilt } from '../hub/console-build.ts';
import type { DrillJob } from '../hub/ingest/index.ts';
import { type NetworkHub, startNetworkHub } from '../hub/ingest/network-hub.ts';
import type { RunStatus } from '../hub/server/api-types.ts';
import { lockHome } from './home-lock.ts';

export interface NetworkUpOptions {
  /** Fields to run (1..). */
  fields: number;
  /** Serve the console (built first if stale); default true. */
  console?: boolean;
  /** How long Ctrl-C waits for the fields to deliver what they spooled (default 10 s). */
  drainOnInterruptMs?: number;
  onEvent?: (field: string, event: FieldEvent) => void;
}

export interface FieldRunSummary {
  name: string;
  robots: string[];
  /** Episodes of this run's job for the field. */
  planned: number;
  /** Episodes the field recorded into its spool during the run. */
  recorded: number;
  /** Episodes it delivered to the hub (including re-sends the hub already had). */
  delivered: number;
  /** Episodes of this run's job the hub's catalog holds. */
  stored: number;
  successes: number;
  /** Episodes still waiting in its spool (delivered at its next start). */
  spooled: number;
}

export interface NetworkUpSummary {
  fields: FieldRunSummary[];
  /** Episodes of this run in the catalog, all fields together. */
  episodes: number;
  successes: number;
  successRate: number;
  planned: number;
  durationSec: number;
  url: string;
  transport: 'http' | 'nats';
  interrupted: boolean;
}

interface RunningField {
  name: string;
  agent: FieldAgent;
  job: DrillJob | null;
  jobOver: Promise<void>;
  endJob: () => void;
}

export const fieldName = (i: number) => `field-${i + 1}`;

export class FacilityNetwork {
  private readonly status: RunStatus;
  private interrupted = false;
  private readonly fields: RunningField[] = [];

  private constructor(
    private readonly config: Config,
    private readonly opts: NetworkUpOptions,
    private readonly hub: NetworkHub,
    private readonly unlock: () => void,
  ) {
    this.status = {
      state: 'starting',
      episodesDone: 0,
      episodesPlanned: config.up.episodes,
      successes: 0,
      robots: config.up.robots * opts.fields,
      startedAt: new Date().toISOString(),
      message: `starting ${opts.fields} field(s)`,
    };
  }

  /** Starts the hub and the fields (each registered with the hub before this resolves). */
  static async start(config: Config, opts: NetworkUpOptions): Promise<FacilityNetwork> {
    if (!Number.isInteger(opts.fields) || opts.fields < 1) {
      throw new Error(`--fields must be a whole number from 1, got ${opts.fields}`);
    }
    const unlock = lockHome(config.home);
    let hub: NetworkHub | undefined;
    try {
      const consoleDir = opts.console === false ? undefined : await ensureConsoleBuilt();
      let facility: FacilityNetwork | null = null;
      hub = await startNetworkHub({
        home: config.home,
        host: config.host,
        port: config.port,
        natsUrl: config.natsUrl,
        status: () => facility?.runStatus,
        ...(consoleDir ? { consoleDir } : {}),
      });
      facility = new FacilityNetwork(config, opts, hub, unlock);
      await facility.startFields();
      return facility;
    } catch (err) {
      await hub?.close().catch(() => {});
      unlock();
      throw err;
    }
  }

  get url(): string {
    return this.hub.url;
  }

  get runStatus(): RunStatus {
    return this.status;
  }

  private async startFields(): Promise<void> {
    for (let i = 0; i < this.opts.fields; i++) {
      const name = fieldName(i);
      let endJob = () => {};
      const jobOver = new Promise<void>((resolve) => {
        endJob = resolve;
      });
      const field: RunningField = { name, agent: null as unknown as FieldAgent, job: null, jobOver, endJob };
      field.agent = await FieldAgent.start({
        hubUrl: this.hub.url,
        name,
        home: path.join(this.config.home, 'fields', name),
        robots: this.config.up.robots,
        natsUrl: this.config.natsUrl,
        pollMs: 200,
        heartbeatMs: 2000,
        onEvent: (e) => this.onFieldEvent(field, e),
      });
      this.fields.push(field);
    }
    await Promise.all(this.fields.map((f) => f.agent.whenRegistered()));
  }

  private onFieldEvent(field: RunningField, e: FieldEvent): void {
    const ours = 'job' in e && field.job !== null && e.job.id === field.job.id;
    if (ours && (e.type === 'job-done' || e.type === 'job-failed' || e.type === 'job-lost')) field.endJob();
    this.opts.onEvent?.(field.name, e);
  }

  /**
   * Splits `up.episodes` into one job per field, queues them, and resolves when every job is over and
   * every spool drained (or after `interrupt()`, once the fields stopped).
   */
  async run(onProgress?: (status: RunStatus) => void): Promise<NetworkUpSummary> {
    const { up } = this.config;
    const started = performance.now();
    const n = this.fields.length;
    let seed = up.seed;
    this.status.state = 'running';
    this.status.message = `drilling on ${n} field(s)`;
    for (const [i, field] of this.fields.entries()) {
      const episodes = Math.floor(up.episodes / n) + (i < up.episodes % n ? 1 : 0);
      if (episodes === 0) {
        field.endJob();
        continue;
      }
      field.job = await this.hub.network.jobs.submit({
        field: field.name,
        episodes,
        seed,
        fps: up.fps,
      });
      seed += episodes;
    }
    const progress = setInterval(() => {
      void this.refresh().then(() => onProgress?.(this.status));
    }, 500);
    try {
      await Promise.all(this.fields.map((f) => f.jobOver));
      if (!this.interrupted) await Promise.all(this.fields.map((f) => f.agent.drained()));
    } finally {
      clearInterval(progress);
    }
    await this.refresh();
    onProgress?.(this.status);
    const summary = await this.summary(started);
    this.status.state = this.interrupted ? 'stopped' : 'done';
    this.status.message = `${summary.episodes} episode(s) from ${n} field(s)`;
    return summary;
  }

  /** Ctrl-C: cancel this run's open jobs, stop drilling, deliver what is spooled (for a while). */
  async interrupt(): Promise<void> {
    if (this.interrupted) return;
    this.interrupted = true;
    this.status.message = 'stopping: delivering what the fields recorded';
    for (const f of this.fields) {
      if (f.job) await this.hub.network.board.cancel(f.job.id).catch(() => false);
    }
    await Promise.all(this.fields.map((f) => f.agent.stopDrilling()));
    for (const f of this.fields) f.endJob();
    const waitMs = this.opts.drainOnInterruptMs ?? 10_000;
    await Promise.race([
      Promise.all(this.fields.map((f) => f.agent.drained())),
      new Promise((r) => setTimeout(r, waitMs)),
    ]);
  }

  /** Stops the fields (what is still spooled stays for their next start), then the hub. */
  async close(): Promise<void> {
    try {
      await Promise.all(this.fields.map((f) => f.agent.stop()));
    } finally {
      try {
        await this.hub.close();
      } finally {
        this.unlock();
      }
    }
  }

  /** This run's episodes in the catalog, per field: the seeds of the field's job. */
  private async stored(field: RunningField): Promise<{ stored: number; successes: number }> {
    const job = field.job;
    if (!job) return { stored: 0, successes: 0 };
    const rows = await this.hub.catalog.selectEpisodes({ field: field.name });
    const mine = rows.filter((r) => r.seed >= job.seed && r.seed < job.seed + job.episodes);
    return { stored: mine.length, successes: mine.filter((r) => r.success).length };
  }

  private async refresh(): Promise<void> {
    let done = 0;
    let successes = 0;
    for (const f of this.fields) {
      const s = await this.stored(f);
      done += s.stored;
      successes += s.successes;
    }
    this.status.episodesDone = done;
    this.status.successes = successes;
  }

  private async summary(started: number): Promise<NetworkUpSummary> {
    const fields: FieldRunSummary[] = [];
    for (const f of this.fields) {
      const { stored, successes } = await this.stored(f);
      const stats = f.agent.stats;
      fields.push({
        name: f.name,
        robots: f.agent.robots,
        planned: f.job?.episodes ?? 0,
        recorded: stats.recorded,
        delivered: stats.delivered,
        stored,
        successes,
        spooled: stats.spoolEntries,
      });
    }
    const episodes = fields.reduce((a, f) => a + f.stored, 0);
    const successes = fields.reduce((a, f) => a + f.successes, 0);
    return {
      fields,
      episodes,
      successes,
      successRate: episodes ? successes / episodes : 0,
      planned: fields.reduce((a, f) => a + f.planned, 0),
      durationSec: Math.round((performance.now() - started) / 10) / 100,
      url: this.hub.url,
      transport: this.config.natsUrl ? 'nats' : 'http',
      interrupted: this.interrupted,
    };
  }
}
