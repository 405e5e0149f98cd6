/**
 * The uploader against a real hub: a spool backlog goes up in batches, in order, exactly once, over HTTP and
 * over NATS JetStream; a batch with a bad bundle is re-sent one entry at a time so only that entry is set
 * aside; an unknown robot makes the field register and retry.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Spool } from '../../src/field/spool/index.ts';
import { encodeBundle } from '../../src/field/transfer/index.ts';
import { HttpEpisodeTransport } from '../../src/field/transport/http.ts';
import { NatsEpisodeTransport } from '../../src/field/transport/nats.ts';
import type { NatsLayout } from '../../src/field/transport/nats-layout.ts';
import { type EpisodeTransport, hubDown, TransportError } from '../../src/field/transport/transport.ts';
import { Uploader, type UploaderOptions } from '../../src/field/uploader.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { type NetworkHub, startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { makeEpisode, tempDir, uniqueToken } from './fixtures.ts';

const NATS_URL = process.env.TG_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const token = uniqueToken();
const layout: NatsLayout = {
  prefix: token,
  episodesStream: `${token}_EPISODES`,
  jobsStream: `${token}_JOBS`,
  ingestConsumer: 'hub-ingest',
};

const register = (hub: NetworkHub, field: string, robots = ['robot-0']) =>
  fetch(`${hub.url}/api/fields/${field}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      robots: robots.map((id) => ({
        id,
        embodiment: 'arm7',
        embodimentHash: 'test-embodiment',
        vendor: 'v',
      })),
    }),
  }).then((r) => assert.equal(r.status, 200));

async function withHub(fn: (hub: NetworkHub) => Promise<void>, nats = false): Promise<void> {
  const catalog = await Catalog.open({ dataDir: 'memory://' });
  const hub = await startNetworkHub({
    home: tempDir(),
    host: '127.0.0.1',
    port: 0,
    catalog,
    ...(nats ? { natsUrl: NATS_URL, nats: layout } : {}),
  });
  try {
    await fn(hub);
  } finally {
    await hub.close();
    await catalog.close();
  }
}

/** Spools `n` episodes of `field`; returns their ids in recording order. */
async function fill(
  spool: Spool,
  field: string,
  n: number,
  seed0: number,
  robot = 'robot-0',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const ep = makeEpisode(seed0 + i, { field, robot });
    await spool.append(ep.meta.id, encodeBundle(ep));
    ids.push(ep.meta.id);
  }
  return ids;
}

async function drain(opts: UploaderOptions): Promise<Uploader> {
  const uploader = new Uploader({ backoff: { initialMs: 10, maxMs: 50 }, ...opts });
  uploader.start();
  await uploader.drained();
  await uploader.stop();
  return uploader;
}

async function datasetOrder(hub: NetworkHub): Promise<string[]> {
  const rows = await hub.catalog.listEpisodes({ limit: 1000, offset: 0 });
  return rows.sort((a, b) => a.episodeIndex - b.episodeIndex).map((r) => r.id);
}

after(async () => {
  const nc = await connect({ servers: NATS_URL }).catch(() => null);
  if (!nc) return;
  const jsm = await jetstreamManager(nc);
  for (const s of [layout.episodesStream, layout.jobsStream]) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

describe('uploader', () => {
  it('sends a backlog over HTTP in batches, in order, each episode once', async () => {
    await withHub(async (hub) => {
      await register(hub, 'f1');
      const spool = Spool.open({ dir: tempDir() });
      const ids = await fill(spool, 'f1', 9, 0);
      const sent: number[] = [];
      const http = new HttpEpisodeTransport({ hubUrl: hub.url });
      const transport: EpisodeTransport = {
        send: (id, bundle) => {
          sent.push(1);
          return http.send(id, bundle);
        },
        sendBatch: (episodes) => {
          sent.push(episodes.length);
          return http.sendBatch(episodes);
        },
        close: () => http.close(),
      };
      const uploader = await drain({ spool, transport, batch: { maxEpisodes: 4, maxBytes: 1 << 20 } });
      assert.deepEqual(sent, [4, 4, 1]);
      assert.equal(uploader.batches, 2);
      assert.deepEqual([uploader.delivered, uploader.duplicates], [9, 0]);
      assert.deepEqual(await datasetOrder(hub), ids);
      assert.equal(spool.stats.entries, 0);

      // The same backlog again (a lost acknowledgement): all duplicates, nothing new at the hub.
      const again = Spool.open({ dir: tempDir() });
      await fill(again, 'f1', 9, 0);
      const second = await drain({ spool: again, transport: http });
      assert.deepEqual([second.delivered, second.duplicates], [9, 9]);
      assert.equal(await hub.catalog.countEpisodes(), 9);
    });
  });

  it('a batch with a bad bundle is re-sent one by one: only the bad entry is set aside', async () => {
    await withHub(async (hub) => {
      await register(hub, 'f2');
      const dir = tempDir();
      const spool = Spool.open({ dir });
      const good = await fill(spool, 'f2', 2, 10);
      const bad = makeEpisode(12, { field: 'f2' });
      const tampered = encodeBundle(bad);
      tampered[tampered.length - 1]! ^= 1;
      await spool.append(bad.meta.id, tampered);
      const rest = await fill(spool, 'f2', 2, 13);
      const rejected: string[] = [];
      const uploader = await drain({
        spool,
        transport: new HttpEpisodeTransport({ hubUrl: hub.url }),
        onRejected: (e, reason) => rejected.push(`${e.id}: ${reason}`),
      });
      assert.equal(rejected.length, 1);
      assert.match(rejected[0]!, new RegExp(`^${bad.meta.id}: .*content hash mismatch`));
      assert.equal(uploader.delivered, 4);
      assert.deepEqual(await datasetOrder(hub), [...good, ...rest]);
      assert.deepEqual(
        (await readdir(path.join(dir, 'rejected'))).map((f) => f.slice(13, 77)),
        [bad.meta.id],
      );
    });
  });

  it('an unknown robot makes the field register, then the batch goes through', async () => {
    await withHub(async (hub) => {
      await register(hub, 'f3');
      const spool = Spool.open({ dir: tempDir() });
      const ids = [...(await fill(spool, 'f3', 2, 20)), ...(await fill(spool, 'f3', 2, 30, 'robot-new'))];
      let registrations = 0;
      const uploader = await drain({
        spool,
        transport: new HttpEpisodeTransport({ hubUrl: hub.url }),
        onUnknownRobot: async () => {
          registrations++;
          await register(hub, 'f3', ['robot-0', 'robot-new']);
        },
      });
      assert.equal(registrations, 1);
      assert.equal(uploader.delivered, 4);
      assert.deepEqual(await datasetOrder(hub), ids);
    });
  });

  it('sends a backlog over NATS JetStream in one pipelined batch, in order, each episode once', async () => {
    await withHub(async (hub) => {
      await register(hub, 'f4');
      const spool = Spool.open({ dir: tempDir() });
      const ids = await fill(spool, 'f4', 12, 40);
      const transport = await NatsEpisodeTransport.connect({ url: NATS_URL, field: 'f4', layout });
      try {
        const uploader = await drain({ spool, transport });
        assert.equal(uploader.batches, 1);
        assert.equal(uploader.delivered, 12);
        const start = Date.now();
        while ((await hub.catalog.countEpisodes()) < 12 && Date.now() - start < 30_000) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(await datasetOrder(hub), ids);
        // Re-published within JetStream's duplicate window: dropped before the hub sees it.
        const again = Spool.open({ dir: tempDir() });
        await fill(again, 'f4', 12, 40);
        const second = await drain({ spool: again, transport });
        assert.equal(second.duplicates, 12);
        assert.equal(await hub.catalog.countEpisodes(), 12);
      } finally {
        await transport.close();
      }
    }, true);
  });

  it('a hub that refuses connections (down) is retried within downMaxMs; a busy hub (503) is backed off further', async () => {
    // Nothing listens on a port just closed: the HTTP transport says the hub is down.
    const { createServer } = await import('node:http');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const downPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const ep = makeEpisode(90, { field: 'f9' });
    const down = await new HttpEpisodeTransport({ hubUrl: `http://127.0.0.1:${downPort}` })
      .send(ep.meta.id, encodeBundle(ep))
      .then(
        () => assert.fail('sent to nobody'),
        (err: unknown) => err,
      );
    assert.ok(down instanceof TransportError);
    assert.equal(down.hubDown, true);
    assert.equal(down.permanent, false);
    assert.match(down.message, /ECONNREFUSED/);
    // The same for the field's other requests (job acknowledgements, registration): plain fetch errors.
    assert.equal(hubDown(await fetch(`http://127.0.0.1:${downPort}/`).catch((e: unknown) => e)), true);
    assert.equal(hubDown(new Error('socket hang up')), false);
    const busy = createServer((_req, res) => res.writeHead(503).end('{"error":{"message":"busy"}}'));
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as { port: number }).port;
      const err = await new HttpEpisodeTransport({ hubUrl: `http://127.0.0.1:${port}` })
        .send(ep.meta.id, encodeBundle(ep))
        .then(
          () => assert.fail('a 503 is no delivery'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof TransportError);
      assert.equal(err.hubDown, false);
      assert.equal(err.permanent, false);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }

    // The uploader's steps: capped at downMaxMs while the hub is down, doubling up to maxMs when it is busy.
    const waits = async (hubDown: boolean): Promise<number[]> => {
      const spool = Spool.open({ dir: tempDir() });
      await fill(spool, 'f9', 1, 91);
      let failures = 7;
      const delays: number[] = [];
      const transport: EpisodeTransport = {
        send: async () => {
          if (failures-- > 0) throw new TransportError('no hub', false, false, { hubDown });
          return 'stored';
        },
        close: async () => {},
      };
      const uploader = await drain({
        spool,
        transport,
        backoff: { initialMs: 8, maxMs: 10_000, downMaxMs: 16 },
        onRetry: (_e, _reason, delayMs) => delays.push(delayMs),
      });
      assert.equal(uploader.delivered, 1);
      assert.equal(spool.stats.entries, 0);
      return delays;
    };
    const whileDown = await waits(true);
    assert.equal(whileDown.length, 7);
    assert.ok(Math.max(...whileDown) <= 16, `steps while down: ${whileDown}`);
    const whileBusy = await waits(false);
    assert.equal(whileBusy.length, 7);
    // The 7th step is 8 * 2^6 = 512 ms, jittered to at least half of it.
    assert.ok((whileBusy.at(-1) as number) >= 256, `steps while busy: ${whileBusy}`);
  });
});
