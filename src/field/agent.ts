/**
 * The field agent (`tg field start`): registers the field and its simulated robots with the hub, sends
 * heartbeats, takes drill jobs, runs them with the drill, records every episode into the durable spool and
 * uploads the spool in order. The drill only ever talks to the spool, so a lost link never stops recording;
 * when the link returns the uploader drains the backlog in order. Episode ids are content hashes, so a
 * retry after a lost acknowledgement stores nothing twice.
 *
 * The job in progress is journaled (job-journal.ts): a field that stops or dies mid-job resumes it on its
 * next start, keeping its lease and skipping the episodes already spooled, and acknowledges it only once
 * every episode is spooled.
 */
import path from 'node:path';
import { embodimentHash, loadEmbodiment } from '../embodiment/index.ts';
import { TgError } from '../errors/index.ts';
import type { DrillJob } from '../hub/ingest/job-board.ts';
import { Drill } from './drill.ts';
import { JobJournal } from './job-journal.ts';
import { HttpJobSource, type JobSource, NatsJobSource, type TakenJob } from './job-source.ts';
import { Spool, type SpoolEntry } from './spool/index.ts';
import { encodeBundle } from './transfer/index.ts';
import { HttpEpisodeTransport } from './transport/http.ts';
import { NatsEpisodeTransport } from './transport/nats.ts';
import type { NatsLayout } from './transport/nats-layout.ts';
import { type EpisodeTransport, HUB_DOWN_MAX_MS, hubDown, type SendResult } from './transport/transport.ts';
import { type BackoffOptions, Uploader } from './uploader.ts';

export const FIELD_ROBOT_KIND = 'arm7';
export const FIELD_ROBOT_VENDOR = 'tg-sim';

export interface FieldAgentOptions {
  /** Hub base URL (registration, heartbeats, and the HTTP transport and job polling). */
  hubUrl: string;
  /** Field name: letters, digits, . _ - */
  name: string;
  /** TG_HOME: the spool lives in `<home>/spool`. */
  home: string;
  /** Simulated robots this field runs (default 1). */
  robots?: number;
  /** TG_NATS_URL: bundles, events and jobs through NATS JetStream instead of HTTP. */
  natsUrl?: string | null;
  nats?: Partial<NatsLayout>;
  maxSpoolBytes?: number;
  heartbeatMs?: number;
  /** Least time between two requests for a job when they fail or return at once (default 2 s). */
  pollMs?: number;
  /** How often to renew the lease of the job being drilled (default 10 s). */
  renewMs?: number;
  backoff?: BackoffOptions;
  /** Take jobs from the hub (default true); false: only `runJob` drills. */
  takeJobs?: boolean;
  onEvent?: (event: FieldEvent) => void;
}

export type FieldEvent =
  | { type: 'registered'; robots: string[] }
  | { type: 'job-started'; job: DrillJob }
  | { type: 'job-done'; job: DrillJob; episodes: number }
  | { type: 'job-failed'; job: DrillJob; message: string }
  | { type: 'job-resumed'; job: DrillJob; recorded: number }
  | { type: 'job-lost'; job: DrillJob }
  | { type: 'spooled'; entry: SpoolEntry }
  | { type: 'delivered'; entry: SpoolEntry; result: SendResult }
  | { type: 'rejected'; entry: SpoolEntry; reason: string }
  | { type: 'retry'; entry: SpoolEntry; reason: string; delayMs: number };

export interface FieldAgentStats {
  field: string;
  state: 'idle' | 'drilling' | 'stopping';
  registered: boolean;
  connected: boolean;
  transport: 'http' | 'nats';
  spoolEntries: number;
  spoolBytes: number;
  recorded: number;
  delivered: number;
  duplicates: number;
  jobsDone: number;
}

export class FieldAgent {
  readonly spool: Spool;
  private readonly journal: JobJournal;
  private readonly uploader: Uploader;
  private readonly robotIds: string[];
  private readonly embodimentHash: string;
  private registered = false;
  private state: FieldAgentStats['state'] = 'idle';
  private recorded = 0;
  private jobsDone = 0;
  /** Robots loaded for the last job, kept for the next one with the same settings. */
  private drill: Drill | null = null;
  private drillKey = '';
  private currentJob: string | null = null;
  private readonly stopping = new AbortController();
  private readonly jobsStopping = new AbortController();
  private readonly loops: Array<Promise<void>> = [];

  private constructor(
    private readonly opts: FieldAgentOptions,
    private readonly transport: EpisodeTransport,
    private readonly jobs: JobSource,
  ) {
    this.spool = Spool.open({
      dir: path.join(opts.home, 'spool'),
      ...(opts.maxSpoolBytes ? { maxBytes: opts.maxSpoolBytes } : {}),
    });
    this.journal = JobJournal.open(opts.home);
    this.robotIds = Array.from(
      { length: opts.robots ?? 1 },
      (_, i) => `${opts.name}-${FIELD_ROBOT_KIND}-${i}`,
    );
    this.embodimentHash = embodimentHash(loadEmbodiment(FIELD_ROBOT_KIND));
    const emit = opts.onEvent ?? (() => {});
    this.uploader = new Uploader({
      spool: this.spool,
      transport,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      onUnknownRobot: () => this.register(),
      onDelivered: (entry, result) => emit({ type: 'delivered', entry, result }),
      onRejected: (entry, reason) => emit({ type: 'rejected', entry, reason }),
      onRetry: (entry, reason, delayMs) => emit({ type: 'retry', entry, reason, delayMs }),
    });
  }

  /** Starts the agent: uploads whatever the spool holds, registers (retrying until the hub answers), takes jobs. */
  static async start(opts: FieldAgentOptions): Promise<FieldAgent> {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(opts.name) || opts.name === 'jobs') {
      throw new Error(`field name ${JSON.stringify(opts.name)}: letters, digits, . _ - only, and not "jobs"`);
    }
    let transport: EpisodeTransport;
    let jobs: JobSource;
    if (opts.natsUrl) {
      const nats = await NatsEpisodeTransport.connect({
        url: opts.natsUrl,
        field: opts.name,
        layout: opts.nats,
      });
      transport = nats;
      jobs = new NatsJobSource(nats, opts.name);
    } else {
      transport = new HttpEpisodeTransport({ hubUrl: opts.hubUrl });
      jobs = new HttpJobSource(opts.hubUrl, opts.name);
    }
    const agent = new FieldAgent(opts, transport, jobs);
    agent.uploader.start();
    agent.loops.push(agent.registerLoop(), agent.heartbeatLoop());
    if (opts.takeJobs !== false) agent.loops.push(agent.jobLoop());
    return agent;
  }

  get robots(): string[] {
    return [...this.robotIds];
  }

  get stats(): FieldAgentStats {
    const spool = this.spool.stats;
    return {
      field: this.opts.name,
      state: this.state,
      registered: this.registered,
      connected: this.uploader.connected,
      transport: this.opts.natsUrl ? 'nats' : 'http',
      spoolEntries: spool.entries,
      spoolBytes: spool.bytes,
      recorded: this.recorded,
      delivered: this.uploader.delivered,
      duplicates: this.uploader.duplicates,
      jobsDone: this.jobsDone,
    };
  }

  /** Resolves when the field is registered with the hub. */
  async whenRegistered(): Promise<void> {
    while (!this.registered && !this.stopping.signal.aborted) await sleep(50, this.stopping.signal);
  }

  /** Resolves when every spooled episode has been delivered. */
  drained(): Promise<void> {
    return this.uploader.drained();
  }

  /** Registers the field and its robots (`POST /api/fields/:name/register`). */
  async register(): Promise<void> {
    const res = await fetch(`${this.hubBase}/api/fields/${this.opts.name}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        robots: this.robotIds.map((id) => ({
          id,
          embodiment: FIELD_ROBOT_KIND,
          embodimentHash: this.embodimentHash,
          vendor: FIELD_ROBOT_VENDOR,
        })),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`register: hub answered ${res.status}: ${await res.text()}`);
    if (!this.registered) this.opts.onEvent?.({ type: 'registered', robots: this.robots });
    this.registered = true;
  }

  /**
   * Drills one job into the spool; resolves with the number of episodes spooled once every episode of it
   * is spooled (not yet delivered), or earlier when the agent stops or the job is taken away.
   * `skip`: episode indexes spooled before (a resumed job); `robots`: robots to run it on (default: the
   * job's, capped by the field's); `onRecorded` runs after each episode is spooled.
   */
  async runJob(
    job: DrillJob,
    opts: {
      skip?: ReadonlySet<number>;
      robots?: number;
      onRecorded?: (episodeIndex: number) => Promise<void>;
    } = {},
  ): Promise<number> {
    const emit = this.opts.onEvent ?? (() => {});
    this.state = 'drilling';
    this.currentJob = job.id;
    emit({ type: 'job-started', job });
    let spooled = 0;
    try {
      const drill = await this.robotsForJob(job, opts.robots ?? this.robotsFor(job));
      try {
        await drill.run({
          episodes: job.episodes,
          seed: job.seed,
          ...(opts.skip ? { skip: opts.skip } : {}),
          waitForDelivery: true,
          onEpisode: async (e) => {
            const bundle = encodeBundle(e.episode, { recordedAt: new Date() });
            const entry = await this.spool.append(e.episode.meta.id, bundle, this.stopping.signal);
            spooled++;
            this.recorded++;
            emit({ type: 'spooled', entry });
            await opts.onRecorded?.(e.episodeIndex);
          },
        });
      } catch (err) {
        // A failed run may leave a robot mid-episode: start fresh robots for the next job.
        await drill.stop();
        throw err;
      }
      if (spooled + (opts.skip?.size ?? 0) >= job.episodes) {
        this.jobsDone++;
        emit({ type: 'job-done', job, episodes: spooled });
      }
      return spooled;
    } catch (err) {
      emit({ type: 'job-failed', job, message: (err as Error).message });
      throw err;
    } finally {
      this.currentJob = null;
      if (this.state === 'drilling') this.state = 'idle';
    }
  }

  /** Stops taking jobs and drilling (the job in progress stays journaled for the next start); uploads go on. */
  async stopDrilling(): Promise<void> {
    this.jobsStopping.abort();
    await this.drill?.stop();
  }

  /** Stops drilling (a half-run episode is dropped; spooled ones stay for the next start) and the loops. */
  async stop(): Promise<void> {
    this.state = 'stopping';
    this.stopping.abort();
    this.jobsStopping.abort();
    await this.drill?.stop();
    await this.uploader.stop();
    await Promise.allSettled(this.loops);
    await this.transport.close();
  }

  private get hubBase(): string {
    return this.opts.hubUrl.replace(/\/+$/, '');
  }

  private async registerLoop(): Promise<void> {
    let delayMs = 250;
    while (!this.registered && !this.stopping.signal.aborted) {
      try {
        await this.register();
      } catch (err) {
        await sleep(retryStep(delayMs, err), this.stopping.signal);
        delayMs = Math.min(delayMs * 2, 10_000);
      }
    }
  }

  private async heartbeatLoop(): Promise<void> {
    const every = this.opts.heartbeatMs ?? 5000;
    while (!this.stopping.signal.aborted) {
      const s = this.stats;
      const heartbeat = {
        state: s.state,
        spoolEntries: s.spoolEntries,
        spoolBytes: s.spoolBytes,
        uploading: s.connected,
        jobId: this.currentJob,
      };
      if (this.transport instanceof NatsEpisodeTransport) {
        this.transport.publishEvent({ type: 'heartbeat', heartbeat });
      } else if (this.registered) {
        const res = await fetch(`${this.hubBase}/api/fields/${this.opts.name}/heartbeat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(heartbeat),
          signal: AbortSignal.timeout(5000),
        }).catch(() => null);
        // 409: a restarted hub forgot us; register again.
        if (res?.status === 409) await this.register().catch(() => {});
      }
      await sleep(every, this.stopping.signal);
    }
  }

  /**
   * The drill's robots for `job`: the ones loaded for the last job when its settings match (loading a
   * robot's world takes longer than a short episode), new ones otherwise.
   */
  private async robotsForJob(job: DrillJob, robots: number): Promise<Drill> {
    const key = `${robots}/${job.fps}/${job.maxSimSec ?? ''}`;
    if (this.drill?.idle && this.drillKey === key) return this.drill;
    await this.drill?.stop();
    this.drill = null;
    const drill = await Drill.start({
      field: this.opts.name,
      robots,
      allRobots: true,
      fps: job.fps,
      ...(job.maxSimSec ? { maxSimSec: job.maxSimSec } : {}),
      episodes: job.episodes,
      seed: job.seed,
      onEpisode: async () => {},
    });
    if (this.stopping.signal.aborted || this.jobsStopping.signal.aborted) {
      await drill.stop();
      throw new TgError('INTERRUPTED', 'the field is stopping');
    }
    this.drill = drill;
    this.drillKey = key;
    return drill;
  }

  private robotsFor(job: DrillJob): number {
    return Math.min(job.robots ?? this.robotIds.length, this.robotIds.length);
  }

  private async jobLoop(): Promise<void> {
    const signal = this.jobsStopping.signal;
    const every = this.opts.pollMs ?? 2000;
    // The job an earlier run was drilling when it stopped or died: finish it first.
    const saved = this.journal.current;
    if (saved && !signal.aborted) {
      let taken: TakenJob | null = null;
      try {
        taken = this.jobs.resume(saved.job, saved.handle);
      } catch {
        // taken over the other transport: that source hands it out again once the lease runs out
        await this.journal.end(saved.job.id, false);
      }
      if (taken) {
        this.opts.onEvent?.({ type: 'job-resumed', job: saved.job, recorded: saved.recorded.length });
        await this.work(taken, new Set(saved.recorded), Math.min(saved.robots, this.robotIds.length));
      }
    }
    // Leases this field took before a crash and never journaled go back to the queue now, not when they
    // run out (the job resumed above is finished by now, so nothing is kept).
    let released = !this.jobs.release;
    while (!signal.aborted) {
      if (!released && this.registered) released = (await this.jobs.release?.(null)) ?? true;
      const asked = Date.now();
      const taken = this.registered ? await this.jobs.next(signal).catch(() => null) : null;
      if (!taken) {
        // A long poll that ran its course asks again at once; a failed one waits for the next poll.
        await sleep(every - (Date.now() - asked), signal);
        continue;
      }
      if (this.journal.finished(taken.job.id)) {
        // Handed out again after this field finished it (the acknowledgement was lost): acknowledge only.
        await this.acknowledge(taken);
        continue;
      }
      const robots = this.robotsFor(taken.job);
      await this.journal.begin(taken.job, taken.handle, robots);
      await this.work(taken, new Set(), robots);
    }
  }

  /** Drills a taken job with its lease kept alive, then acknowledges it, unless the agent stopped first. */
  private async work(taken: TakenJob, skip: Set<number>, robots: number): Promise<void> {
    const { job } = taken;
    const abort = new AbortController();
    const renew = async () => {
      if (!(await taken.working().catch(() => true)) && !abort.signal.aborted) {
        abort.abort();
        await this.drill?.stop();
      }
    };
    if (skip.size > 0) await renew(); // a resumed job: is it still ours?
    const keepAlive = setInterval(() => void renew(), this.opts.renewMs ?? 10_000);
    try {
      if (!abort.signal.aborted && skip.size < job.episodes) {
        await this.runJob(job, { skip, robots, onRecorded: (i) => this.journal.recorded(i) });
      }
    } catch {
      // job-failed was emitted. Unless the agent is stopping, the job is over and acknowledged below, so a
      // job that cannot be drilled (a diverging simulation) does not come back forever.
    } finally {
      clearInterval(keepAlive);
    }
    if (abort.signal.aborted) {
      await this.journal.end(job.id, false);
      this.opts.onEvent?.({ type: 'job-lost', job });
      return;
    }
    const complete = (this.journal.current?.recorded.length ?? 0) >= job.episodes;
    if (this.jobsStopping.signal.aborted && !complete) return; // stopped mid-job: journaled for the next start
    await this.acknowledge(taken);
  }

  /** Acknowledges a recorded job, retrying while the source is unreachable. */
  private async acknowledge(taken: TakenJob): Promise<void> {
    let delayMs = 250;
    while (!this.stopping.signal.aborted) {
      try {
        const outcome = await taken.done();
        await this.journal.end(taken.job.id, outcome === 'done');
        return;
      } catch (err) {
        await sleep(retryStep(delayMs, err), this.stopping.signal);
        delayMs = Math.min(delayMs * 2, 10_000);
      }
    }
  }
}

/**
 * The wait before retrying a request to the hub: the backoff step, capped while nothing listens at the
 * hub's address, so a job finished during a hub restart is acknowledged soon after the hub is back.
 */
function retryStep(delayMs: number, err: unknown): number {
  return hubDown(err) ? Math.min(delayMs, HUB_DOWN_MAX_MS) : delayMs;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
