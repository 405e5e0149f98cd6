import { readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../../src/threads/index.ts';

const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
const lowered = lowerThreadPriority(7);
parentPort?.postMessage({ lowered, tid, priority: getPriority(tid) });
