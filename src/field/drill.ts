/**
 * The field's drill: one worker thread per simulated robot, so a fleet keeps every core busy and the main
 * thread stays free for HTTP and writing. Episode k always runs on robot k mod robots: an episode's content
 * (and so its content-hash id) names its robot, and a job run again after a crash must record the very same
 * episodes, not the same seeds on other robots. Episodes come back in completion order; `onEpisode` is
 * awaited one at a time (the dataset writer is single-threaded).
 */
import type { Worker } from 'node:worker_threads';
import type { RecordedEpisode } from '../data/episode.ts';
import { TgError } from '../errors/index.ts';
import { spawnWorker } from '../threads/index.ts';
import type { DrillCommand, DrillReport, DrillWorkerData } from './drill-protocol.ts';

export interface DrillRobot {
  id: string;
  embodimentHash: string;
  stateNames: string[];
  actionNames: string[];
}

export interface DrilledEpisode {
  episode: RecordedEpisode;
  /** Index of the episode in the drill (its seed is `seed + episodeIndex`). */
  episodeIndex: number;
  robotId: string;
  simSec: number;
  wallSec: number;
  spineInterventions: number;
}

/** What one run of the drill records: episodes `0..episodes-1`, episode k from seed `seed + k`. */
export interface DrillPlan {
  episodes: number;
  seed: number;
  /** Episode indexes already recorded (a resumed job): not run again. */
  skip?: ReadonlySet<number>;
  onEpisode: (e: DrilledEpisode) => Promise<void>;
  /**
   * A robot starts its next episode only after its last one was delivered (`onEpisode` resolved), so a
   * slow sink (a full spool) pauses the drill instead of piling episodes up in memory.
   */
  waitForDelivery?: boolean;
}

export interface DrillOptions extends DrillPlan {
  field: string;
  robots: number;
  fps: number;
  maxSimSec?: number;
  /**
   * Start all `robots` even when the first plan has fewer episodes (a field keeps them for its next
   * jobs). Episode k still runs on robot k mod robots, which is k whenever k < episodes <= robots.
   */
  allRobots?: boolean;
}

interface RobotThread {
  robot: DrillRobot;
  worker: Worker;
}

const WORKER = new URL('./drill-worker.ts', import.meta.url);

export class Drill {
  private threads: RobotThread[] = [];
  /** The current run stops handing out episodes (a failure, or `stop()`). */
  private halted = false;
  private stopped = false;
  private running = false;
  private sink: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  private constructor(private readonly opts: DrillOptions) {}

  /** Starts the robots (worker threads) and waits until each has loaded its world. */
  static async start(opts: DrillOptions): Promise<Drill> {
    const drill = new Drill(opts);
    const count = Math.max(1, opts.allRobots ? opts.robots : Math.min(opts.robots, opts.episodes));
    drill.threads = await Promise.all(
      Array.from({ length: count }, (_, i) => drill.startRobot(`${opts.field}-arm7-${i}`)),
    );
    return drill;
  }

  get robots(): DrillRobot[] {
    return this.threads.map((t) => t.robot);
  }

  private startRobot(id: string): Promise<RobotThread> {
    const data: DrillWorkerData = {
      robotId: id,
      field: this.opts.field,
      fps: this.opts.fps,
      maxSimSec: this.opts.maxSimSec ?? 12,
    };
    const worker = spawnWorker(WORKER, { ...data });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (report: DrillReport) => {
        worker.off('error', reject);
        if (report.type !== 'ready') return reject(new Error(`robot ${id}: unexpected first message`));
        const { embodimentHash, stateNames, actionNames } = report;
        resolve({ robot: { id, embodimentHash, stateNames, actionNames }, worker });
      });
    });
  }

  /** Robot threads ready for another run: not stopped, and no run under way. */
  get idle(): boolean {
    return !this.stopped && !this.running;
  }

  /**
   * Runs every episode of `plan` (default: the plan the drill started with); resolves when all are
   * delivered or `stop()` was called. The robots stay loaded for another run.
   */
  async run(plan: DrillPlan = this.opts): Promise<void> {
    if (!this.idle) throw new Error(this.stopped ? 'the drill was stopped' : 'the drill is running already');
    this.running = true;
    this.halted = false;
    this.failure = null;
    this.sink = Promise.resolve();
    try {
      await Promise.all(this.threads.map((t, i) => this.feed(t, i, plan)));
      await this.sink;
      if (this.failure) throw this.failure;
    } finally {
      this.running = false;
    }
  }

  private async feed(thread: RobotThread, robotIndex: number, plan: DrillPlan): Promise<void> {
    const stride = this.threads.length;
    for (let episodeIndex = robotIndex; episodeIndex < plan.episodes; episodeIndex += stride) {
      if (this.halted || this.stopped) return;
      if (plan.skip?.has(episodeIndex)) continue;
      const report = await this.runOne(thread, episodeIndex, plan.seed + episodeIndex);
      if (report === null) return; // stopped mid-episode: the partial episode is dropped
      if (report.type === 'failed') {
        this.failure ??= new TgError(
          report.code === 'SIM_DIVERGED' ? 'SIM_DIVERGED' : 'STORAGE_FAILED',
          `robot ${thread.robot.id}, episode ${episodeIndex}: ${report.message}`,
        );
        this.halted = true;
        return;
      }
      if (report.type !== 'episode') continue;
      const delivered: DrilledEpisode = {
        episode: report.episode,
        episodeIndex,
        robotId: thread.robot.id,
        simSec: report.simSec,
        wallSec: report.wallSec,
        spineInterventions: report.spineInterventions,
      };
      this.sink = this.sink.then(() => (this.failure ? undefined : plan.onEpisode(delivered)));
      this.sink = this.sink.catch((err: Error) => {
        this.failure ??= err;
        this.halted = true;
      });
      if (plan.waitForDelivery) await this.sink;
    }
  }

  private runOne(thread: RobotThread, episodeIndex: number, seed: number): Promise<DrillReport | null> {
    return new Promise((resolve) => {
      const onMessage = (report: DrillReport) => {
        cleanup();
        resolve(report);
      };
      const onExit = () => {
        cleanup();
        resolve(null);
      };
      const onError = (err: Error) => {
        cleanup();
        resolve({ type: 'failed', episodeIndex, code: 'INTERNAL', message: err.message });
      };
      const cleanup = () => {
        thread.worker.off('message', onMessage);
        thread.worker.off('exit', onExit);
        thread.worker.off('error', onError);
      };
      thread.worker.on('message', onMessage);
      thread.worker.once('exit', onExit);
      thread.worker.once('error', onError);
      const cmd: DrillCommand = { type: 'run', episodeIndex, seed };
      thread.worker.postMessage(cmd);
    });
  }

  /** Stops handing out episodes and ends the robot threads now; a half-run episode is dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
