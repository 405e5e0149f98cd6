import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import { TgError } from '../../src/errors/index.ts';
import {
  BATCH_MEDIA_TYPE,
  BUNDLE_MEDIA_TYPE,
  bundleSha256,
  encodeBatch,
  encodeBundle,
  readBundleHeader,
} from '../../src/field/transfer/index.ts';
import { BlobStore } from '../../src/hub/blobs/index.ts';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { EpisodeIngest } from '../../src/hub/ingest/index.ts';
import { type NetworkHub, startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { makeEpisode, tempDir } from '../field/fixtures.ts';
import { catalogBackends } from './backends.ts';

const FIELD = 'field-a';
const ROBOT = { id: 'robot-0', embodiment: 'arm7', embodimentHash: 'test-embodiment', vendor: 'tg-test' };

const episode = (seed: number, opts: Parameters<typeof makeEpisode>[1] = {}) =>
  makeEpisode(seed, { field: FIELD, ...opts });
const upload = (ep: RecordedEpisode, recordedAt = new Date('2025-03-01T10:00:00Z')) => {
  const bundle = encodeBundle(ep, { recordedAt });
  return { id: ep.meta.id, sha256: bundleSha256(bundle), bundle };
};

/** sha256 names of the blobs in a store, sorted. */
/** The sha256 of every blob a fresh store over `root` finds on disk (loose or packed). */
async function blobNames(root: string): Promise<string[]> {
  return (await new BlobStore(root).list()).map((b) => b.sha256).sort();
}

/** Everything an ingest can change: blobs, half-written blobs, catalog rows and datasets. */
async function snapshot(root: string, catalog: Catalog) {
  return {
    blobs: await blobNames(root),
    tmp: await readdir(path.join(root, 'tmp')).catch(() => [] as string[]),
    counts: await catalog.counts(),
    datasets: (await catalog.listDatasets()).map((d) => d.name),
  };
}

for (const backend of await catalogBackends()) {
  // Verification threads on one backend, the calling thread on the other: both paths give the same answers.
  const threads = backend.name === 'pglite' ? 1 : 0;
  describe(`episode ingest on ${backend.name}, ${threads} verification threads`, () => {
    let catalog: Catalog;
    let dir: string;
    let ingest: EpisodeIngest;
    before(async () => {
      catalog = await Catalog.open(await backend.place('ingest'));
      await catalog.upsertRobot({ ...ROBOT, name: ROBOT.id, field: FIELD });
      dir = tempDir('tg-ingest-');
      ingest = await EpisodeIngest.open({ catalog, dir, threads });
    });
    after(async () => {
      await ingest?.close();
      await catalog?.close();
      await backend.cleanup();
    });

    test('stores a bundle as a blob named by its sha256 and a catalog row that points at it', async () => {
      const u = upload(episode(1));
      const r = await ingest.ingest(u.bundle, { sha256: u.sha256, id: u.id });
      assert.deepEqual(r, {
        id: u.id,
        dataset: `${FIELD}-arm7`,
        episodeIndex: 0,
        sha256: u.sha256,
        bytes: u.bundle.byteLength,
        status: 'stored',
      });
      assert.deepEqual(await blobNames(ingest.blobs.root), [u.sha256]);
      assert.deepEqual(Buffer.from(await ingest.blobs.read(u.sha256)), Buffer.from(u.bundle));
      const [row] = await catalog.getEpisodes([u.id]);
      assert.equal(row?.blobSha256, u.sha256);
      assert.equal(row?.blobBytes, u.bundle.byteLength);
      assert.equal(row?.recordedAt, '2025-03-01T10:00:00.000Z');
      const [dataset] = await catalog.listDatasets();
      assert.deepEqual(
        [dataset?.name, dataset?.storage, dataset?.path, dataset?.fps, dataset?.robotType],
        [`${FIELD}-arm7`, 'blobs', ingest.blobs.root, 30, 'arm7'],
      );
    });

    test('re-delivery stores nothing: the same bundle, or the same episode sent at another time', async () => {
      const first = upload(episode(1));
      const later = upload(episode(1), new Date('2025-03-02T00:00:00Z'));
      assert.notEqual(later.sha256, first.sha256, 'a different bundle of the same episode');
      const before = await snapshot(ingest.blobs.root, catalog);
      for (const u of [first, later]) {
        const r = await ingest.ingest(u.bundle, { sha256: u.sha256 });
        assert.equal(r.status, 'already stored');
        assert.equal(r.sha256, first.sha256, 'answers with the blob stored first');
        assert.equal(r.episodeIndex, 0);
      }
      // A fresh ingest (a restarted hub) answers from the catalog, not from what it remembers.
      const reopened = await EpisodeIngest.open({ catalog, dir, threads });
      assert.equal((await reopened.ingest(later.bundle)).status, 'already stored');
      assert.equal((await reopened.lookup(first.id))?.sha256, first.sha256);
      assert.deepEqual(await snapshot(ingest.blobs.root, catalog), before);
    });

    test('a batch is stored in order with dense indexes; repeats in it are already stored', async () => {
      const [a, b, c] = [2, 3, 4].map((s) => upload(episode(s))) as [
        ReturnType<typeof upload>,
        ReturnType<typeof upload>,
        ReturnType<typeof upload>,
      ];
      const results = await ingest.ingestBatch([a, b, a, c, upload(episode(1))]);
      assert.deepEqual(
        results.map((r) => [r.id, r.status, r.episodeIndex]),
        [
          [a.id, 'stored', 1],
          [b.id, 'stored', 2],
          [a.id, 'already stored', 1],
          [c.id, 'stored', 3],
          [episode(1).meta.id, 'already stored', 0],
        ],
      );
      const again = await ingest.ingestBatch([c, b]);
      assert.deepEqual(
        again.map((r) => r.status),
        ['already stored', 'already stored'],
      );
    });

    test('concurrent uploads commit in arrival order with distinct, dense indexes', async () => {
      const uploads = Array.from({ length: 24 }, (_, i) => upload(episode(100 + i)));
      const results = await Promise.all(uploads.map((u) => ingest.ingest(u.bundle)));
      assert.deepEqual(
        results.map((r) => r.episodeIndex),
        Array.from({ length: 24 }, (_, i) => 4 + i),
      );
      const reopened = await EpisodeIngest.open({ catalog, dir, threads });
      const next = await reopened.ingest(upload(episode(200)).bundle);
      assert.equal(next.episodeIndex, 28, 'a restarted hub continues the dataset');
    });

    test('a robot registered again with another embodiment is checked against the new one at once', async () => {
      const ep = episode(400);
      await catalog.upsertRobot({ ...ROBOT, name: ROBOT.id, field: FIELD, embodimentHash: 'retrofitted' });
      ingest.robotsChanged(); // what the hub's field registry does after a registration
      await assert.rejects(ingest.ingest(upload(ep).bundle), /registered with retrofitted/);
      await catalog.upsertRobot({ ...ROBOT, name: ROBOT.id, field: FIELD });
      ingest.robotsChanged();
      assert.equal((await ingest.ingest(upload(ep).bundle)).status, 'stored');
    });

    test('a lie, a malformed bundle or an unknown robot is refused and leaves no trace', async () => {
      const before = await snapshot(ingest.blobs.root, catalog);
      const good = upload(episode(300));
      const tampered = good.bundle.slice();
      tampered[tampered.length - 1]! ^= 1;
      const stranger = upload(episode(301, { robot: 'stranger' }));
      const otherField = upload(makeEpisode(302, { field: 'field-b' }));
      const cases: Array<[string, () => Promise<unknown>, string, RegExp]> = [
        [
          'lying checksum',
          () => ingest.ingest(good.bundle, { sha256: 'ab'.repeat(32) }),
          'INPUT_INVALID',
          /checksum mismatch/,
        ],
        ['lying content', () => ingest.ingest(tampered), 'INPUT_INVALID', /content hash mismatch/],
        ['truncated', () => ingest.ingest(good.bundle.subarray(0, 500)), 'INPUT_INVALID', /truncated/],
        [
          'wrong id',
          () => ingest.ingest(good.bundle, { id: stranger.id }),
          'INPUT_INVALID',
          /holds episode .* not /,
        ],
        ['unknown robot', () => ingest.ingest(stranger.bundle), 'NOT_FOUND', /robot stranger/],
        [
          "another field's robot",
          () => ingest.ingest(otherField.bundle),
          'INPUT_INVALID',
          /belongs to field field-a, not field-b/,
        ],
        [
          'a batch with one bad entry',
          () =>
            ingest.ingestBatch([
              good,
              { ...good, bundle: tampered, sha256: bundleSha256(tampered) },
              upload(episode(303)),
            ]),
          'INPUT_INVALID',
          /^episode 2 of 3 \(\w+\): episode bundle: content hash mismatch/,
        ],
        [
          'a batch with an unknown robot',
          () => ingest.ingestBatch([good, stranger]),
          'NOT_FOUND',
          /^episode 2 of 2: episode \w+ is from robot stranger/,
        ],
        ['an empty batch', () => ingest.ingestBatch([]), 'INPUT_INVALID', /no episodes/],
      ];
      for (const [what, run, code, reason] of cases) {
        await assert.rejects(run(), (err: unknown) => {
          assert.ok(err instanceof TgError, `${what}: ${String(err)}`);
          assert.equal(err.code, code, what);
          assert.match(err.message, reason, what);
          return true;
        });
      }
      assert.deepEqual(await snapshot(ingest.blobs.root, catalog), before);
      await ingest.settled();
    });
  });
}

describe('episode ingest over HTTP', () => {
  let home: string;
  let catalog: Catalog;
  let hub: NetworkHub;
  const blobsRoot = () => hub.network.ingest.blobs.root;
  const put = (id: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${hub.url}/api/episodes/${id}/bundle`, {
      method: 'PUT',
      headers: { 'content-type': BUNDLE_MEDIA_TYPE, 'content-sha256': bundleSha256(body), ...headers },
      body: body as Uint8Array<ArrayBuffer>,
    });
  const postBatch = (body: Uint8Array) =>
    fetch(`${hub.url}/api/episodes/bundles`, {
      method: 'POST',
      headers: { 'content-type': BATCH_MEDIA_TYPE },
      body: body as Uint8Array<ArrayBuffer>,
    });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string } }).error;

  before(async () => {
    home = tempDir('tg-ingest-http-');
    catalog = await Catalog.open({ dataDir: 'memory://' });
    hub = await startNetworkHub({ home, host: '127.0.0.1', port: 0, catalog, maxBundleBytes: 64 * 1024 });
    const res = await fetch(`${hub.url}/api/fields/${FIELD}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ robots: [ROBOT] }),
    });
    assert.equal(res.status, 200, await res.text());
  });
  after(async () => {
    await hub.close();
    await catalog.close();
  });

  test('PUT, HEAD and GET a bundle; POST a batch', async () => {
    const u = upload(episode(1));
    assert.equal((await fetch(`${hub.url}/api/episodes/${u.id}/bundle`, { method: 'HEAD' })).status, 404);
    const res = await put(u.id, u.bundle);
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), {
      status: 'stored',
      id: u.id,
      dataset: `${FIELD}-arm7`,
      episodeIndex: 0,
    });
    const head = await fetch(`${hub.url}/api/episodes/${u.id}/bundle`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-tg-bundle-sha256'), u.sha256);
    assert.equal(head.headers.get('x-tg-episode-index'), '0');
    const got = await fetch(`${hub.url}/api/episodes/${u.id}/bundle`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-sha256'), u.sha256);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), Buffer.from(u.bundle));

    const batch = [upload(episode(2)), u, upload(episode(3))];
    const posted = await postBatch(encodeBatch(batch));
    assert.equal(posted.status, 200);
    assert.deepEqual(
      ((await posted.json()) as { results: Array<{ id: string; status: string; episodeIndex: number }> })
        .results,
      [
        { status: 'stored', id: batch[0]!.id, dataset: `${FIELD}-arm7`, episodeIndex: 1 },
        { status: 'already stored', id: u.id, dataset: `${FIELD}-arm7`, episodeIndex: 0 },
        { status: 'stored', id: batch[2]!.id, dataset: `${FIELD}-arm7`, episodeIndex: 2 },
      ],
    );
    assert.equal((await put(u.id, u.bundle)).status, 200, 'a re-sent bundle is 200, not a second copy');
    assert.equal((await fetch(`${hub.url}/api/episodes/${'0'.repeat(64)}/bundle`)).status, 404);
  });

  test('resume checks (HEAD) keep a keep-alive connection open, found or not', async () => {
    const u = upload(episode(7));
    assert.equal((await put(u.id, u.bundle)).status, 201);
    let connections = 0;
    const count = () => connections++;
    hub.server.on('connection', count);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const head = (id: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${hub.url}/api/episodes/${id}/bundle`, { method: 'HEAD', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const answers = [];
      for (const id of [u.id, 'f'.repeat(64), u.id, 'e'.repeat(64)]) answers.push(await head(id));
      assert.deepEqual(
        answers.map((r) => [r.statusCode, r.headers['content-length']]),
        [
          [200, String(u.bundle.byteLength)],
          [404, '0'],
          [200, String(u.bundle.byteLength)],
          [404, '0'],
        ],
      );
      assert.equal(connections, 1, 'one connection for every check');
    } finally {
      hub.server.off('connection', count);
      agent.destroy();
    }
  });

  test('bad uploads are a 4xx with a reason; blobs and catalog stay as they were', async () => {
    const before = await snapshot(blobsRoot(), catalog);
    const u = upload(episode(50));
    const tampered = u.bundle.slice();
    tampered[tampered.length - 1]! ^= 1;
    const stranger = upload(episode(51, { robot: 'stranger' }));
    const big = upload(episode(52, { frames: 2000, dim: 10 }));
    // A header that is not JSON: same size, one byte of the JSON broken.
    const notJson = u.bundle.slice();
    notJson[12] = 0x7b + 1;
    const badBatch = encodeBatch([u, upload(episode(53))]);

    const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
      [
        'lying checksum',
        () => put(u.id, u.bundle, { 'content-sha256': 'ab'.repeat(32) }),
        400,
        /checksum mismatch/,
      ],
      ['lying content', () => put(u.id, tampered), 400, /content hash mismatch/],
      ['truncated bundle', () => put(u.id, u.bundle.subarray(0, 300)), 400, /truncated/],
      ['header not JSON', () => put(u.id, notJson), 400, /header is not UTF-8 JSON/],
      ['wrong id in the URL', () => put(stranger.id, u.bundle), 400, /bundle holds episode/],
      ['no checksum', () => put(u.id, u.bundle, { 'content-sha256': '' }), 400, /Content-SHA256/],
      ['bad id', () => put('not-a-hash', u.bundle), 400, /sha256 hex digest/],
      [
        'unknown robot',
        () => put(stranger.id, stranger.bundle),
        404,
        /robot stranger, which no field has registered/,
      ],
      ['oversized', () => put(big.id, big.bundle), 413, /too large/i],
      [
        'batch with a lying entry',
        () => postBatch(encodeBatch([u, { ...u, bundle: tampered, sha256: bundleSha256(tampered) }])),
        400,
        /episode 2 of 2 .*content hash mismatch/,
      ],
      ['batch with an unknown robot', () => postBatch(encodeBatch([u, stranger])), 404, /robot stranger/],
      [
        'truncated batch',
        () => postBatch(badBatch.subarray(0, badBatch.length - 40)),
        400,
        /episode batch: truncated/,
      ],
      [
        'batch entry over the limit',
        () => postBatch(encodeBatch([u, big])),
        400,
        /entry 2 of 2: bundle of \d+ bytes exceeds 65536/,
      ],
      [
        'malformed JSON registration',
        () =>
          fetch(`${hub.url}/api/fields/${FIELD}/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"robots": [',
          }),
        400,
        /JSON/,
      ],
    ];
    for (const [what, send, status, reason] of cases) {
      const res = await send();
      assert.equal(res.status, status, what);
      assert.match((await errorOf(res)).message, reason, what);
    }
    assert.equal(readBundleHeader(u.bundle).header.meta.id, u.id);
    assert.deepEqual(await snapshot(blobsRoot(), catalog), before);
  });

  test('an upload cut off mid-body is refused and stores nothing', async () => {
    const before = await snapshot(blobsRoot(), catalog);
    const u = upload(episode(60));
    const url = new URL(hub.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(
          `PUT /api/episodes/${u.id}/bundle HTTP/1.1\r\nHost: hub\r\nContent-Type: ${BUNDLE_MEDIA_TYPE}\r\n` +
            `Content-SHA256: ${u.sha256}\r\nContent-Length: ${u.bundle.length}\r\n\r\n`,
        );
        socket.end(u.bundle.subarray(0, 200)); // the link drops after 200 bytes
      });
      let text = '';
      socket.on('data', (d) => {
        text += d;
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    await hub.network.ingest.settled();
    assert.deepEqual(await snapshot(blobsRoot(), catalog), before);
    assert.equal((await fetch(`${hub.url}/api/episodes/${u.id}/bundle`, { method: 'HEAD' })).status, 404);
  });
});

describe('episode ingest after a catalog commit that failed part way', () => {
  test('the indexes it had handed out are read afresh: no two episodes of a dataset share one', async () => {
    const [backend] = await catalogBackends();
    const catalog = await Catalog.open(await backend!.place('partial-commit'));
    const ingest = await (async () => {
      await catalog.upsertRobot({ ...ROBOT, name: ROBOT.id, field: FIELD });
      return EpisodeIngest.open({ catalog, dir: tempDir('tg-ingest-partial-'), threads: 0 });
    })();
    try {
      // The first commit stores half of its rows, then fails (a disk error between two statements).
      const insert = catalog.insertEpisodeGroups.bind(catalog);
      let failOnce = true;
      catalog.insertEpisodeGroups = async (groups, opts) => {
        if (!failOnce) return insert(groups, opts);
        failOnce = false;
        await insert(
          groups.map((g) => ({ ...g, episodes: g.episodes.slice(0, g.episodes.length >> 1) })),
          opts,
        );
        throw new TgError('STORAGE_FAILED', 'disk full');
      };
      const first = Array.from({ length: 10 }, (_, i) => upload(episode(500 + i)));
      await assert.rejects(ingest.ingestBatch(first), /disk full/);
      // The field sends the batch again, then more.
      const again = await ingest.ingestBatch(first);
      assert.deepEqual(
        again.map((r) => r.status),
        [...Array(5).fill('already stored'), ...Array(5).fill('stored')],
      );
      await ingest.ingestBatch(Array.from({ length: 5 }, (_, i) => upload(episode(600 + i))));
      const rows = await catalog.listEpisodes({ limit: 100, offset: 0 });
      assert.equal(rows.length, 15);
      assert.deepEqual(
        rows.map((r) => r.episodeIndex).sort((a, b) => a - b),
        Array.from({ length: 15 }, (_, i) => i),
      );
    } finally {
      await ingest.close();
      await catalog.close();
      await backend!.cleanup();
    }
  });
});
