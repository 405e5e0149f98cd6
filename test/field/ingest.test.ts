import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleSha256, encodeBundle } from '../../src/field/transfer/index.ts';
import { HttpEpisodeTransport } from '../../src/field/transport/http.ts';
import { TransportError } from '../../src/field/transport/transport.ts';
import { BlobStore } from '../../src/hub/blobs/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { type NetworkHub, startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { makeEpisode, tempDir } from './fixtures.ts';

const FIELD = 'field-a';
let home: string;
let catalog: Catalog;
let hub: NetworkHub;

/** sha256 names of the blobs in the hub's store, as a fresh store over its directory finds them. */
const blobFiles = async () => (await new BlobStore(path.join(home, 'hub/blobs')).list()).map((b) => b.sha256);

const put = (id: string, body: Uint8Array, sha256 = bundleSha256(body)) =>
  fetch(`${hub.url}/api/episodes/${id}/bundle`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.tg.episode-bundle', 'content-sha256': sha256 },
    body: body as Uint8Array<ArrayBuffer>,
  });

before(async () => {
  home = tempDir();
  catalog = await Catalog.open({ dataDir: 'memory://' });
  hub = await startNetworkHub({ home, host: '127.0.0.1', port: 0, catalog, maxBundleBytes: 64 * 1024 });
  const res = await fetch(`${hub.url}/api/fields/${FIELD}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      robots: [{ id: 'robot-0', embodiment: 'arm7', embodimentHash: 'test-embodiment', vendor: 'tg-test' }],
    }),
  });
  assert.equal(res.status, 200, await res.text());
});
after(async () => {
  await hub.close();
  await catalog.close();
});

describe('hub ingest over HTTP', () => {
  it('stores an episode in its field/robot-type dataset and the catalog; a re-send is 200 already stored', async () => {
    const ep = makeEpisode(1, { field: FIELD });
    const bundle = encodeBundle(ep, { recordedAt: new Date('2025-03-01T10:00:00Z') });
    const head = await fetch(`${hub.url}/api/episodes/${ep.meta.id}/bundle`, { method: 'HEAD' });
    assert.equal(head.status, 404);
    const first = await put(ep.meta.id, bundle);
    assert.equal(first.status, 201);
    assert.deepEqual(await first.json(), {
      status: 'stored',
      id: ep.meta.id,
      dataset: `${FIELD}-arm7`,
      episodeIndex: 0,
    });
    const again = await put(ep.meta.id, bundle);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { status: string }).status, 'already stored');
    const head2 = await fetch(`${hub.url}/api/episodes/${ep.meta.id}/bundle`, { method: 'HEAD' });
    assert.equal(head2.status, 200);
    assert.equal(head2.headers.get('x-tg-dataset'), `${FIELD}-arm7`);

    const rows = await catalog.listEpisodes({ limit: 100, offset: 0 });
    assert.equal(rows.length, 1, 'a duplicate is no second catalog row');
    assert.equal(rows[0]!.id, ep.meta.id);
    assert.equal(rows[0]!.datasetName, `${FIELD}-arm7`);
    assert.equal(rows[0]!.recordedAt, '2025-03-01T10:00:00.000Z');
    assert.equal(rows[0]!.blobSha256, bundleSha256(bundle));
    assert.deepEqual(await blobFiles(), [bundleSha256(bundle)], 'one blob, named by its sha256');
  });

  it('a body that lies about its hash is 400 and nothing is stored', async () => {
    const ep = makeEpisode(2, { field: FIELD });
    const bundle = encodeBundle(ep);
    const wrongSha = await put(ep.meta.id, bundle, 'ab'.repeat(32));
    assert.equal(wrongSha.status, 400);
    assert.match(
      ((await wrongSha.json()) as { error: { message: string } }).error.message,
      /checksum mismatch/,
    );

    const tampered = bundle.slice();
    tampered[tampered.length - 1]! ^= 1; // honest transfer checksum, dishonest content
    const lying = await put(ep.meta.id, tampered);
    assert.equal(lying.status, 400);
    assert.match(
      ((await lying.json()) as { error: { message: string } }).error.message,
      /content hash mismatch/,
    );

    const truncated = await put(ep.meta.id, bundle.subarray(0, bundle.length - 10));
    assert.equal(truncated.status, 400);

    const otherId = await put(makeEpisode(3).meta.id, bundle);
    assert.equal(otherId.status, 400);

    assert.equal(await catalog.countEpisodes(), 1);
    assert.equal(
      (await fetch(`${hub.url}/api/episodes/${ep.meta.id}/bundle`, { method: 'HEAD' })).status,
      404,
    );
    assert.equal((await blobFiles()).length, 1, 'no blob for any refused upload');
    assert.deepEqual(readdirSync(path.join(home, 'hub/blobs/tmp')), []);
  });

  it('an oversized bundle is 413', async () => {
    const big = makeEpisode(4, { field: FIELD, frames: 2000, dim: 10 });
    const res = await put(big.meta.id, encodeBundle(big));
    assert.equal(res.status, 413);
    assert.equal(await catalog.countEpisodes(), 1);
  });

  it('an episode of an unknown robot is 404 and the HTTP transport says register first', async () => {
    const ep = makeEpisode(5, { field: FIELD, robot: 'stranger' });
    const res = await put(ep.meta.id, encodeBundle(ep));
    assert.equal(res.status, 404);
    const transport = new HttpEpisodeTransport({ hubUrl: hub.url });
    await assert.rejects(
      transport.send(ep.meta.id, encodeBundle(ep)),
      (err: unknown) => err instanceof TransportError && err.unknownRobot && !err.permanent,
    );
    assert.equal(await catalog.countEpisodes(), 1);
  });

  it('the HTTP transport reports stored, then duplicate', async () => {
    const ep = makeEpisode(6, { field: FIELD });
    const transport = new HttpEpisodeTransport({ hubUrl: hub.url });
    assert.equal(await transport.has(ep.meta.id), false);
    assert.equal(await transport.send(ep.meta.id, encodeBundle(ep)), 'stored');
    assert.equal(await transport.send(ep.meta.id, encodeBundle(ep)), 'duplicate');
    assert.equal(await transport.has(ep.meta.id), true);
  });

  it('takes heartbeats from registered fields only', async () => {
    const beat = (field: string) =>
      fetch(`${hub.url}/api/fields/${field}/heartbeat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ state: 'idle', spoolEntries: 3, spoolBytes: 1000 }),
      });
    assert.equal((await beat(FIELD)).status, 200);
    assert.equal((await beat('nobody')).status, 409);
    const { fields } = (await (await fetch(`${hub.url}/api/fields`)).json()) as {
      fields: Array<{ name: string; heartbeat: { spoolEntries: number } }>;
    };
    assert.equal(fields[0]?.name, FIELD);
    assert.equal(fields[0]?.heartbeat.spoolEntries, 3);
  });
});
