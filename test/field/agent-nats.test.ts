import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { FieldAgent } from '../../src/field/agent.ts';
import { encodeBundle } from '../../src/field/transfer/index.ts';
import { NatsEpisodeTransport } from '../../src/field/transport/nats.ts';
import type { NatsLayout } from '../../src/field/transport/nats-layout.ts';
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
const FIELD = 'field-nats';

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function natsReachable(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 1000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

after(async () => {
  if (!(await natsReachable())) return; // nothing to clean up
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  for (const s of [layout.episodesStream, layout.jobsStream]) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

describe('field agent over NATS JetStream', () => {
  before(async () => {
    // Never skipped: NATS with JetStream runs locally and in CI.
    assert.ok(await natsReachable(), `no NATS server at ${NATS_URL}`);
  });

  it('jobs from the work queue; episodes published while the hub is down are ingested once it returns, in order, once', async () => {
    const hubHome = tempDir();
    const startHub = (port: number) =>
      startNetworkHub({ home: hubHome, host: '127.0.0.1', port, natsUrl: NATS_URL, nats: layout });
    let hub: NetworkHub = await startHub(0);
    const port = Number(new URL(hub.url).port);
    const spooled: string[] = [];
    const results: string[] = [];
    const agent = await FieldAgent.start({
      hubUrl: hub.url,
      name: FIELD,
      home: tempDir(),
      robots: 1,
      natsUrl: NATS_URL,
      nats: layout,
      pollMs: 100,
      heartbeatMs: 200,
      backoff: { initialMs: 50, maxMs: 400 },
      onEvent: (e) => {
        if (e.type === 'spooled') spooled.push(e.entry.id);
        if (e.type === 'delivered') results.push(e.result);
      },
    });
    try {
      await agent.whenRegistered();
      const res = await fetch(`${hub.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ field: FIELD, episodes: 2, seed: 300, maxSimSec: 1 }),
      });
      assert.equal(res.status, 201);
      await until('the job episodes in the catalog', async () => (await hub.catalog.countEpisodes()) === 2);
      await until('a heartbeat event', async () => {
        const body = (await (await fetch(`${hub.url}/api/fields`)).json()) as {
          fields: Array<{ name: string; heartbeat: unknown }>;
        };
        return body.fields.some((f) => f.name === FIELD && f.heartbeat !== null);
      });

      // Hub down: the field keeps recording, JetStream keeps the bundles.
      await hub.close();
      await agent.runJob({
        id: 'local-nats',
        createdAt: new Date().toISOString(),
        field: FIELD,
        episodes: 3,
        seed: 400,
        fps: 30,
        maxSimSec: 1,
      });
      await until('the spool to drain into the stream', () => agent.stats.spoolEntries === 0);

      hub = await startHub(port);
      await until('the hub to ingest the backlog', async () => (await hub.catalog.countEpisodes()) === 5);
      const rows = await hub.catalog.listEpisodes({ limit: 100, offset: 0 });
      const byIndex = [...rows].sort((a, b) => a.episodeIndex - b.episodeIndex).map((r) => r.id);
      assert.deepEqual(byIndex, spooled, 'ingested in recording order, each once');
      assert.deepEqual(results, ['stored', 'stored', 'stored', 'stored', 'stored']);

      // A re-send after a lost ack: JetStream drops it (Nats-Msg-Id), the catalog gains nothing.
      const transport = await NatsEpisodeTransport.connect({ url: NATS_URL, field: FIELD, layout });
      try {
        const stored = await hub.network.ingest.lookup(spooled[0]!);
        assert.ok(stored?.sha256);
        const bytes = await hub.network.ingest.blobs.read(stored.sha256);
        assert.equal(await transport.send(spooled[0]!, bytes), 'duplicate');
      } finally {
        await transport.close();
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await hub.catalog.countEpisodes(), 5);
    } finally {
      await agent.stop();
      await hub.close();
    }
  });

  it('a bundle larger than a message travels in chunks and is reassembled by the hub', async () => {
    const hub = await startNetworkHub({
      home: tempDir(),
      host: '127.0.0.1',
      port: 0,
      natsUrl: NATS_URL,
      nats: layout,
    });
    const field = 'field-chunks';
    try {
      const reg = await fetch(`${hub.url}/api/fields/${field}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          robots: [
            { id: 'robot-0', embodiment: 'arm7', embodimentHash: 'test-embodiment', vendor: 'tg-test' },
          ],
        }),
      });
      assert.equal(reg.status, 200);
      const ep = makeEpisode(9, { field, frames: 2000, dim: 10 });
      const bundle = encodeBundle(ep);
      const transport = await NatsEpisodeTransport.connect({
        url: NATS_URL,
        field,
        layout,
        maxMessageBytes: 16 * 1024 + 8 * 1024,
      });
      try {
        assert.ok(bundle.byteLength > 10 * 8 * 1024, 'needs many chunks');
        assert.equal(await transport.send(ep.meta.id, bundle), 'stored');
        assert.equal(await transport.send(ep.meta.id, bundle), 'duplicate');
      } finally {
        await transport.close();
      }
      await until(
        'the chunked episode in the catalog',
        async () => (await hub.network.ingest.lookup(ep.meta.id)) !== null,
      );
      assert.equal(await hub.catalog.countEpisodes(), 1);
    } finally {
      await hub.close();
    }
  });
});
