/**
 * `tg up` on the embedded default: the hub (PGlite catalog + API + console) and one field whose simulated
 * robots drill pick-and-place; every episode is recorded into a LeRobot v3 dataset under TG_HOME and, when
 * the dataset is closed, registered in the catalog. Stopping at any point leaves a consistent state: the
 * dataset holds whole episodes only and the catalog lists exactly the episodes the dataset holds.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.ts';
import { LeRobotWriter } from '../data/lerobot/writer.ts';
import { validateDataset } from '../data/quality/index.ts';
import { loadEmbodiment } from '../embodiment/index.ts';
import { Drill, type DrilledEpisode } from '../field/drill.ts';
import { Catalog } from '../hub/catalog/index.ts';
import type { RunStatus } from '../hub/server/api-types.ts';
import { startHub } from '../hub/server/start.ts';
import { lockHome } from './home-lock.ts';

export const LOCAL_FIELD = 'local';

export interface UpSummary {
  episodes: number;
  successes: number;
  successRate: number;
  datasetName: string | null;
  datasetPath: string | null;
  durationSec: number;
  robots: string[];
  url: string;
  /** Accepted frames / recorded frames by the quality checks (null without a dataset). */
  dataYield: number | null;
  /** Episodes the quality checks accepted. */
  acceptedEpisodes: number;
  /** True when the run was interrupted before all planned episodes ran. */
  interrupted: boolean;
  simSec: number;
  spineInterventions: number;
}

export interface UpOptions {
  onEpisode?: (status: RunStatus, e: DrilledEpisode) => void;
}

export class Facility {
  private readonly status: RunStatus;
  private drill: Drill | null = null;
  private interrupted = false;

  private constructor(
    private readonly config: Config,
    private readonly catalog: Catalog,
    private readonly hub: { url: string; close(): Promise<void> },
    private readonly unlock: () => void,
    status: RunStatus,
  ) {
    this.status = status;
  }

  /** Opens the catalog and starts the hub; the console is live from here on. */
  static async start(config: Config): Promise<Facility> {
    const unlock = lockHome(config.home);
    let catalog: Catalog | undefined;
    try {
      catalog = await Catalog.open({ dataDir: path.join(config.home, 'catalog') });
      const status: RunStatus = {
        state: 'starting',
        episodesDone: 0,
        episodesPlanned: config.up.episodes,
        successes: 0,
        robots: config.up.robots,
        startedAt: new Date().toISOString(),
        message: 'starting robots',
      };
      const hub = await startHub({ catalog, host: config.host, port: config.port, status: () => status });
      return new Facility(config, catalog, hub, unlock, status);
    } catch (err) {
      await catalog?.close().catch(() => {});
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

  /** Runs the drill to the end (or until `interrupt()`), then commits dataset and catalog together. */
  async runDrill(opts: UpOptions = {}): Promise<UpSummary> {
    const { up } = this.config;
    const started = performance.now();
    const dataset = uniqueDatasetName(path.join(this.config.home, 'datasets'));
    const drilled: Array<{ e: DrilledEpisode; index: number; recordedAt: Date }> = [];
    let simSec = 0;
    let spineInterventions = 0;
    let writer: LeRobotWriter | null = null;

    this.drill = await Drill.start({
      field: LOCAL_FIELD,
      robots: up.robots,
      episodes: up.episodes,
      seed: up.seed,
      fps: up.fps,
      onEpisode: async (e) => {
        if (!writer) throw new Error('dataset writer not open');
        const index = await writer.addEpisode(e.episode);
        drilled.push({ e, index, recordedAt: new Date() });
        simSec += e.simSec;
        spineInterventions += e.spineInterventions;
        this.status.episodesDone++;
        if (e.episode.meta.success) this.status.successes++;
        this.status.message = `episode ${index} ${e.episode.meta.success ? 'succeeded' : 'failed'} on ${e.robotId}`;
        opts.onEpisode?.(this.status, e);
      },
    });
    const robots = this.drill.robots;
    const { stateNames, actionNames } = robots[0]!;
    await mkdir(path.dirname(dataset.path), { recursive: true });
    writer = await LeRobotWriter.create(dataset.path, {
      fps: up.fps,
      robotType: 'arm7',
      features: {
        'observation.state': { dtype: 'float32', shape: [stateNames.length], names: stateNames },
        action: { dtype: 'float32', shape: [actionNames.length], names: actionNames },
      },
    });
    for (const r of robots) {
      await this.catalog.upsertRobot({
        id: r.id,
        name: r.id,
        embodiment: 'arm7',
        embodimentHash: r.embodimentHash,
        vendor: 'tg-sim',
        field: LOCAL_FIELD,
      });
    }
    this.status.state = 'running';
    this.status.message = `drilling pick-and-place on ${robots.length} robot(s)`;

    let failure: unknown = null;
    try {
      await this.drill.run();
    } catch (err) {
      failure = err;
    } finally {
      await this.drill.stop();
    }

    // Commit: close the dataset (atomic rename), then register it and its episodes in one transaction.
    let datasetPath: string | null = null;
    if (drilled.length > 0) {
      await writer.close();
      datasetPath = dataset.path;
      await this.catalog.registerDataset({
        name: dataset.name,
        path: dataset.path,
        fps: up.fps,
        robotType: 'arm7',
      });
      await this.catalog.insertEpisodes(
        dataset.name,
        drilled.map(({ e, index, recordedAt }) => ({
          id: e.episode.meta.id,
          robotId: e.robotId,
          episodeIndex: index,
          task: e.episode.meta.task,
          instruction: e.episode.meta.instruction,
          source: e.episode.meta.source,
          phase: e.episode.meta.phase,
          success: e.episode.meta.success === true,
          seed: e.episode.meta.seed,
          length: e.episode.length,
          durationSec: e.episode.length / up.fps,
          recordedAt,
        })),
      );
    } else {
      await writer.abort();
    }
    // Data yield is computed from the dataset as written, never typed in.
    const quality = datasetPath
      ? (
          await validateDataset(datasetPath, {
            jointLimits: loadEmbodiment('arm7').jointLimits,
            actionKind: 'position',
          })
        ).yield
      : null;
    this.status.state = failure ? 'failed' : this.interrupted ? 'stopped' : 'done';
    this.status.message = failure
      ? (failure as Error).message
      : `${drilled.length} episode(s) in ${dataset.name}`;
    if (failure) throw failure;

    const episodes = drilled.length;
    const successes = drilled.filter(({ e }) => e.episode.meta.success).length;
    return {
      episodes,
      successes,
      successRate: episodes ? successes / episodes : 0,
      datasetName: datasetPath ? dataset.name : null,
      datasetPath,
      durationSec: Math.round((performance.now() - started) / 10) / 100,
      robots: robots.map((r) => r.id),
      url: this.hub.url,
      dataYield: quality?.yield ?? null,
      acceptedEpisodes: quality?.acceptedEpisodes ?? 0,
      interrupted: this.interrupted,
      simSec: Math.round(simSec * 100) / 100,
      spineInterventions,
    };
  }

  /** Ctrl-C: stop drilling now; `runDrill` then commits the whole episodes it has. */
  async interrupt(): Promise<void> {
    this.interrupted = true;
    await this.drill?.stop();
  }

  async close(): Promise<void> {
    try {
      await this.hub.close();
    } finally {
      try {
        await this.catalog.close();
      } finally {
        this.unlock();
      }
    }
  }
}

function uniqueDatasetName(dir: string): { name: string; path: string } {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  for (let n = 0; ; n++) {
    const name = `pick-place-${stamp}${n ? `-${n}` : ''}`;
    const p = path.join(dir, name);
    if (!existsSync(p)) return { name, path: p };
  }
}
