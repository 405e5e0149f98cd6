/**
 * `tg hub start`: the hub as the centre of a 1+N network. Opens the catalog, serves the HTTP API with the
 * field routes (register, heartbeat, jobs, bundle upload) and, with a NATS URL, also consumes bundles from
 * JetStream and puts drill jobs on the work queue.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { TgError } from '../../errors/index.ts';
import type { NatsLayout } from '../../field/transport/nats-layout.ts';
import { BULK_THREAD_NICE, lowerHelperThreads } from '../../threads/index.ts';
import { Catalog } from '../catalog/index.ts';
import { buildHubApp } from '../server/app.ts';
import { EpisodeIngest, type EpisodeIngestOptions } from './episode-ingest.ts';
import { FieldRegistry, HeartbeatSchema } from './field-registry.ts';
import type { HubNetwork } from './index.ts';
import { JobBoard } from './job-board.ts';
import { NatsHubLink } from './nats-hub.ts';

export interface NetworkHubOptions {
  /** TG_HOME: catalog in `<home>/catalog`, bundles in the blob store under `<home>/hub/blobs`. */
  home: string;
  host: string;
  port: number;
  /** Use this catalog instead of opening `<home>/catalog` (it is not closed by `close()`). */
  catalog?: Catalog;
  /** NATS server (TG_NATS_URL): bundles and jobs go through JetStream as well. */
  natsUrl?: string | null;
  /** Stream and subject names (tests use unique ones). */
  nats?: Partial<NatsLayout>;
  maxBundleBytes?: number;
  /** Episode ingest tuning (fsync before commit, group size, threads); see `EpisodeIngestOptions`. */
  ingest?: Pick<EpisodeIngestOptions, 'durable' | 'maxCommitEpisodes' | 'threads'>;
  /** Built console to serve; omitted: API only. */
  consoleDir?: string;
  /** Live run summary served at /api/status (`tg up --fields`); default: the catalog's totals. */
  status?: () => unknown;
  /**
   * Whether the hub owns its process (`tg hub start`): then, once it listens, the process's helper threads
   * (garbage collection, file I/O) run at a lower priority than the threads that answer requests (the main
   * thread and the catalog's), so ingest at full speed does not queue API answers behind it on a small
   * machine. Off (the default) where the hub shares its process with other work (`tg up`, tests).
   */
  ownsProcess?: boolean;
}

export interface NetworkHub {
  url: string;
  network: HubNetwork;
  catalog: Catalog;
  nats: NatsHubLink | null;
  /** The HTTP server the API listens on (for instrumentation: the benchmark times requests on it). */
  server: Server;
  close(): Promise<void>;
}

export async function startNetworkHub(opts: NetworkHubOptions): Promise<NetworkHub> {
  const catalog =
    opts.catalog ?? (await Catalog.open({ dataDir: path.join(opts.home, 'catalog'), thread: true }));
  const ownsCatalog = opts.catalog === undefined;
  let nats: NatsHubLink | null = null;
  try {
    const ingest = await EpisodeIngest.open({
      catalog,
      dir: path.join(opts.home, 'hub'),
      ...(opts.maxBundleBytes ? { maxBundleBytes: opts.maxBundleBytes } : {}),
      ...opts.ingest,
    });
    const fields = new FieldRegistry(catalog);
    fields.onRegistered.push(() => ingest.robotsChanged());
    const board = new JobBoard(catalog);
    if (opts.natsUrl) {
      const link = await NatsHubLink.start({
        url: opts.natsUrl,
        ingest,
        layout: opts.nats,
        onEvent: (field, event) => {
          const beat = HeartbeatSchema.safeParse((event as { heartbeat?: unknown } | null)?.heartbeat);
          if (beat.success) fields.heartbeat(field, beat.data);
        },
      });
      nats = link;
      fields.onRegistered.push((field) => link.addField(field));
    }
    const network: HubNetwork = { ingest, fields, board, jobs: nats ?? board };
    const app = await buildHubApp({
      catalog,
      network,
      ...(opts.consoleDir ? { consoleDir: opts.consoleDir } : {}),
      ...(opts.status ? { status: opts.status } : {}),
    });
    try {
      await app.listen({ host: opts.host, port: opts.port });
    } catch (err) {
      await app.close().catch(() => {});
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new TgError('USAGE', `port ${opts.port} is already in use (set TG_PORT or --port)`, {
          cause: err,
        });
      }
      throw err;
    }
    if (opts.ownsProcess) lowerHelperThreads(BULK_THREAD_NICE);
    const { port } = app.server.address() as AddressInfo;
    const host = opts.host === '0.0.0.0' || opts.host === '' ? '127.0.0.1' : opts.host;
    const link = nats;
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      network,
      catalog,
      nats: link,
      server: app.server,
      close: async () => {
        try {
          await link?.close();
          await app.close();
          await ingest.close();
        } finally {
          if (ownsCatalog) await catalog.close();
        }
      },
    };
  } catch (err) {
    await nats?.close().catch(() => {});
    if (ownsCatalog) await catalog.close().catch(() => {});
    throw err;
  }
}
