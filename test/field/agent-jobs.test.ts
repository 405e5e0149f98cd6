import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FieldAgent, type FieldEvent } from '../../src/field/agent.ts';
import { type NetworkHub, startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { tempDir } from './fixtures.ts';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startAgent(hub: NetworkHub, name: string, home: string, events: FieldEvent[]) {
  return FieldAgent.start({
    hubUrl: hub.url,
    name,
    home,
    robots: 2,
    pollMs: 100,
    heartbeatMs: 500,
    renewMs: 200,
    backoff: { initialMs: 50, maxMs: 400 },
    onEvent: (e) => events.push(e),
  });
}

async function submit(hub: NetworkHub, spec: object): Promise<string> {
  const res = await fetch(`${hub.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

async function jobState(hub: NetworkHub, id: string): Promise<{ state: string; leases: number }> {
  const { jobs } = (await (await fetch(`${hub.url}/api/jobs`)).json()) as {
    jobs: Array<{ id: string; state: string; leases: number }>;
  };
  const job = jobs.find((j) => j.id === id);
  assert.ok(job, `job ${id} listed`);
  return job;
}

describe('field agent and drill jobs', () => {
  // One hub for every test (each its own field).
  let hub: NetworkHub;
  before(async () => {
    hub = await startNetworkHub({ home: tempDir(), host: '127.0.0.1', port: 0 });
  });
  after(() => hub.close());

  it('a field stopped mid-job resumes it on restart with its lease, skipping what it spooled: every seed once', async () => {
    const home = tempDir();
    const events: FieldEvent[] = [];
    let agent = await startAgent(hub, 'resume', home, events);
    try {
      await agent.whenRegistered();
      const job = await submit(hub, { field: 'resume', episodes: 6, seed: 30, maxSimSec: 0.5 });
      await until('two episodes spooled', () => events.filter((e) => e.type === 'spooled').length >= 2);
      await agent.stop();
      const journal = JSON.parse(readFileSync(path.join(home, 'field-job.json'), 'utf8'));
      const recordedBefore: number = journal.current.recorded.length;
      assert.ok(recordedBefore >= 2 && recordedBefore < 6, `stopped mid-job (${recordedBefore} spooled)`);
      assert.equal(
        (await jobState(hub, job)).state,
        'leased',
        'not acknowledged: not every episode is spooled',
      );

      events.length = 0;
      agent = await startAgent(hub, 'resume', home, events);
      await until('the job done', async () => (await jobState(hub, job)).state === 'done');
      const resumed = events.find((e) => e.type === 'job-resumed');
      assert.ok(resumed && resumed.type === 'job-resumed');
      assert.equal(resumed.recorded, recordedBefore);
      const done = events.find((e) => e.type === 'job-done');
      assert.ok(done && done.type === 'job-done');
      assert.equal(done.episodes, 6 - recordedBefore, 'only the missing episodes were drilled');
      assert.equal((await jobState(hub, job)).leases, 1, 'resumed with its lease, not taken again');

      await until('the spool drained', () => agent.stats.spoolEntries === 0);
      const rows = await hub.catalog.selectEpisodes({ field: 'resume' });
      assert.deepEqual(
        rows.map((r) => r.seed).sort((a, b) => a - b),
        [30, 31, 32, 33, 34, 35],
        'every seed exactly once',
      );
      assert.deepEqual(
        rows.map((r) => [r.seed, r.robotId]).sort((a, b) => Number(a[0]) - Number(b[0])),
        [30, 31, 32, 33, 34, 35].map((s) => [s, `resume-arm7-${(s - 30) % 2}`]),
        'episode k ran on robot k mod 2 in both runs',
      );
      assert.equal(JSON.parse(readFileSync(path.join(home, 'field-job.json'), 'utf8')).current, null);
    } finally {
      await agent.stop();
    }
  });

  it('a job a field leased but never journaled (it died in between) is freed when the field restarts', async () => {
    const events: FieldEvent[] = [];
    let agent: FieldAgent | null = null;
    try {
      const job = await submit(hub, { field: 'orphan', episodes: 1, seed: 5, maxSimSec: 0.5 });
      // The field's earlier life: it took the job, then died before writing its journal.
      const taken = await fetch(`${hub.url}/api/fields/orphan/jobs/lease`, { method: 'POST' });
      assert.equal(taken.status, 200);
      agent = await startAgent(hub, 'orphan', tempDir(), events);
      // Well within the 60 s lease: released at the restart, not when the lease runs out.
      await until('the job done', async () => (await jobState(hub, job)).state === 'done', 30_000);
      assert.equal((await jobState(hub, job)).leases, 2);
    } finally {
      await agent?.stop();
    }
  });

  it('a job cancelled while it is drilled is dropped (not acknowledged) and the field takes the next one', async () => {
    const events: FieldEvent[] = [];
    const agent = await startAgent(hub, 'cancel', tempDir(), events);
    try {
      await agent.whenRegistered();
      const long = await submit(hub, { field: 'cancel', episodes: 500, seed: 0, maxSimSec: 0.5 });
      const next = await submit(hub, { field: 'cancel', episodes: 1, seed: 900, maxSimSec: 0.5 });
      await until('drilling', () => events.some((e) => e.type === 'spooled'));
      const res = await fetch(`${hub.url}/api/jobs/${long}/cancel`, { method: 'POST' });
      assert.equal(res.status, 200);
      await until('the next job done', async () => (await jobState(hub, next)).state === 'done');
      assert.ok(events.some((e) => e.type === 'job-lost' && e.job.id === long));
      assert.ok(!events.some((e) => e.type === 'job-done' && e.job.id === long));
      assert.equal((await jobState(hub, long)).state, 'cancelled');
      assert.ok(agent.stats.recorded < 500);
    } finally {
      await agent.stop();
    }
  });
});
