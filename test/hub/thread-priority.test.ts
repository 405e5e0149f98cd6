import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { test } from 'node:test';
import { lowerProcessPriority, spawnWorker } from '../../src/threads/index.ts';

const TSX = import.meta.resolve('tsx');

test('lowerThreadPriority renices the calling worker thread only (Linux)', async () => {
  const before = getPriority();
  const worker = spawnWorker(new URL('./thread-priority.child.ts', import.meta.url));
  const reply = await new Promise<{ lowered: boolean; tid: number; priority: number; name: string }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  await worker.terminate();
  assert.equal(reply.name, 'tg:thread-prior', 'the thread is named after its module (15 characters at most)');
  assert.equal(reply.lowered, true);
  assert.notEqual(reply.tid, process.pid, 'the worker has its own thread id');
  assert.equal(reply.priority, 7);
  assert.equal(getPriority(), before, 'the main thread keeps its priority');
});

test('lowerProcessPriority lowers every thread of another process, never raises one', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const pid = child.pid!;
    // V8's and libuv's helper threads start with the process: wait until there are some.
    while (readdirSync(`/proc/${pid}/task`).length < 2) await new Promise((r) => setTimeout(r, 10));
    const tids = readdirSync(`/proc/${pid}/task`).map(Number);
    const helper = tids.find((t) => t !== pid)!;
    setPriority(helper, 12);
    const lowered = lowerProcessPriority(pid, 5);
    assert.ok(lowered >= tids.length, `lowered ${lowered} of ${tids.length} threads`);
    for (const t of readdirSync(`/proc/${pid}/task`).map(Number)) {
      assert.equal(getPriority(t), t === helper ? 12 : 5, `thread ${t}`);
    }
    assert.equal(lowerProcessPriority(999_999_999, 5), 0, 'no such process: nothing lowered, no throw');
  } finally {
    child.kill();
  }
});

test("lowerHelperThreads lowers a process's unnamed helpers, not its main or worker threads", () => {
  const out = execFileSync(
    process.execPath,
    ['--import', TSX, new URL('./helper-threads.child.ts', import.meta.url).pathname],
    {
      encoding: 'utf8',
    },
  );
  const report = JSON.parse(out) as {
    pid: number;
    lowered: number;
    threads: Array<{ tid: number; name: string; nice: number }>;
  };
  const main = report.threads.find((t) => t.tid === report.pid)!;
  assert.equal(main.nice, 0, 'the main thread keeps its priority');
  const worker = report.threads.find((t) => t.name === 'tg:thread-prior');
  assert.equal(worker?.nice, 7, 'a named worker thread keeps the priority it chose');
  const helpers = report.threads.filter((t) => t.tid !== report.pid && t.name === 'node');
  assert.ok(helpers.length >= 4, `V8 and libuv helper threads: ${JSON.stringify(report.threads)}`);
  assert.equal(report.lowered, helpers.length);
  for (const h of helpers) assert.equal(h.nice, 9, `helper thread ${h.tid}`);
});
