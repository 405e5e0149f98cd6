/**
 * The data files of a dataset being written: row groups (one per episode) go into
 * data/chunk-{c:03d}/file-{f:03d}.parquet, a new file starting when the next episode would take the current
 * one to the size limit, and a new chunk directory after `chunksSize` files (lerobot/datasets/
 * dataset_writer.py _save_episode_data, utils.py update_chunk_file_indices).
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_DATA_PATH, formatPath, MIB, nextChunkFile } from './format.ts';
import { ParquetConcatWriter, type ParsedParquet, rowGroupBytes } from './parquet-concat.ts';

export class DataFiles {
  private chunk = 0;
  private file = 0;
  private current: { writer: ParquetConcatWriter; close: () => Promise<void> } | undefined;

  constructor(
    private readonly root: string,
    private readonly chunksSize: number,
    private readonly fileSizeInMb: number,
  ) {}

  /** Appends row group `index` of `part` as one episode; returns where it went. */
  async append(part: ParsedParquet, index: number): Promise<{ chunk: number; file: number }> {
    if (this.current && (this.current.writer.size + rowGroupBytes(part, index)) / MIB >= this.fileSizeInMb) {
      await this.finish();
      [this.chunk, this.file] = nextChunkFile(this.chunk, this.file, this.chunksSize);
    }
    if (!this.current) {
      const path = join(
        this.root,
        formatPath(DEFAULT_DATA_PATH, { chunk_index: this.chunk, file_index: this.file }),
      );
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(path, 'w');
      this.current = { writer: new ParquetConcatWriter(handle), close: () => handle.close() };
    }
    await this.current.writer.addRowGroup(part, index);
    return { chunk: this.chunk, file: this.file };
  }

  /** Writes the open file's footer and closes it. */
  async finish(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    await current.writer.finish();
    await current.close();
  }

  /** Closes the open file without a footer (the caller removes the whole staging directory). */
  async abort(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.close().catch(() => {});
  }
}
