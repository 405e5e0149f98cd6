/**
 * Chunk compression. MCAP readers (Foxglove, the mcap CLI) understand "zstd" and "lz4" and nothing else
 * (mcap spec, Chunk record: compression). Node's zlib gained zstd in 22.15; on older Node no compressor
 * is available without a new dependency, so chunks are written uncompressed (compression ""), which the
 * spec allows.
 */
import * as zlib from 'node:zlib';

type Codec = (data: Uint8Array) => Uint8Array;

const zstd = zlib as unknown as { zstdCompressSync?: Codec; zstdDecompressSync?: Codec };

/** The chunk compressor McapWriter should use, or undefined for uncompressed chunks. */
export function chunkCompressor():
  | ((data: Uint8Array) => { compression: string; compressedData: Uint8Array })
  | undefined {
  const compress = zstd.zstdCompressSync;
  if (compress === undefined) return undefined;
  return (data) => ({ compression: 'zstd', compressedData: compress(data) });
}

/** Decompressors for McapIndexedReader: whatever this Node can do. */
export function decompressHandlers(): Record<
  string,
  (buffer: Uint8Array, decompressedSize: bigint) => Uint8Array
> {
  const decompress = zstd.zstdDecompressSync;
  if (decompress === undefined) return {};
  return { zstd: (buffer) => decompress(buffer) };
}
