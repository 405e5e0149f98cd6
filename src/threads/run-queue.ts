import { closeSync, openSync, readSync } from 'node:fs';

/**
 * How long the calling thread has waited on a run queue (runnable, but the kernel gave its core to another
 * thread), in milliseconds, from the kernel's per-thread schedstat (Linux; NaN elsewhere). The kernel adds
 * each wait when the thread gets its core back, so a reading taken while the thread runs counts every
 * preemption up to now exactly. The difference of two readings is how much of the wall time between them
 * the thread spent preempted: what a latency measurement must not charge to the code it timed.
 *
 * The file is opened once per thread (its path resolves to the opening thread) and re-read in place: about
 * a microsecond a reading, cheap enough to take every few control ticks.
 */
export function runQueueWaitMs(): number {
  if (fd === undefined) fd = openSchedstat();
  if (fd === null) return Number.NaN;
  const n = readSync(fd, buf, 0, buf.length, 0);
  // "<ns on a CPU> <ns waiting on a run queue> <time slices>\n"
  let i = 0;
  while (i < n && buf[i] !== 0x20) i++;
  let wait = 0;
  for (i++; i < n; i++) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) break;
    wait = wait * 10 + c;
  }
  return wait / 1e6;
}

// One per thread: each worker thread has its own module instance.
let fd: number | null | undefined;
const buf = Buffer.alloc(96);

function openSchedstat(): number | null {
  try {
    const f = openSync('/proc/thread-self/schedstat', 'r');
    // Descriptors belong to the process: a worker thread that ends must give its own back.
    process.once('exit', () => closeSync(f));
    return f;
  } catch {
    // No scheduler statistics here: preemptions are not recognized, latencies stay wall time.
    return null;
  }
}
