// Plain-JS bootstrap for worker threads: registers tsx in the worker, then loads the TypeScript module.
// (Node's loader hooks are per thread, and `execArgv: ['--import', 'tsx']` does not reach workers here.)
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__tgModule);
