import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

export { runQueueWaitMs } from './run-queue.ts';

const ENTRY = new URL('./worker-entry.js', import.meta.url);

/** Starts a worker thread running a TypeScript module; `data` arrives as `workerData` (minus `__tgModule`). */
export function spawnWorker(moduleUrl: URL, data: Record<string, unknown> = {}): Worker {
  return new Worker(ENTRY, { workerData: { ...data, __tgModule: moduleUrl.href } });
}

/**
 * Priority (nice) of a process's bulk threads (ingest verification, NATS consumption, V8 and libuv
 * helpers): the threads that answer requests run first on a busy machine, bulk work fills the gaps.
 */
export const BULK_THREAD_NICE = 10;

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

/**
 * Lowers the priority (nice) of every thread of process `pid` (Linux, where priority is per thread; the
 * system call behind os.setPriority(pid) changes only the thread whose id is `pid`, so a process's V8 and
 * libuv helper threads would keep theirs). `only` picks threads by name (its /proc comm); threads started
 * later inherit the priority of the thread that starts them. Returns how many threads it lowered.
 */
export function lowerProcessPriority(
  pid: number,
  nice: number,
  only?: (name: string, tid: number) => boolean,
): number {
  let lowered = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tids) {
    const tid = Number(t);
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      if (only && !only(name, tid)) continue;
      setPriority(tid, Math.max(getPriority(tid), nice));
      lowered++;
    } catch {
      // The thread ended meanwhile, or this platform has no per-thread priority.
    }
  }
  return lowered;
}

/**
 * Puts this process's unnamed helper threads (V8's platform workers, which run garbage-collection work, and
 * libuv's pool, which runs file I/O) behind its main thread and its named worker threads: on a small
 * machine a server's request handling then runs first and background work fills the gaps.
 */
export function lowerHelperThreads(nice: number): number {
  return lowerProcessPriority(process.pid, nice, (name, tid) => tid !== process.pid && name === 'node');
}
