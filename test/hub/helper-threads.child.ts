// A process that lowers its helper threads, with a worker thread of its own running: reports every
// thread's name and priority (test/hub/thread-priority.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { lowerHelperThreads, spawnWorker } from '../../src/threads/index.ts';

const worker = spawnWorker(new URL('./thread-priority.child.ts', import.meta.url));
await new Promise((resolve) => worker.once('message', resolve));
const lowered = lowerHelperThreads(9);
const threads = readdirSync('/proc/self/task').map((t) => ({
  tid: Number(t),
  name: readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(),
  nice: getPriority(Number(t)),
}));
process.stdout.write(JSON.stringify({ pid: process.pid, lowered, threads }));
await worker.terminate();
