import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

  test('putHashed writes many blobs as one pack, durably, and a fresh store reads them back', async () => {
    const store = new BlobStore(path.join(root, 'g'), { maxBytes: 64 });
    const bodies = ['one', 'two', 'three', 'one', ''].map((t) => Buffer.from(t));
    const packs = [];
    for (const durable of [true, false]) {
      const pack = await store.putHashed(
        bodies.map((bytes) => ({ bytes, sha256: sha(bytes) })),
        { durable },
      );
      assert.ok(pack);
      assert.deepEqual(
        pack.entries.map((e) => e.sha256),
        ['one', 'two', 'three', ''].map((t) => sha(t)),
        'the same bytes twice in a call are stored once',
      );
      packs.push(pack.name);
    }
    assert.deepEqual((await readdir(path.join(store.root, 'packs'))).sort(), packs.sort());
    assert.deepEqual(await tmpFiles(store), []);
    for (const reader of [store, new BlobStore(store.root)]) {
      for (const b of bodies) {
        assert.deepEqual(Buffer.from(await reader.read(sha(b))), b);
        assert.equal(await text(await reader.get(sha(b))), b.toString());
        assert.deepEqual(await reader.stat(sha(b)), { sha256: sha(b), sizeBytes: b.length });
      }
      assert.deepEqual(
        (await reader.list()).map((i) => i.sha256).sort(),
        ['one', 'two', 'three', ''].map((t) => sha(t)).sort(),
        'a blob in two packs is listed once',
      );
      await assert.rejects(reader.read(sha('absent')), { code: 'NOT_FOUND' });
    }
    assert.equal(await store.putHashed([]), null, 'no blobs, no pack');
  });

  test('putHashed refuses an oversized blob or a malformed hash and writes nothing', async () => {
    const store = new BlobStore(path.join(root, 'h'), { maxBytes: 64 });
    const ok = { bytes: Buffer.from('fine'), sha256: sha('fine') };
    await assert.rejects(store.putHashed([ok, { bytes: Buffer.alloc(65), sha256: sha(Buffer.alloc(65)) }]), {
      code: 'INPUT_INVALID',
      message: /larger than the limit of 64/,
    });
    await assert.rejects(store.putHashed([ok, { bytes: Buffer.from('x'), sha256: 'abc' }]), {
      code: 'INPUT_INVALID',
    });
    assert.equal(await store.has(ok.sha256), false);
    assert.deepEqual(await readdir(path.join(store.root, 'packs')).catch(() => []), []);
    assert.deepEqual(await tmpFiles(store), []);
  });

  test('a pack written by another store is found once written; a file in packs/ that is not whole is not', async () => {
    const writer = new BlobStore(path.join(root, 'i'));
    const reader = new BlobStore(writer.root);
    const first = Buffer.from('first');
    await writer.putHashed([{ bytes: first, sha256: sha(first) }]);
    assert.equal(await reader.has(sha('later')), false, 'the reader has loaded the packs there were');
    const later = Buffer.from('later');
    const pack = await writer.putHashed([{ bytes: later, sha256: sha(later) }]);
    assert.deepEqual(Buffer.from(await reader.read(sha(later))), later, 'a miss looks for new packs');

    // A pack cut short (copied in by hand, or damaged) holds nothing the store will serve.
    const whole = await readFile(path.join(writer.root, 'packs', pack!.name));
    const cut = Buffer.from('cut short');
    const cutPack = await writer.putHashed([{ bytes: cut, sha256: sha(cut) }]);
    const cutFile = path.join(writer.root, 'packs', cutPack!.name);
    const bytes = await readFile(cutFile);
    await writeFile(cutFile, bytes.subarray(0, bytes.length - 3));
    await writeFile(path.join(writer.root, 'packs', 'junk.pack'), whole.subarray(0, 12));
    const fresh = new BlobStore(writer.root);
    assert.equal(await fresh.has(sha(cut)), false);
    assert.deepEqual(Buffer.from(await fresh.read(sha(later))), later);
    assert.deepEqual((await fresh.list()).map((b) => b.sha256).sort(), [sha(first), sha(later)].sort());
  });

  test('removeLeftovers clears what killed writes left in tmp/ and keeps every stored blob', async () => {
    const store = new BlobStore(path.join(root, 'k'));
    const body = Buffer.from('kept');
    await store.putHashed([{ bytes: body, sha256: sha(body) }]);
    await store.put(Buffer.from('loose'));
    await writeFile(path.join(store.root, 'tmp', 'killed-midway.pack'), 'TGPACK01 partial');
    assert.equal(await store.removeLeftovers(), 1);
    assert.deepEqual(await tmpFiles(store), []);
    assert.deepEqual(Buffer.from(await store.read(sha(body))), body);
    assert.deepEqual(Buffer.from(await new BlobStore(store.root).read(sha('loose'))), Buffer.from('loose'));
  });

  test('put of bytes a pack already holds stores nothing new', async () => {
    const store = new BlobStore(path.join(root, 'j'));
    const body = Buffer.from('packed first');
    await store.putHashed([{ bytes: body, sha256: sha(body) }]);
    const again = await store.put(body);
    assert.equal(again.created, false);
    assert.deepEqual(await readdir(path.join(store.root, 'sha256')).catch(() => []), []);
  });
});
