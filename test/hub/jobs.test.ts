import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { JobBoard } from '../../src/hub/ingest/index.ts';
import { catalogBackends } from './backends.ts';

const backends = await catalogBackends();
const tick = () => new Promise((r) => setTimeout(r, 5));

for (const backend of backends) {
  describe(`drill job board (${backend.name})`, () => {
    // One catalog for the tests (each its own fields); the restart test opens its own.
    let catalog: Catalog;
    before(async () => {
      catalog = await Catalog.open(await backend.place('jobs'));
    });
    after(async () => {
      await catalog.close();
      await backend.cleanup();
    });

    test('a job is leased to one taker, renewed, acknowledged once and never handed out again', async () => {
      const board = new JobBoard(catalog);
      const job = await board.submit({ field: 'lease-f1', episodes: 3, seed: 7 });
      assert.equal(await board.lease('lease-f2'), null, 'another field does not get it');
      const lease = await board.lease('lease-f1');
      assert.ok(lease);
      assert.deepEqual(lease.job, job);
      assert.equal(await board.lease('lease-f1'), null, 'leased: nobody else gets it');

      assert.equal(await board.renew(job.id, 'not-the-token'), null);
      const renewed = await board.renew(job.id, lease.token);
      assert.ok(renewed && renewed >= lease.expiresAt);

      assert.equal(await board.ack(job.id, 'not-the-token'), 'lease lost');
      assert.equal(await board.ack(job.id, lease.token), 'done');
      assert.equal(await board.ack(job.id, lease.token), 'done', 'acknowledging twice is harmless');
      assert.equal(await board.renew(job.id, lease.token), null, 'a done job has no lease to renew');
      assert.equal(await board.lease('lease-f1'), null);
      const [status] = await board.list({ field: 'lease-f1' });
      assert.equal(status?.state, 'done');
      assert.equal(status?.leases, 1);
      assert.equal(status?.leaseExpiresAt, null);
    });

    test('takers asking at once get different jobs, oldest first', async () => {
      const board = new JobBoard(catalog);
      const jobs = [];
      for (let i = 0; i < 3; i++)
        jobs.push(await board.submit({ field: 'concurrent-f', episodes: 1, seed: i }));
      const leases = await Promise.all(Array.from({ length: 8 }, () => board.lease('concurrent-f')));
      const taken = leases.filter((l) => l !== null).map((l) => l.job.id);
      assert.equal(taken.length, 3, 'three jobs, three takers; the other five get none');
      assert.deepEqual(new Set(taken), new Set(jobs.map((j) => j.id)));
      const again = await board.lease('concurrent-f');
      assert.equal(again, null);
    });

    test('a lease that runs out makes the job available again; the old lease can neither renew nor ack', async () => {
      const board = new JobBoard(catalog, { leaseMs: 0 });
      const job = await board.submit({ field: 'expiry-f', episodes: 1 });
      const first = await board.lease('expiry-f');
      assert.ok(first);
      await tick();
      const second = await board.lease('expiry-f');
      assert.ok(second, 'the first taker died: the job is handed out again');
      assert.equal(second.job.id, job.id);
      assert.notEqual(second.token, first.token);
      assert.equal(await board.renew(job.id, first.token), null);
      assert.equal(await board.ack(job.id, first.token), 'lease lost');
      assert.equal(await board.ack(job.id, second.token), 'done');
      assert.equal((await board.get(job.id))?.leases, 2);
    });

    test('a slow taker whose lease ran out keeps the job while nobody else took it', async () => {
      const board = new JobBoard(catalog, { leaseMs: 0 });
      const job = await board.submit({ field: 'slow-f', episodes: 1 });
      const lease = await board.lease('slow-f');
      assert.ok(lease);
      await tick();
      assert.ok(await board.renew(job.id, lease.token));
      assert.equal(await board.ack(job.id, lease.token), 'done');
    });

    test('queued and leased jobs survive a hub restart', async () => {
      const place = await backend.place('restart');
      let restarted = await Catalog.open(place);
      let leased: string;
      let queued: string;
      try {
        const board = new JobBoard(restarted);
        leased = (await board.submit({ field: 'f', episodes: 2 })).id;
        queued = (await board.submit({ field: 'f', episodes: 5 })).id;
        const lease = await board.lease('f');
        assert.equal(lease?.job.id, leased);
        await restarted.close();
        restarted = await Catalog.open(place);
        const reopened = new JobBoard(restarted);
        assert.equal(
          await reopened.renew(leased, lease?.token ?? ''),
          (await reopened.get(leased))?.leaseExpiresAt,
        );
        assert.equal((await reopened.lease('f'))?.job.id, queued, 'the queued job is still there');
        assert.deepEqual(
          (await reopened.list({ states: ['leased'] })).map((j) => j.id),
          [leased, queued],
        );
      } finally {
        await restarted.close();
      }
    });

    test("a restarted field's unrecorded leases go back to the queue, all but the one it keeps", async () => {
      const board = new JobBoard(catalog);
      const a = await board.submit({ field: 'release-f', episodes: 1 });
      const b = await board.submit({ field: 'release-f', episodes: 1 });
      const other = await board.submit({ field: 'release-g', episodes: 1 });
      const leaseA = await board.lease('release-f');
      const leaseB = await board.lease('release-f');
      assert.ok(leaseA && leaseB);
      assert.ok(await board.lease('release-g'));
      assert.deepEqual(await board.release('release-f', a.id), [b.id]);
      assert.ok(await board.renew(a.id, leaseA.token), 'the kept lease holds');
      assert.equal(await board.renew(b.id, leaseB.token), null, 'the released one is gone');
      assert.equal((await board.lease('release-f'))?.job.id, b.id, 'and handed out again');
      assert.equal((await board.get(other.id))?.state, 'leased', "another field's lease is untouched");
      assert.deepEqual(new Set(await board.release('release-f', null)), new Set([a.id, b.id]));
      assert.equal((await board.list({ field: 'release-f', states: ['queued'] })).length, 2);
    });

    test('a cancelled job is not handed out and its lease is lost; cancelling twice is refused', async () => {
      const board = new JobBoard(catalog);
      const a = await board.submit({ field: 'cancel-f', episodes: 1 });
      const b = await board.submit({ field: 'cancel-f', episodes: 1 });
      const lease = await board.lease('cancel-f');
      assert.equal(lease?.job.id, a.id);
      assert.equal(await board.cancel(a.id), true);
      assert.equal(await board.cancel(b.id), true);
      assert.equal(await board.cancel(b.id), false);
      assert.equal(await board.cancel('no-such-job'), false);
      assert.equal(await board.renew(a.id, lease?.token ?? ''), null);
      assert.equal(await board.ack(a.id, lease?.token ?? ''), 'lease lost');
      assert.equal(await board.lease('cancel-f'), null);
      assert.deepEqual(
        (await board.list({ field: 'cancel-f' })).map((j) => j.state),
        ['cancelled', 'cancelled'],
      );
    });
  });
}
