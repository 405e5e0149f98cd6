import type { AddressInfo } from 'node:net';
import { TgError } from '../../errors/index.ts';
import type { Catalog } from '../catalog/index.ts';
import { ensureConsoleBuilt } from '../console-build.ts';
import { buildHubApp } from './app.ts';

export interface StartHubOptions {
  catalog: Catalog;
  host: string;
  /** 0 picks a free port (tests); the returned url names the real one. */
  port: number;
  status?: () => unknown;
  /** Built console to serve; default: web/dist, built first if stale; null: API only. */
  consoleDir?: string | null;
}

export interface RunningHub {
  /** Base URL to open in a browser, e.g. http://127.0.0.1:7800 */
  url: string;
  close(): Promise<void>;
}

/** Builds the console if needed, then serves the hub's API and console until `close()`. */
export async function startHub(opts: StartHubOptions): Promise<RunningHub> {
  const consoleDir = opts.consoleDir === undefined ? await ensureConsoleBuilt() : opts.consoleDir;
  const app = await buildHubApp({
    catalog: opts.catalog,
    ...(opts.status ? { status: opts.status } : {}),
    ...(consoleDir ? { consoleDir } : {}),
  });
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await app.close().catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new TgError('USAGE', `port ${opts.port} is already in use (set TG_PORT or --port)`, {
        cause: err,
      });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new TgError(
        'USAGE',
        `cannot listen on host ${opts.host}: no such local address (set TG_HOST or --host)`,
        {
          cause: err,
        },
      );
    }
    if (code === 'EACCES') {
      throw new TgError(
        'USAGE',
        `not allowed to listen on port ${opts.port} (choose one above 1023 with TG_PORT or --port)`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  return {
    url: `http://${displayHost(opts.host)}:${address.port}`,
    close: () => app.close(),
  };
}

/** A wildcard bind address is not something a browser can open; show loopback instead. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
