import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TgError } from '../../src/errors/index.ts';
import {
  bundleSha256,
  decodeBundle,
  encodeBundle,
  readBundleHeader,
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
});
