import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { TgError } from '../../src/errors/index.ts';
import { BlobStore } from '../../src/hub/blobs/index.ts';

let root: string;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'tg-blobs-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

async function tmpFiles(store: BlobStore): Promise<string[]> {
  return readdir(path.join(store.root, 'tmp')).catch(() => []);
}

describe('BlobStore', () => {
  test('stores a buffer under its sha256 and reads it back', async () => {
    const store = new BlobStore(path.join(root, 'a'));
    const r = await store.put(Buffer.from('hello'));
    assert.deepEqual(r, { sha256: sha('hello'), sizeBytes: 5, created: true });
    const file = path.join(store.root, 'sha256', r.sha256.slice(0, 2), r.sha256.slice(2));
    assert.equal(await readFile(file, 'utf8'), 'hello');
    assert.equal(await store.has(r.sha256), true);
    assert.deepEqual(await store.stat(r.sha256), { sha256: r.sha256, sizeBytes: 5 });
    assert.equal(await text(await store.get(r.sha256)), 'hello');
    assert.deepEqual(await tmpFiles(store), []);
  });

  test('streams a multi-chunk body and verifies the claimed hash', async () => {
    const store = new BlobStore(path.join(root, 'b'));
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const whole = Buffer.concat(chunks);
    const r = await store.put(Readable.from(chunks), sha(whole));
    assert.equal(r.sizeBytes, 500_000);
    assert.equal(r.sha256, sha(whole));
  });

  test('storing the same bytes again is a no-op', async () => {
    const store = new BlobStore(path.join(root, 'c'));
    await store.put(Buffer.from('same'));
    const again = await store.put(Buffer.from('same'), sha('same').toUpperCase());
    assert.equal(again.created, false);
    assert.deepEqual(await tmpFiles(store), []);
  });

  test('a body whose hash differs from the claim is refused and nothing is stored', async () => {
    const store = new BlobStore(path.join(root, 'd'));
    const claimed = sha('what was promised');
    await assert.rejects(store.put(Buffer.from('what arrived'), claimed), (err: unknown) => {
      assert.ok(err instanceof TgError);
      assert.equal(err.code, 'INPUT_INVALID');
      assert.match(err.message, /not the claimed/);
      return true;
    });
    assert.equal(await store.has(claimed), false);
    assert.equal(await store.has(sha('what arrived')), false);
    assert.deepEqual(await tmpFiles(store), []);
  });

  test('a body over the size limit is refused mid-stream', async () => {
    const store = new BlobStore(path.join(root, 'e'), { maxBytes: 1000 });
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 600;
        this.push(Buffer.alloc(600));
      },
    });
    await assert.rejects(store.put(endless), {
      code: 'INPUT_INVALID',
      message: /larger than the limit of 1000/,
    });
    // The source may run ahead by its own buffer (16 KiB), not more.
    assert.ok(produced < 64 * 1024, `stopped reading soon after the limit (read ${produced})`);
    assert.deepEqual(await tmpFiles(store), []);
    assert.equal((await store.put(Buffer.alloc(1000))).sizeBytes, 1000);
  });

  test('missing blobs and malformed hashes', async () => {
    const store = new BlobStore(path.join(root, 'f'));
    assert.equal(await store.stat(sha('nothing')), null);
    await assert.rejects(store.get(sha('nothing')), { code: 'NOT_FOUND' });
    await assert.rejects(store.has('../../etc/passwd'), { code: 'INPUT_INVALID' });
    await assert.rejects(store.put(Buffer.from('x'), 'abc'), { code: 'INPUT_INVALID' });
  });

  test('putHashed writes many blobs at once, durably, and read returns them', async () => {
    const store = new BlobStore(path.join(root, 'g'), { maxBytes: 64 });
    const bodies = ['one', 'two', 'three', 'one'].map((t) => Buffer.from(t));
    for (const durable of [true, false]) {
      const infos = await store.putHashed(
        bodies.map((bytes) => ({ bytes, sha256: sha(bytes) })),
        { durable },
      );
      assert.deepEqual(
        infos.map((i) => i.sha256),
        bodies.map((b) => sha(b)),
      );
    }
    for (const b of bodies) assert.deepEqual(Buffer.from(await store.read(sha(b))), b);
    const fanOut = await readdir(path.join(store.root, 'sha256'));
    const files = (await Promise.all(fanOut.map((d) => readdir(path.join(store.root, 'sha256', d))))).flat();
    assert.equal(files.length, 3, 'the same bytes twice are one blob');
    assert.deepEqual(await tmpFiles(store), []);
    await assert.rejects(store.putHashed([{ bytes: Buffer.alloc(65), sha256: sha(Buffer.alloc(65)) }]), {
      code: 'INPUT_INVALID',
      message: /larger than the limit of 64/,
    });
    await assert.rejects(store.putHashed([{ bytes: Buffer.from('x'), sha256: 'abc' }]), {
      code: 'INPUT_INVALID',
    });
    await assert.rejects(store.read(sha('absent')), { code: 'NOT_FOUND' });
    assert.deepEqual(await tmpFiles(store), []);
  });
});
