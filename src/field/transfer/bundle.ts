/**
 * The episode transfer bundle: one self-describing binary file per episode, the unit that the field spools,
 * uploads and the hub verifies. Its sha256 is the transfer checksum; the episode id inside is the content
 * hash of the episode itself (src/data/episode.ts), re-computed on decode so a bundle cannot lie about it.
 *
 * Layout (all integers and floats little-endian):
 *
 *   offset 0   4 bytes  magic "TGEP"
 *          4   u8       format version (1)
 *          5   3 bytes  reserved, zero
 *          8   u32      header length H in bytes
 *         12   H bytes  header: UTF-8 JSON `BundleHeader`
 *              pad      zero bytes up to the next multiple of 8
 *              8*L      timestamps, Float64 x length
 *              ...      each feature in header order, Float32 x length*dim (frame-major)
 *
 * Nothing follows the last column: a bundle whose size differs from the one its header implies is
 * truncated or padded, and rejected. A feature may name its dimensions (`names`, e.g. the embodiment's
 * joint names), which the hub uses when it materializes the episode as LeRobot v3; like `recordedAt`, the
 * names are outside the content hash.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { z } from 'zod';
import { computeEpisodeId, EpisodeMetaSchema, type RecordedEpisode } from '../../data/episode.ts';
import { TgError } from '../../errors/index.ts';

export const BUNDLE_MAGIC = 'TGEP';
export const BUNDLE_VERSION = 1;
export const BUNDLE_EXTENSION = '.tgep';
/** Fixed prefix: magic, version, reserved, header length. */
export const BUNDLE_PREFIX_BYTES = 12;
/** A header is metadata and feature names; anything larger is not a header. */
export const MAX_HEADER_BYTES = 1024 * 1024;
export const BUNDLE_MEDIA_TYPE = 'application/vnd.tg.episode-bundle';

const featureSchema = z
  .object({
    name: z.string().min(1).max(200),
    dim: z
      .number()
      .int()
      .min(1)
      .max(2 ** 20),
    names: z
      .array(z.string().min(1).max(200))
      .max(2 ** 20)
      .optional(),
  })
  .strict()
  .refine((f) => f.names === undefined || f.names.length === f.dim, {
    message: 'names must list one name per dimension',
    path: ['names'],
  });

export const BundleHeaderSchema = z
  .object({
    meta: EpisodeMetaSchema,
    length: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    features: z.array(featureSchema).min(1).max(1024),
    /** When the episode finished recording (ISO 8601); transport metadata, outside the content hash. */
    recordedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type BundleHeader = z.infer<typeof BundleHeaderSchema>;

if (endianness() !== 'LE') {
  // Typed arrays use the host's byte order; the format is little-endian. No big-endian host is supported.
  throw new Error('episode bundles need a little-endian host');
}

const align8 = (n: number) => (n + 7) & ~7;

/** Size in bytes of the bundle a header describes, prefix and padding included. */
export function bundleByteLength(header: BundleHeader, headerBytes: number): number {
  let size = align8(BUNDLE_PREFIX_BYTES + headerBytes) + header.length * 8;
  for (const f of header.features) size += header.length * f.dim * 4;
  return size;
}

export interface EncodeBundleOptions {
  /** When the episode finished recording. */
  recordedAt?: Date;
  /** Names of each feature's dimensions (e.g. `{ 'observation.state': embodiment.stateNames }`). */
  names?: Record<string, readonly string[]>;
}

/** Encodes an episode; features go in name order so the same episode always gives the same bytes. */
export function encodeBundle(episode: RecordedEpisode, opts: EncodeBundleOptions = {}): Uint8Array {
  const { meta, length } = episode;
  const names = Object.keys(episode.columns).sort();
  const features = names.map((name) => {
    const col = episode.columns[name] as Float32Array;
    const dim = length === 0 ? 0 : col.length / length;
    if (!Number.isInteger(dim) || dim < 1) {
      throw invalid(
        `cannot encode episode ${meta.id}: feature ${name} has ${col.length} values for ${length} frames`,
      );
    }
    const dimNames = opts.names?.[name];
    if (dimNames === undefined) return { name, dim };
    if (dimNames.length !== dim) {
      throw invalid(
        `cannot encode episode ${meta.id}: ${dimNames.length} names for feature ${name} of ${dim}`,
      );
    }
    return { name, dim, names: [...dimNames] };
  });
  if (episode.timestampsSec.length !== length) {
    throw invalid(
      `cannot encode episode ${meta.id}: ${episode.timestampsSec.length} timestamps for ${length} frames`,
    );
  }
  const header: BundleHeader = { meta, length, features };
  if (opts.recordedAt) header.recordedAt = opts.recordedAt.toISOString();
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > MAX_HEADER_BYTES) throw invalid(`cannot encode episode ${meta.id}: header over 1 MiB`);
  const out = new Uint8Array(bundleByteLength(header, json.length));
  const view = new DataView(out.buffer);
  out.set(Buffer.from(BUNDLE_MAGIC, 'ascii'), 0);
  view.setUint8(4, BUNDLE_VERSION);
  view.setUint32(8, json.length, true);
  out.set(json, BUNDLE_PREFIX_BYTES);
  let at = align8(BUNDLE_PREFIX_BYTES + json.length);
  const ts = episode.timestampsSec;
  out.set(new Uint8Array(ts.buffer, ts.byteOffset, ts.byteLength), at);
  at += ts.byteLength;
  for (const name of names) {
    const col = episode.columns[name] as Float32Array;
    out.set(new Uint8Array(col.buffer, col.byteOffset, col.byteLength), at);
    at += col.byteLength;
  }
  return out;
}

/** Reads and validates the prefix and header only (cheap: no columns, no hashing). */
export function readBundleHeader(bytes: Uint8Array): {
  header: BundleHeader;
  dataOffset: number;
  /** The size the whole bundle must have. */
  byteLength: number;
} {
  if (bytes.length < BUNDLE_PREFIX_BYTES) {
    throw invalid(`truncated: ${bytes.length} bytes, shorter than the ${BUNDLE_PREFIX_BYTES}-byte prefix`);
  }
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1');
  if (magic !== BUNDLE_MAGIC) throw invalid(`not an episode bundle (magic ${JSON.stringify(magic)})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== BUNDLE_VERSION)
    throw invalid(`unsupported bundle version ${version} (this tg reads ${BUNDLE_VERSION})`);
  if (view.getUint8(5) | view.getUint8(6) | view.getUint8(7))
    throw invalid('reserved prefix bytes are not zero');
  const headerBytes = view.getUint32(8, true);
  if (headerBytes === 0 || headerBytes > MAX_HEADER_BYTES)
    throw invalid(`header length ${headerBytes} out of range`);
  if (bytes.length < BUNDLE_PREFIX_BYTES + headerBytes) {
    throw invalid(
      `truncated: header needs ${BUNDLE_PREFIX_BYTES + headerBytes} bytes, bundle has ${bytes.length}`,
    );
  }
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(BUNDLE_PREFIX_BYTES, BUNDLE_PREFIX_BYTES + headerBytes),
    );
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(`header is not UTF-8 JSON: ${(err as Error).message}`);
  }
  const parsed = BundleHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`bad header: ${issue?.path.join('.') || 'header'}: ${issue?.message}`);
  }
  const header = parsed.data;
  if (header.meta.length !== header.length) {
    throw invalid(`header says ${header.length} frames but its meta says ${header.meta.length}`);
  }
  const names = header.features.map((f) => f.name);
  if (new Set(names).size !== names.length) throw invalid('a feature is listed twice');
  const dataOffset = align8(BUNDLE_PREFIX_BYTES + headerBytes);
  for (let i = BUNDLE_PREFIX_BYTES + headerBytes; i < Math.min(dataOffset, bytes.length); i++) {
    if (bytes[i] !== 0) throw invalid('header padding is not zero');
  }
  return { header, dataOffset, byteLength: bundleByteLength(header, headerBytes) };
}

/** A bundle whose size and content id were checked; the byte ranges point into the checked bytes. */
export interface VerifiedBundle {
  header: BundleHeader;
  /** Byte range of the timestamps column within the bundle. */
  timestamps: { offset: number; bytes: number };
  /** Byte range of each feature column within the bundle, in header order. */
  columns: Array<{ name: string; dim: number; offset: number; bytes: number }>;
}

/**
 * Fully validates a bundle without copying it: exact size, header schema, and the episode id re-computed
 * over the column bytes in place. Any failure is a `TgError('INPUT_INVALID')` saying what is wrong.
 */
export function verifyBundle(bytes: Uint8Array): VerifiedBundle {
  const { header, dataOffset, byteLength: expected } = readBundleHeader(bytes);
  if (bytes.length < expected)
    throw invalid(`truncated: header implies ${expected} bytes, bundle has ${bytes.length}`);
  if (bytes.length > expected) {
    throw invalid(
      `${bytes.length - expected} trailing bytes after the last column (header implies ${expected})`,
    );
  }
  const { length } = header;
  const timestamps = { offset: dataOffset, bytes: length * 8 };
  let at = dataOffset + timestamps.bytes;
  const columns: VerifiedBundle['columns'] = [];
  const views: Record<string, Uint8Array> = {};
  for (const f of header.features) {
    const col = { name: f.name, dim: f.dim, offset: at, bytes: length * f.dim * 4 };
    columns.push(col);
    views[f.name] = bytes.subarray(col.offset, col.offset + col.bytes);
    at += col.bytes;
  }
  const { id, ...rest } = header.meta;
  const actual = computeEpisodeId(
    rest,
    views,
    bytes.subarray(timestamps.offset, timestamps.offset + timestamps.bytes),
  );
  if (actual !== id)
    throw invalid(`content hash mismatch: bundle claims episode ${id}, its content hashes to ${actual}`);
  return { header, timestamps, columns };
}

/**
 * Decodes and fully validates a bundle (see `verifyBundle`). The columns are copies (aligned, independent
 * of `bytes`).
 */
export function decodeBundle(bytes: Uint8Array): RecordedEpisode {
  const { header, timestamps, columns: ranges } = verifyBundle(bytes);
  const { length } = header;
  const timestampsSec = new Float64Array(length);
  new Uint8Array(timestampsSec.buffer).set(
    bytes.subarray(timestamps.offset, timestamps.offset + timestamps.bytes),
  );
  const columns: Record<string, Float32Array> = {};
  for (const r of ranges) {
    const col = new Float32Array(length * r.dim);
    new Uint8Array(col.buffer).set(bytes.subarray(r.offset, r.offset + r.bytes));
    columns[r.name] = col;
  }
  return { meta: header.meta, length, timestampsSec, columns };
}

/** The transfer checksum: sha256 (hex) of the bundle's bytes. */
export function bundleSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function invalid(reason: string): TgError {
  return new TgError('INPUT_INVALID', `episode bundle: ${reason}`);
}
