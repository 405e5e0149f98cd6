/**
 * Pack files: many blobs written together as one file, so a group of uploads costs one file, one fsync
 * and one directory fsync instead of one of each per blob (measured on ext4: 0.12 ms of CPU per 36 KB blob
 * packed, against 1.9 ms written one file each).
 *
 *   "TGPACK01"                          8-byte magic
 *   blob bytes, back to back            from offset 8
 *   index: count x 48 bytes             raw sha256 (32), offset (u64 LE), length (u64 LE), in blob order
 *   count (u64 LE), "TGPKIDX1"          16-byte footer
 *
 * A pack is written under tmp/, made durable, then renamed into packs/: a pack in packs/ is always whole.
 * `readPackIndex` still checks that the index and footer describe the file exactly, so a file that is not
 * a pack (or was cut short by something else) is refused rather than half-read.
 */
import fs from 'node:fs';

export const PACK_SUFFIX = '.pack';
const MAGIC = Buffer.from('TGPACK01', 'latin1');
const FOOTER_MAGIC = Buffer.from('TGPKIDX1', 'latin1');
const ENTRY_BYTES = 48;
const FOOTER_BYTES = 16;

export interface PackEntry {
  sha256: string;
  offset: number;
  length: number;
}

export interface PackBlob {
  bytes: Uint8Array;
  sha256: string;
}

/** The pieces of a pack in file order (written with one vectored write) and where each blob lands. */
export function packLayout(blobs: readonly PackBlob[]): { chunks: Uint8Array[]; entries: PackEntry[] } {
  const index = Buffer.alloc(blobs.length * ENTRY_BYTES + FOOTER_BYTES);
  const entries: PackEntry[] = [];
  let offset = MAGIC.length;
  blobs.forEach(({ bytes, sha256 }, i) => {
    const at = i * ENTRY_BYTES;
    index.write(sha256, at, 32, 'hex');
    index.writeBigUInt64LE(BigInt(offset), at + 32);
    index.writeBigUInt64LE(BigInt(bytes.byteLength), at + 40);
    entries.push({ sha256, offset, length: bytes.byteLength });
    offset += bytes.byteLength;
  });
  index.writeBigUInt64LE(BigInt(blobs.length), blobs.length * ENTRY_BYTES);
  FOOTER_MAGIC.copy(index, blobs.length * ENTRY_BYTES + 8);
  return { chunks: [MAGIC, ...blobs.map((b) => b.bytes), index], entries };
}

/** The index of the pack open at `fd` (`size` bytes); throws when the file is not a whole pack. */
export function readPackIndex(fd: number, size: number): PackEntry[] {
  const bad = (why: string) => new Error(`not a whole pack: ${why}`);
  if (size < MAGIC.length + FOOTER_BYTES) throw bad(`${size} bytes`);
  const head = Buffer.alloc(MAGIC.length);
  fs.readSync(fd, head, 0, head.length, 0);
  if (!head.equals(MAGIC)) throw bad('no pack magic');
  const footer = Buffer.alloc(FOOTER_BYTES);
  fs.readSync(fd, footer, 0, FOOTER_BYTES, size - FOOTER_BYTES);
  if (!footer.subarray(8).equals(FOOTER_MAGIC)) throw bad('no index footer');
  const count = Number(footer.readBigUInt64LE(0));
  const indexAt = size - FOOTER_BYTES - count * ENTRY_BYTES;
  if (!Number.isSafeInteger(count) || indexAt < MAGIC.length) throw bad(`index of ${count} entries`);
  const index = Buffer.alloc(count * ENTRY_BYTES);
  fs.readSync(fd, index, 0, index.length, indexAt);
  const entries: PackEntry[] = [];
  let expected = MAGIC.length;
  for (let at = 0; at < index.length; at += ENTRY_BYTES) {
    const offset = Number(index.readBigUInt64LE(at + 32));
    const length = Number(index.readBigUInt64LE(at + 40));
    if (offset !== expected) throw bad(`entry at ${offset}, expected ${expected}`);
    entries.push({ sha256: index.toString('hex', at, at + 32), offset, length });
    expected += length;
  }
  if (expected !== indexAt) throw bad(`blobs end at ${expected}, the index starts at ${indexAt}`);
  return entries;
}
