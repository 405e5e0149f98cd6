import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TgError } from '../errors/index.ts';

/**
 * One `tg` process owns a TG_HOME at a time: the embedded catalog (PGlite) is single-process. The lock
 * file holds the owner's pid; a lock whose process is gone is stale and taken over.
 */
export function lockHome(home: string): () => void {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, 'tg.lock');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new TgError('STORAGE_FAILED', `cannot create ${file}: ${(err as Error).message}`);
    }
    const owner = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new TgError('USAGE', `${home} is in use by another tg process (pid ${owner})`);
    }
    writeFileSync(file, String(process.pid));
  }
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
