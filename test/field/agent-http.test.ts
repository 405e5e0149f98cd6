import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldAgent } from '../../src/field/agent.ts';
import { HttpEpisodeTransport } from '../../src/field/transport/http.ts';
import { type NetworkHub, startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { tempDir } from './fixtures.ts';

const FIELD = 'field-http';

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

describe('field agent over HTTP', () => {
  it('keeps recording while the hub is down and drains in order, exactly once, when it returns', async () => {
    const hubHome = tempDir();
    let hub: NetworkHub = await startNetworkHub({ home: hubHome, host: '127.0.0.1', port: 0 });
    const port = Number(new URL(hub.url).port);
    const spooled: string[] = [];
    const delivered: string[] = [];
    const agent = await FieldAgent.start({
      hubUrl: hub.url,
      name: FIELD,
      home: tempDir(),
      robots: 1,
      pollMs: 100,
      heartbeatMs: 200,
      backoff: { initialMs: 50, maxMs: 400 },
      onEvent: (e) => {
        if (e.type === 'spooled') spooled.push(e.entry.id);
        if (e.type === 'delivered') delivered.push(e.entry.id);
      },
    });
    try {
      await agent.whenRegistered();
      // A job from the hub, delivered while the hub is up.
      const res = await fetch(`${hub.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ field: FIELD, episodes: 2, seed: 100, maxSimSec: 1 }),
      });
      assert.equal(res.status, 201);
      await until('the hub job to be delivered', () => delivered.length === 2);

      // Link down: the field keeps recording into its spool.
      await hub.close();
      await agent.runJob({
        id: 'local-1',
        createdAt: new Date().toISOString(),
        field: FIELD,
        episodes: 3,
        seed: 200,
        fps: 30,
        maxSimSec: 1,
      });
      assert.equal(agent.stats.spoolEntries, 3, 'the episodes wait in the spool');
      assert.equal(delivered.length, 2);
      await new Promise((r) => setTimeout(r, 300)); // a few failed attempts with backoff
      assert.equal(agent.stats.connected, false);

      // Link back: the spool drains in recording order.
      hub = await startNetworkHub({ home: hubHome, host: '127.0.0.1', port });
      await until('the spool to drain', () => agent.stats.spoolEntries === 0);
      assert.deepEqual(delivered, spooled, 'delivered in recording order');
      const rows = await hub.catalog.listEpisodes({ limit: 100, offset: 0 });
      assert.equal(rows.length, 5, 'every episode exactly once');
      assert.equal(new Set(rows.map((r) => r.id)).size, 5);
      const byIndex = [...rows].sort((a, b) => a.episodeIndex - b.episodeIndex).map((r) => r.id);
      assert.deepEqual(byIndex, spooled, 'the dataset holds them in recording order');
      assert.ok(rows.every((r) => r.datasetName === `${FIELD}-arm7` && r.robotId === `${FIELD}-arm7-0`));
      // Re-sending what the hub has (a lost ack) is a duplicate, not a second row.
      assert.equal(await new HttpEpisodeTransport({ hubUrl: hub.url }).has(spooled[0]!), true);
    } finally {
      await agent.stop();
      await hub.close();
    }
  });
});
