/**
 * The hub's NATS consumer hands bundles to the ingest without waiting for each commit: they are still
 * committed in stream order, a bad bundle is refused for good (terminated) without holding up the others,
 * and the blob store keeps only the good ones.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encodeBundle } from '../../src/field/transfer/index.ts';
import { NatsEpisodeTransport } from '../../src/field/transport/nats.ts';
import type { NatsLayout } from '../../src/field/transport/nats-layout.ts';
import { BlobStore } from '../../src/hub/blobs/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { makeEpisode, tempDir, uniqueToken } from '../field/fixtures.ts';

const NATS_URL = process.env.TG_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const token = uniqueToken();
const layout: NatsLayout = {
  prefix: token,
  episodesStream: `${token}_EPISODES`,
  jobsStream: `${token}_JOBS`,
  ingestConsumer: 'hub-ingest',
};
const FIELD = 'field-n';

after(async () => {
  const nc = await connect({ servers: NATS_URL }).catch(() => null);
  if (!nc) return;
  const jsm = await jetstreamManager(nc);
  for (const s of [layout.episodesStream, layout.jobsStream]) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

describe('hub ingest over NATS JetStream', () => {
  it('commits in stream order and terminates a bad bundle without storing it', async () => {
    const catalog = await Catalog.open({ dataDir: 'memory://' });
    const home = tempDir();
    const hub = await startNetworkHub({
      home,
      host: '127.0.0.1',
      port: 0,
      catalog,
      natsUrl: NATS_URL,
      nats: layout,
    });
    const transport = await NatsEpisodeTransport.connect({ url: NATS_URL, field: FIELD, layout });
    try {
      const reg = await fetch(`${hub.url}/api/fields/${FIELD}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          robots: [{ id: 'robot-0', embodiment: 'arm7', embodimentHash: 'test-embodiment', vendor: 'v' }],
        }),
      });
      assert.equal(reg.status, 200);
      const episodes = Array.from({ length: 10 }, (_, i) => makeEpisode(500 + i, { field: FIELD }));
      const bad = encodeBundle(episodes[4]!);
      bad[bad.length - 1]! ^= 1;
      const results = await transport.sendBatch(
        episodes.map((e, i) => ({ id: e.meta.id, bundle: i === 4 ? bad : encodeBundle(e) })),
      );
      assert.deepEqual(results, Array(10).fill('stored'), 'JetStream took all ten');
      const good = episodes.filter((_, i) => i !== 4).map((e) => e.meta.id);
      const start = Date.now();
      while ((await catalog.countEpisodes()) < 9 && Date.now() - start < 30_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const rows = await catalog.listEpisodes({ limit: 100, offset: 0 });
      assert.deepEqual(
        rows.sort((a, b) => a.episodeIndex - b.episodeIndex).map((r) => r.id),
        good,
      );
      // Acks travel after the commit: wait for the consumer to have nothing outstanding.
      const nc = await connect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        let info = await jsm.consumers.info(layout.episodesStream, layout.ingestConsumer);
        while (info.num_ack_pending + info.num_pending > 0 && Date.now() - start < 30_000) {
          await new Promise((r) => setTimeout(r, 50));
          info = await jsm.consumers.info(layout.episodesStream, layout.ingestConsumer);
        }
        assert.deepEqual(
          [info.num_ack_pending, info.num_pending],
          [0, 0],
          'every message acked or terminated',
        );
      } finally {
        await nc.close();
      }
      const blobs = await new BlobStore(path.join(home, 'hub/blobs')).list();
      assert.equal(blobs.length, 9, 'no blob for the bad bundle');
    } finally {
      await transport.close();
      await hub.close();
      await catalog.close();
    }
  });
});
