/**
 * Byte sinks and sources for @mcap/core over node files: the writer and reader only see `IWritable` /
 * `IReadable`, so the same export code could target a buffer or a socket.
 */
import type { FileHandle } from 'node:fs/promises';
import type { IReadable, IWritable } from '@mcap/core';

/** Appends to an open file and tracks the position @mcap/core asks for (it never seeks). */
export class FileWritable implements IWritable {
  private offset = 0n;

  constructor(private readonly handle: FileHandle) {}

  async write(buffer: Uint8Array): Promise<void> {
    let done = 0;
    while (done < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(buffer, done, buffer.byteLength - done);
      done += bytesWritten;
    }
    this.offset += BigInt(buffer.byteLength);
  }

  position(): bigint {
    return this.offset;
  }
}

/** Random-access reads from an open file, as McapIndexedReader needs them. */
export class FileReadable implements IReadable {
  constructor(private readonly handle: FileHandle) {}

  async size(): Promise<bigint> {
    return BigInt((await this.handle.stat()).size);
  }

  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`read of ${size} bytes is too large`);
    const out = new Uint8Array(Number(size));
    let done = 0;
    while (done < out.byteLength) {
      const { bytesRead } = await this.handle.read(out, done, out.byteLength - done, Number(offset) + done);
      if (bytesRead === 0) throw new Error(`read past end of file at ${Number(offset) + done}`);
      done += bytesRead;
    }
    return out;
  }
}
