import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { spawnWorker } from '../../src/threads/index.ts';

test('lowerThreadPriority renices the calling worker thread only (Linux)', async () => {
  const before = getPriority();
  const worker = spawnWorker(new URL('./thread-priority.child.ts', import.meta.url));
  const reply = await new Promise<{ lowered: boolean; tid: number; priority: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(reply.lowered, true);
  assert.notEqual(reply.tid, process.pid, 'the worker has its own thread id');
  assert.equal(reply.priority, 7);
  assert.equal(getPriority(), before, 'the main thread keeps its priority');
});
