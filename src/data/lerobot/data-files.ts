/**
 * Data file naming and rollover: data/chunk-{c:03d}/file-{f:03d}.parquet, a new chunk directory after
 * `chunksSize` files (lerobot/datasets/utils.py update_chunk_file_indices), and, for files assembled row
 * group by row group, a new file when the next episode would take the current one to the size limit
 * (dataset_writer.py _save_episode_data).
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_DATA_PATH, formatPath, MIB, nextChunkFile } from './format.ts';
import { ParquetConcatWriter, type ParsedParquet, rowGroupBytes } from './parquet-concat.ts';

export interface DataFile {
  chunk: number;
  file: number;
  /** Absolute path (its directory exists). */
  path: string;
}

/** Hands out data file paths in LeRobot's order: file-000, file-001, ... then the next chunk. */
export class DataFileNames {
  private next: [number, number] = [0, 0];
  private allocated = 0;

  /** Files handed out so far. */
  get count(): number {
    return this.allocated;
  }

  constructor(
    private readonly root: string,
    private readonly chunksSize: number,
  ) {}

  async allocate(): Promise<DataFile> {
    const [chunk, file] = this.next;
    this.next = nextChunkFile(chunk, file, this.chunksSize);
    this.allocated++;
    const path = join(this.root, formatPath(DEFAULT_DATA_PATH, { chunk_index: chunk, file_index: file }));
    await mkdir(dirname(path), { recursive: true });
    return { chunk, file, path };
  }
}

/** Data files assembled from row groups (one per episode) copied out of other parquet files. */
export class DataFiles {
  private current: { at: DataFile; writer: ParquetConcatWriter; close: () => Promise<void> } | undefined;

  constructor(
    private readonly names: DataFileNames,
    private readonly fileSizeInMb: number,
  ) {}

  /** Appends row group `index` of `part` as one episode; returns the file it went to. */
  async append(part: ParsedParquet, index: number): Promise<DataFile> {
    if (this.current && (this.current.writer.size + rowGroupBytes(part, index)) / MIB >= this.fileSizeInMb)
      await this.finish();
    if (!this.current) {
      const at = await this.names.allocate();
      const handle = await open(at.path, 'w');
      this.current = { at, writer: new ParquetConcatWriter(handle), close: () => handle.close() };
    }
    await this.current.writer.addRowGroup(part, index);
    return this.current.at;
  }

  /** Writes the open file's footer and closes it; the next append starts a new file. */
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
