import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./worker-entry.js', import.meta.url);

/** Starts a worker thread running a TypeScript module; `data` arrives as `workerData` (minus `__tgModule`). */
export function spawnWorker(moduleUrl: URL, data: Record<string, unknown> = {}): Worker {
  return new Worker(ENTRY, { workerData: { ...data, __tgModule: moduleUrl.href } });
}

/**
 * Gives the calling thread a lower scheduling priority (a nice value; Linux, where a thread has its own
 * id under /proc/thread-self). For bulk threads that share cores with latency-sensitive ones: on a small
 * machine the API's threads then run first and bulk work fills the gaps. Returns false where unsupported.
 */
export function lowerThreadPriority(nice: number): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, Math.max(getPriority(tid), nice));
    return true;
  } catch {
    return false;
  }
}
