import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { type ErrorCode, isTgError } from '../../errors/index.ts';
import type { Catalog } from '../catalog/index.ts';
import type { HubNetwork } from '../ingest/index.ts';
import type { ApiErrorBody } from './api-types.ts';
import { ANALYTICS_ROUTE_DOCS, analyticsRoutes } from './routes/analytics.ts';
import { DATASETS_ROUTE_DOCS, datasetsRoutes } from './routes/datasets.ts';
import { docsRoutes, type RouteDoc, trackRoutes } from './routes/docs.ts';
import { EPISODE_FRAMES_ROUTE_DOCS, episodeFramesRoutes } from './routes/episode-frames.ts';
import { EPISODES_ROUTE_DOCS, episodesRoutes } from './routes/episodes.ts';
import { FIELDS_ROUTE_DOCS, fieldsRoutes } from './routes/fields.ts';
import { INGEST_ROUTE_DOCS, ingestRoutes } from './routes/ingest.ts';
import { JOBS_ROUTE_DOCS, jobsRoutes } from './routes/jobs.ts';
import { ROBOTS_ROUTE_DOCS, robotsRoutes } from './routes/robots.ts';
import { STATUS_ROUTE_DOCS, statusRoutes } from './routes/status.ts';

export interface HubAppOptions {
  catalog: Catalog;
  /** Live run summary served at /api/status (see `RunStatus`). */
  status?: () => unknown;
  /** Built console (web/dist) served at `/` with SPA fallback; omitted: API only. */
  consoleDir?: string;
  /** Fastify request logging; off by default (the CLI prints its own lines). */
  logger?: boolean;
  /** Field network (episode ingest, field registry, drill jobs); omitted: no /api/fields, /api/jobs, bundle upload. */
  network?: HubNetwork;
}

/** HTTP status for each error code a request can fail with. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  USAGE: 400,
  CONFIG_INVALID: 400,
  CONFIG_UNREADABLE: 400,
  NOT_FOUND: 404,
  INPUT_INVALID: 400,
  MODEL_INVALID: 422,
  SIM_DIVERGED: 422,
  STORAGE_FAILED: 500,
  INTERRUPTED: 503,
};

/** The hub's HTTP app: one plugin per resource under /api, and the console's static files at /. */
export async function buildHubApp(opts: HubAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false });
  trackRoutes(app);
  closePromptly(app);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isTgError(err)) return sendError(reply, STATUS_BY_CODE[err.code], err.code, err.message);
    // Fastify's own client errors (malformed JSON, unsupported media type) carry a 4xx statusCode.
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, err.statusCode, 'INPUT_INVALID', err.message);
    }
    request.log.error(err);
    return sendError(reply, 500, 'INTERNAL', 'internal error (see the hub log)');
  });

  await app.register(robotsRoutes, { catalog: opts.catalog });
  await app.register(episodesRoutes, { catalog: opts.catalog });
  await app.register(episodeFramesRoutes, { catalog: opts.catalog });
  await app.register(
    statusRoutes,
    opts.status ? { catalog: opts.catalog, status: opts.status } : { catalog: opts.catalog },
  );
  await app.register(datasetsRoutes, { catalog: opts.catalog });
  await app.register(analyticsRoutes, { catalog: opts.catalog });
  const docs: RouteDoc[] = [
    ...ROBOTS_ROUTE_DOCS,
    ...EPISODES_ROUTE_DOCS,
    ...EPISODE_FRAMES_ROUTE_DOCS,
    ...STATUS_ROUTE_DOCS,
    ...DATASETS_ROUTE_DOCS,
    ...ANALYTICS_ROUTE_DOCS,
  ];
  if (opts.network) {
    const { ingest, fields, board, jobs } = opts.network;
    await app.register(ingestRoutes, { ingest });
    await app.register(fieldsRoutes, { fields, board });
    await app.register(jobsRoutes, { jobs, board });
    docs.push(...INGEST_ROUTE_DOCS, ...FIELDS_ROUTE_DOCS, ...JOBS_ROUTE_DOCS);
  }
  await app.register(docsRoutes, { routes: docs });

  const consoleDir =
    opts.consoleDir && existsSync(path.join(opts.consoleDir, 'index.html')) ? opts.consoleDir : null;
  if (opts.consoleDir && !consoleDir) {
    throw new Error(`console directory ${opts.consoleDir} has no index.html (build the console first)`);
  }
  if (consoleDir) {
    await app.register(fastifyStatic, {
      root: consoleDir,
      prefix: '/',
      // Vite fingerprints everything under assets/, so those can be cached forever; index.html must not be.
      setHeaders: (reply, filePath) => {
        reply.header(
          'cache-control',
          filePath.includes(`${path.sep}assets${path.sep}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const isPage = request.method === 'GET' && !url.startsWith('/api/') && url !== '/api';
    // Client-side routes (/robots/arm-01) get the console's shell; the app routes them in the browser.
    if (consoleDir && isPage && !path.extname(url)) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return sendError(reply, 404, 'NOT_FOUND', `no such route: ${request.method} ${url}`);
  });

  return app;
}

/**
 * Lets `close()` finish as soon as the requests in flight are answered. Node closes the idle keep-alive
 * connections when the server closes, but not two other kinds, which held `close()` open for about 70 s
 * (the header timeout, Fastify's keep-alive timeout): connections that never sent a byte (a client that
 * gave up while connecting, e.g. an aborted long poll), and connections whose request is answered after
 * the close began (a long poll ended by the close), which stay open for their next request. The first
 * are dropped; the answers to the second say `Connection: close`.
 */
function closePromptly(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  let closing = false;
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ApiErrorBody = { error: { code, message } };
  return reply.status(status).send(body);
}
