import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TgError } from '../errors/index.ts';

/** The console's source folder (top-level web/). */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
/** Where the built console lives; ignored by git. */
export const CONSOLE_DIST_DIR = path.join(WEB_DIR, 'dist');

let building: Promise<string> | null = null;

/**
 * Returns web/dist, building it with Vite first when it is missing or older than any file under web/
 * (so `tg up` works straight after `npm ci`). Concurrent callers in one process share one build.
 */
export function ensureConsoleBuilt(): Promise<string> {
  building ??= buildIfStale().finally(() => {
    building = null;
  });
  return building;
}

async function buildIfStale(): Promise<string> {
  const builtAt = await mtimeMs(path.join(CONSOLE_DIST_DIR, 'index.html'));
  const sourcesAt = await newestMtimeMs(WEB_DIR, new Set(['dist', 'node_modules']));
  if (builtAt !== null && builtAt >= sourcesAt) return CONSOLE_DIST_DIR;

  // Build beside dist and swap it in, so a reader (or a second tg process) never sees a half-written dist.
  const staging = path.join(WEB_DIR, `.dist-${process.pid}-${Date.now()}`);
  try {
    const { build } = await import('vite');
    await build({
      configFile: path.join(WEB_DIR, 'vite.config.ts'),
      root: WEB_DIR,
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true },
    });
    await rm(CONSOLE_DIST_DIR, { recursive: true, force: true });
    await rename(staging, CONSOLE_DIST_DIR);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another process swapped its build in first: that one is as fresh as ours.
    if ((await mtimeMs(path.join(CONSOLE_DIST_DIR, 'index.html'))) !== null && isRaceError(err)) {
      return CONSOLE_DIST_DIR;
    }
    throw new TgError(
      'STORAGE_FAILED',
      `building the console in ${WEB_DIR} failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return CONSOLE_DIST_DIR;
}

function isRaceError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST';
}

async function mtimeMs(file: string): Promise<number | null> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

async function newestMtimeMs(dir: string, skip: Set<string>): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (skip.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    const t = entry.isDirectory() ? await newestMtimeMs(full, skip) : ((await mtimeMs(full)) ?? 0);
    newest = Math.max(newest, t);
  }
  return newest;
}
