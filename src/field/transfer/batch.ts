/**
 * A batch of episode bundles in one body: what a field uploads when its spool holds a backlog, so the hub
 * takes many episodes per request (and commits them together) instead of one round trip each. The batch
 * keeps the spool's order; each entry carries the sender's claims about its bundle (the episode id and
 * the bundle's sha256), which the hub checks exactly as it checks a single upload's URL and header.
 *
 * Layout (integers little-endian):
 *
 *   offset 0   4 bytes  magic "TGEB"
 *          4   u8       format version (1)
 *          5   3 bytes  reserved, zero
 *          8   u32      number of entries N
 *         12   4 bytes  reserved, zero
 *   then N entries, each starting at a multiple of 8:
 *          0   u32      bundle length B
 *          4   4 bytes  reserved, zero
 *          8   32 bytes episode id (the sha256 content hash, raw)
 *         40   32 bytes sha256 of the bundle (raw)
 *         72   B bytes  the bundle (src/field/transfer/bundle.ts)
 *              pad      zero bytes up to the next multiple of 8
 *
 * Nothing follows the last entry. Entries start 8-aligned so a bundle's columns stay aligned in the body.
 */
import { TgError } from '../../errors/index.ts';

export const BATCH_MAGIC = 'TGEB';
export const BATCH_VERSION = 1;
export const BATCH_MEDIA_TYPE = 'application/vnd.tg.episode-bundles';
export const BATCH_PREFIX_BYTES = 16;
export const BATCH_ENTRY_HEADER_BYTES = 72;
/** More entries than this in one body is not a batch a field sends. */
export const MAX_BATCH_ENTRIES = 100_000;

export interface BatchEntry {
  /** The episode id the sender says the bundle holds. */
  id: string;
  /** The sender's transfer checksum of `bundle`. */
  sha256: string;
  bundle: Uint8Array;
}

const align8 = (n: number) => (n + 7) & ~7;
const HEX64 = /^[0-9a-f]{64}$/;

/** Size in bytes of the batch holding bundles of these sizes. */
export function batchByteLength(bundleBytes: readonly number[]): number {
  return bundleBytes.reduce((n, b) => n + align8(BATCH_ENTRY_HEADER_BYTES + b), BATCH_PREFIX_BYTES);
}

export function encodeBatch(entries: readonly BatchEntry[]): Uint8Array {
  const out = new Uint8Array(batchByteLength(entries.map((e) => e.bundle.byteLength)));
  const view = new DataView(out.buffer);
  out.set(Buffer.from(BATCH_MAGIC, 'ascii'), 0);
  view.setUint8(4, BATCH_VERSION);
  view.setUint32(8, entries.length, true);
  let at = BATCH_PREFIX_BYTES;
  for (const e of entries) {
    if (!HEX64.test(e.id) || !HEX64.test(e.sha256)) {
      throw new TgError('INPUT_INVALID', `episode batch: entry ${e.id}: id and sha256 must be sha256 hex`);
    }
    view.setUint32(at, e.bundle.byteLength, true);
    out.set(Buffer.from(e.id, 'hex'), at + 8);
    out.set(Buffer.from(e.sha256, 'hex'), at + 40);
    out.set(e.bundle, at + BATCH_ENTRY_HEADER_BYTES);
    at += align8(BATCH_ENTRY_HEADER_BYTES + e.bundle.byteLength);
  }
  return out;
}

/**
 * Splits a batch into its entries (bundles are views into `bytes`, not copies). Checks the framing only:
 * each bundle is verified by whoever ingests it. A malformed, truncated or padded batch, or an entry over
 * `maxBundleBytes`, is a `TgError('INPUT_INVALID')` saying where.
 */
export function decodeBatch(bytes: Uint8Array, opts: { maxBundleBytes?: number } = {}): BatchEntry[] {
  const maxBundleBytes = opts.maxBundleBytes ?? Number.POSITIVE_INFINITY;
  if (bytes.length < BATCH_PREFIX_BYTES) {
    throw invalid(`truncated: ${bytes.length} bytes, shorter than the ${BATCH_PREFIX_BYTES}-byte prefix`);
  }
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1');
  if (magic !== BATCH_MAGIC) throw invalid(`not an episode batch (magic ${JSON.stringify(magic)})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== BATCH_VERSION) throw invalid(`unsupported batch version ${version}`);
  if (view.getUint8(5) | view.getUint8(6) | view.getUint8(7) | view.getUint32(12, true)) {
    throw invalid('reserved prefix bytes are not zero');
  }
  const count = view.getUint32(8, true);
  if (count === 0 || count > MAX_BATCH_ENTRIES) throw invalid(`${count} entries (1 to ${MAX_BATCH_ENTRIES})`);
  const entries: BatchEntry[] = [];
  let at = BATCH_PREFIX_BYTES;
  for (let i = 0; i < count; i++) {
    const where = `entry ${i + 1} of ${count}`;
    if (at + BATCH_ENTRY_HEADER_BYTES > bytes.length) {
      throw invalid(`truncated: ${where} starts at byte ${at}, the batch has ${bytes.length}`);
    }
    const size = view.getUint32(at, true);
    if (view.getUint32(at + 4, true) !== 0) throw invalid(`${where}: reserved bytes are not zero`);
    if (size > maxBundleBytes) {
      throw new TgError(
        'INPUT_INVALID',
        `episode batch: ${where}: bundle of ${size} bytes exceeds ${maxBundleBytes}`,
      );
    }
    const start = at + BATCH_ENTRY_HEADER_BYTES;
    if (start + size > bytes.length) {
      throw invalid(
        `truncated: ${where} needs ${size} bytes from byte ${start}, the batch has ${bytes.length}`,
      );
    }
    entries.push({
      id: hex(bytes, at + 8),
      sha256: hex(bytes, at + 40),
      bundle: bytes.subarray(start, start + size),
    });
    const next = align8(start + size);
    if (next > bytes.length) throw invalid(`truncated: ${where} lacks its padding to 8 bytes`);
    for (let k = start + size; k < next; k++) {
      if (bytes[k] !== 0) throw invalid(`${where}: padding is not zero`);
    }
    at = next;
  }
  if (at !== bytes.length) {
    throw invalid(`${bytes.length - at} bytes after the last of ${count} entries`);
  }
  return entries;
}

function hex(bytes: Uint8Array, at: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, 32).toString('hex');
}

function invalid(reason: string): TgError {
  return new TgError('INPUT_INVALID', `episode batch: ${reason}`);
}
