// Plain-JS bootstrap for worker threads: registers tsx in the worker, then loads the TypeScript module.
// (Node's loader hooks are per thread, and `execArgv: ['--import', 'tsx']` does not reach workers here.)
import { writeFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

// Names the OS thread after its module (Linux: `top -H` and /proc show "tg:bundle-worker", not "node"), so
// a thread's CPU time can be told apart from the others'. Elsewhere, or where not allowed, it keeps its name.
try {
  const module = workerData.__tgModule
    .split('/')
    .pop()
    .replace(/\.[cm]?[jt]s$/, '');
  writeFileSync('/proc/thread-self/comm', `tg:${module}`.slice(0, 15));
} catch {}

register();
await import(workerData.__tgModule);
