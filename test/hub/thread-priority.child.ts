import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../../src/threads/index.ts';

const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
const lowered = lowerThreadPriority(7);
const name = readFileSync('/proc/thread-self/comm', 'utf8').trim();
parentPort?.postMessage({ lowered, tid, priority: getPriority(tid), name });
