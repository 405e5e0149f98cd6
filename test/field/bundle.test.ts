import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TgError } from '../../src/errors/index.ts';
import {
  type BatchEntry,
  bundleSha256,
  decodeBatch,
  decodeBundle,
  encodeBatch,
  encodeBundle,
  readBundleHeader,
  verifyBundle,
} from '../../src/field/transfer/index.ts';
import { makeEpisode } from './fixtures.ts';

const rejects = (bytes: Uint8Array, reason: RegExp) =>
  assert.throws(
    () => decodeBundle(bytes),
    (err: unknown) => err instanceof TgError && err.code === 'INPUT_INVALID' && reason.test(err.message),
  );

describe('episode bundle', () => {
  it('round-trips meta, timestamps and columns bit for bit', () => {
    const ep = makeEpisode(7, { frames: 33, dim: 5 });
    const bytes = encodeBundle(ep);
    const back = decodeBundle(bytes);
    assert.deepEqual(back.meta, ep.meta);
    assert.equal(back.length, 33);
    assert.deepEqual(back.timestampsSec, ep.timestampsSec);
    assert.deepEqual(Object.keys(back.columns).sort(), ['action', 'observation.state']);
    for (const name of Object.keys(ep.columns)) assert.deepEqual(back.columns[name], ep.columns[name]);
    const { header } = readBundleHeader(bytes);
    assert.deepEqual(header.features, [
      { name: 'action', dim: 5 },
      { name: 'observation.state', dim: 5 },
    ]);
  });

  it('is deterministic: the same episode gives the same bytes and checksum', () => {
    const a = encodeBundle(makeEpisode(3));
    const b = encodeBundle(makeEpisode(3));
    assert.equal(bundleSha256(a), bundleSha256(b));
    assert.notEqual(bundleSha256(a), bundleSha256(encodeBundle(makeEpisode(4))));
  });

  it('refuses to encode a zero-frame episode (its feature sizes are unknowable)', () => {
    const ep = makeEpisode(1, { frames: 0 });
    assert.throws(() => encodeBundle(ep), /0 values for 0 frames/);
  });

  it('rejects every truncation with the reason', () => {
    const bytes = encodeBundle(makeEpisode(1));
    rejects(bytes.subarray(0, 5), /truncated: 5 bytes/);
    rejects(bytes.subarray(0, 40), /truncated: header needs/);
    for (const cut of [1, 8, 100, bytes.length - 200]) {
      rejects(bytes.subarray(0, bytes.length - cut), /truncated/);
    }
    rejects(new Uint8Array(0), /truncated/);
  });

  it('rejects trailing bytes, bad magic, version and reserved bytes', () => {
    const bytes = encodeBundle(makeEpisode(1));
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    rejects(longer, /4 trailing bytes/);
    const magic = bytes.slice();
    magic[0] = 0x58;
    rejects(magic, /not an episode bundle/);
    const version = bytes.slice();
    version[4] = 9;
    rejects(version, /unsupported bundle version 9/);
    const reserved = bytes.slice();
    reserved[6] = 1;
    rejects(reserved, /reserved/);
  });

  it('rejects a bundle whose content does not hash to the id it claims', () => {
    const bytes = encodeBundle(makeEpisode(1));
    const flipped = bytes.slice();
    flipped[bytes.length - 3]! ^= 0x40; // one bit of the last column
    rejects(flipped, /content hash mismatch/);
  });

  it('rejects a header that lies about the frame count or has a bad schema', () => {
    const ep = makeEpisode(2);
    const lie = (mutate: (h: Record<string, unknown>) => void) => {
      const bytes = encodeBundle(ep);
      const { dataOffset } = readBundleHeader(bytes);
      const hlen = new DataView(bytes.buffer).getUint32(8, true);
      const header = JSON.parse(Buffer.from(bytes.subarray(12, 12 + hlen)).toString('utf8'));
      mutate(header);
      const json = Buffer.from(JSON.stringify(header));
      const pad = (8 - ((12 + json.length) % 8)) % 8;
      const out = new Uint8Array(12 + json.length + pad + bytes.length - dataOffset);
      out.set(bytes.subarray(0, 12));
      new DataView(out.buffer).setUint32(8, json.length, true);
      out.set(json, 12);
      out.set(bytes.subarray(dataOffset), 12 + json.length + pad);
      return out;
    };
    rejects(
      lie((h) => {
        h.length = 19;
      }),
      /header says 19 frames but its meta says 20/,
    );
    rejects(
      lie((h) => {
        (h.meta as Record<string, unknown>).source = 'dream';
      }),
      /bad header: meta.source/,
    );
    rejects(
      lie((h) => {
        (h.meta as Record<string, unknown>).seed = 99;
      }),
      /content hash mismatch/,
    );
    rejects(
      lie((h) => {
        (h.features as Array<{ dim: number }>)[0]!.dim = 4;
      }),
      /truncated/,
    );
  });

  it('carries dimension names outside the content hash, and checks their count', () => {
    const ep = makeEpisode(5, { dim: 2 });
    const names = { 'observation.state': ['shoulder', 'elbow'], action: ['shoulder', 'elbow'] };
    const bytes = encodeBundle(ep, { names });
    assert.deepEqual(readBundleHeader(bytes).header.features, [
      { name: 'action', dim: 2, names: ['shoulder', 'elbow'] },
      { name: 'observation.state', dim: 2, names: ['shoulder', 'elbow'] },
    ]);
    assert.equal(decodeBundle(bytes).meta.id, ep.meta.id, 'the names do not change the episode id');
    assert.throws(
      () => encodeBundle(ep, { names: { action: ['only-one'] } }),
      /1 names for feature action of 2/,
    );
    // A header whose names do not match the dimension is refused like any other bad header.
    const { header, dataOffset } = readBundleHeader(bytes);
    const bad = { ...header, features: [{ ...header.features[0]!, names: ['x'] }, header.features[1]!] };
    const json = Buffer.from(JSON.stringify(bad));
    const pad = (8 - ((12 + json.length) % 8)) % 8;
    const out = new Uint8Array(12 + json.length + pad + bytes.length - dataOffset);
    out.set(bytes.subarray(0, 12));
    new DataView(out.buffer).setUint32(8, json.length, true);
    out.set(json, 12);
    out.set(bytes.subarray(dataOffset), 12 + json.length + pad);
    rejects(out, /bad header: features.0.names: names must list one name per dimension/);
  });

  it('verifies in place, at any byte offset, without copying', () => {
    const ep = makeEpisode(11, { frames: 17, dim: 3 });
    const bytes = encodeBundle(ep);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3); // an odd offset: no Float32Array could view these columns
    const v = verifyBundle(shifted.subarray(3));
    assert.equal(v.header.meta.id, ep.meta.id);
    assert.deepEqual(
      v.columns.map((c) => [c.name, c.dim, c.bytes]),
      [
        ['action', 3, 17 * 3 * 4],
        ['observation.state', 3, 17 * 3 * 4],
      ],
    );
    const state = shifted.subarray(3 + v.columns[1]!.offset, 3 + v.columns[1]!.offset + v.columns[1]!.bytes);
    assert.deepEqual(new Float32Array(state.slice().buffer), ep.columns['observation.state']);
    shifted[3 + v.timestamps.offset]! ^= 1;
    assert.throws(() => verifyBundle(shifted.subarray(3)), /content hash mismatch/);
  });
});

describe('episode batch', () => {
  const entries = (n: number): BatchEntry[] =>
    Array.from({ length: n }, (_, i) => {
      const ep = makeEpisode(100 + i, { frames: 5 + i });
      const bundle = encodeBundle(ep);
      return { id: ep.meta.id, sha256: bundleSha256(bundle), bundle };
    });
  const rejectsBatch = (bytes: Uint8Array, reason: RegExp, opts = {}) =>
    assert.throws(
      () => decodeBatch(bytes, opts),
      (err: unknown) => err instanceof TgError && err.code === 'INPUT_INVALID' && reason.test(err.message),
    );

  it('round-trips entries in order, each bundle 8-aligned in the body', () => {
    const sent = entries(4);
    const body = encodeBatch(sent);
    const back = decodeBatch(body);
    assert.deepEqual(
      back.map((e) => [e.id, e.sha256, bundleSha256(e.bundle)]),
      sent.map((e) => [e.id, e.sha256, e.sha256]),
    );
    for (const e of back) {
      assert.equal(e.bundle.byteOffset % 8, 0);
      assert.equal(decodeBundle(e.bundle).meta.id, e.id);
    }
  });

  it('rejects bad framing with where and why', () => {
    const body = encodeBatch(entries(3));
    rejectsBatch(body.subarray(0, 10), /truncated: 10 bytes/);
    rejectsBatch(body.subarray(0, body.length - 8), /truncated: entry 3 of 3/);
    rejectsBatch(body.subarray(0, 100), /truncated: entry 1 of 3 needs/);
    const longer = new Uint8Array(body.length + 8);
    longer.set(body);
    rejectsBatch(longer, /8 bytes after the last of 3 entries/);
    const magic = body.slice();
    magic[0] = 0x58;
    rejectsBatch(magic, /not an episode batch/);
    const empty = body.slice(0, 16);
    new DataView(empty.buffer).setUint32(8, 0, true);
    rejectsBatch(empty, /0 entries/);
    const reserved = body.slice();
    reserved[16 + 5] = 1;
    rejectsBatch(reserved, /entry 1 of 3: reserved bytes are not zero/);
    rejectsBatch(body, /entry 1 of 3: bundle of \d+ bytes exceeds 100/, { maxBundleBytes: 100 });
    assert.throws(() => encodeBatch([{ ...entries(1)[0]!, id: 'nope' }]), /must be sha256 hex/);
  });
});
