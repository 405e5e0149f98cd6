import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./worker-entry.js', import.meta.url);

/** Starts a worker thread running a TypeScript module; `data` arrives as `workerData` (minus `__tgModule`). */
export function spawnWorker(moduleUrl: URL, data: Record<string, unknown> = {}): Worker {
  return new Worker(ENTRY, { workerData: { ...data, __tgModule: moduleUrl.href } });
}
