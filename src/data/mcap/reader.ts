/**
 * Opens an MCAP file through its summary (McapIndexedReader): a file without a valid footer, summary and
 * chunk indexes (a truncated or unfinished one) fails with TgError('INPUT_INVALID', '<file>: ...').
 */
import { type FileHandle, open } from 'node:fs/promises';
import { McapIndexedReader } from '@mcap/core';
import { TgError } from '../../errors/index.ts';
import { decompressHandlers } from './compression.ts';
import { FileReadable } from './file-io.ts';

export interface OpenedMcap {
  reader: McapIndexedReader;
  close(): Promise<void>;
}

export async function openMcapFile(file: string): Promise<OpenedMcap> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    throw new TgError('INPUT_INVALID', `${file}: cannot open (${(cause as Error).message})`, { cause });
  }
  try {
    const reader = await McapIndexedReader.Initialize({
      readable: new FileReadable(handle),
      decompressHandlers: decompressHandlers(),
    });
    return { reader, close: () => handle.close() };
  } catch (cause) {
    await handle.close();
    throw new TgError(
      'INPUT_INVALID',
      `${file}: not a complete indexed MCAP file (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
}
