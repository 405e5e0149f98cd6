/**
 * Frames handed to DuckDB as raw memory: a table function whose every call fills one data chunk of up to
 * 2048 rows with one memcpy per column per episode piece, straight from the typed arrays. No staging table,
 * no appender, no per-frame or per-value JS objects.
 *
 * DuckDB calls the function from its own thread and the binding runs it on this thread's event loop, so a
 * COPY over the source makes progress only while this thread is free (see ./frame-copier.ts). Single-
 * threaded (max threads 1): rows reach the COPY in order.
 */
import {
  ARRAY,
  BIGINT,
  BLOB,
  DOUBLE,
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBTableFunction,
  FLOAT,
  STRUCT,
  VARCHAR,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';

/** DuckDB's STANDARD_VECTOR_SIZE: the most rows one data chunk holds. */
export const CHUNK_FRAMES = 2048;

const NO_PATH = new Uint8Array(0);

/**
 * A column as plain data (it crosses to worker threads): FLOAT or DOUBLE (width 1) or FLOAT[width] /
 * DOUBLE[width], BIGINT, or IMAGE (HF datasets.Image: STRUCT(bytes BLOB, path VARCHAR), the path empty:
 * the image is embedded).
 */
export interface FrameColumn {
  name: string;
  type: 'FLOAT' | 'DOUBLE' | 'BIGINT' | 'IMAGE';
  /** Values per row: 1 for a scalar column, n for an ARRAY(FLOAT or DOUBLE, n) column. */
  width: number;
}

/**
 * One episode's columns in the source's column order, each holding `length * width` values; an IMAGE
 * column holds the frames' encoded images back to back, frame f at imageOffsets[c][f]..[f + 1].
 */
export interface FrameBlock {
  length: number;
  columns: ArrayBufferView[];
  imageOffsets?: (Uint32Array | undefined)[];
}

interface Cursor {
  blocks: readonly FrameBlock[];
  frames: number;
  block: number;
  frame: number;
  drained: () => void;
  /** A stream's source of further blocks once `blocks` are read (undefined: the stream has ended). */
  next?: () => FrameBlock | undefined;
}

export class FrameSource {
  private cursor: Cursor | undefined;
  private readonly rowBytes: number[];

  /**
   * Registers the table function `name` on `db`; `SELECT * FROM name()` then reads the current batch.
   * With `alignBlocks`, a chunk never spans two blocks: a block of at most CHUNK_FRAMES rows is exactly
   * one chunk.
   */
  constructor(
    db: DuckDBConnection,
    readonly name: string,
    private readonly columns: readonly FrameColumn[],
    private readonly alignBlocks = false,
  ) {
    this.rowBytes = columns.map((c) => (c.type === 'IMAGE' ? 0 : c.width * (c.type === 'FLOAT' ? 4 : 8)));
    const types = columns.map((c) => {
      if (c.type === 'IMAGE') return STRUCT({ bytes: BLOB, path: VARCHAR });
      if (c.type === 'BIGINT') return BIGINT;
      const scalar = c.type === 'DOUBLE' ? DOUBLE : FLOAT;
      return c.width > 1 ? ARRAY(scalar, c.width) : scalar;
    });
    db.registerTableFunction(
      DuckDBTableFunction.create({
        name,
        bindFunction: (bind) => {
          this.columns.forEach((c, i) => {
            bind.addResultColumn(c.name, types[i] as (typeof types)[number]);
          });
          bind.setCardinality(this.cursor?.frames ?? 0, true);
        },
        initFunction: (init) => init.setMaxThreads(1),
        mainFunction: (info, out) => {
          if (!this.cursor) {
            info.setError(`${name}: no frames to read`);
            return;
          }
          try {
            this.fill(this.cursor, out);
          } catch (err) {
            out.rowCount = 0;
            info.setError(`${name}: ${(err as Error)?.message ?? String(err)}`);
          }
        },
      }),
    );
  }

  /**
   * Makes `blocks` the batch the next `SELECT * FROM name()` reads, and returns a promise that resolves
   * once DuckDB has pulled every frame (the rest of a COPY runs on DuckDB's threads without JS).
   */
  load(blocks: readonly FrameBlock[]): Promise<void> {
    for (const b of blocks) this.check(b);
    return new Promise((resolve) => {
      const frames = blocks.reduce((n, b) => n + b.length, 0);
      this.cursor = { blocks, frames, block: 0, frame: 0, drained: resolve };
    });
  }

  /**
   * Makes a stream the batch the next `SELECT * FROM name()` reads: whenever the blocks read so far are
   * used up, `next()` gives the next block (it may block this thread until one arrives) or undefined when
   * the stream ends. `frames` is only an estimate for DuckDB's planner.
   */
  loadStream(next: () => FrameBlock | undefined, frames = 0): Promise<void> {
    return new Promise((resolve) => {
      this.cursor = { blocks: [], frames, block: 0, frame: 0, drained: resolve, next };
    });
  }

  /** Throws unless every column of `b` holds exactly `b.length` rows. */
  check(b: FrameBlock): void {
    if (b.columns.length !== this.columns.length)
      throw new Error(
        `${this.name}: a block has ${b.columns.length} columns, expected ${this.columns.length}`,
      );
    b.columns.forEach((col, c) => {
      if (this.columns[c]?.type === 'IMAGE') {
        if (b.imageOffsets?.[c]?.length !== b.length + 1)
          throw new Error(`${this.name}: column ${this.columns[c]?.name} lacks one offset per frame`);
      } else if (col.byteLength !== b.length * (this.rowBytes[c] as number))
        throw new Error(`${this.name}: column ${this.columns[c]?.name} holds ${col.byteLength} bytes`);
    });
  }

  /** Forgets the batch (its arrays can be collected). */
  unload(): void {
    this.cursor = undefined;
  }

  private fill(cursor: Cursor, out: DuckDBDataChunk): void {
    // Plan the pieces first: the chunk's row count is set before its vectors are written.
    const pieces: [FrameBlock, number, number][] = [];
    let rows = 0;
    while (cursor.block === cursor.blocks.length && cursor.next) {
      // A stream keeps only the block being read, so those already written can be collected.
      const block = cursor.next();
      if (block === undefined) cursor.next = undefined;
      else if (block.length > 0) {
        this.check(block);
        cursor.blocks = [block];
        cursor.block = 0;
        cursor.frame = 0;
      }
    }
    while (rows < CHUNK_FRAMES && cursor.block < cursor.blocks.length && !(this.alignBlocks && rows > 0)) {
      const block = cursor.blocks[cursor.block] as FrameBlock;
      const take = Math.min(CHUNK_FRAMES - rows, block.length - cursor.frame);
      pieces.push([block, cursor.frame, take]);
      rows += take;
      cursor.frame += take;
      if (cursor.frame === block.length) {
        cursor.block++;
        cursor.frame = 0;
      }
    }
    out.rowCount = rows;
    if (rows === 0) {
      cursor.drained();
      return;
    }
    for (let c = 0; c < this.columns.length; c++) {
      if ((this.columns[c] as FrameColumn).type === 'IMAGE') {
        this.fillImages(duckdb.data_chunk_get_vector(out.chunk, c), c, pieces);
        continue;
      }
      let vector = duckdb.data_chunk_get_vector(out.chunk, c);
      if ((this.columns[c] as FrameColumn).width > 1) vector = duckdb.array_vector_get_child(vector);
      const rowBytes = this.rowBytes[c] as number;
      let at = 0;
      for (const [block, from, take] of pieces) {
        const data = block.columns[c] as ArrayBufferView;
        duckdb.copy_data_to_vector(
          vector,
          at * rowBytes,
          data.buffer as ArrayBuffer,
          data.byteOffset + from * rowBytes,
          take * rowBytes,
        );
        at += take;
      }
    }
  }

  /** One image per row into the struct's bytes; its path is empty (the image is embedded). */
  private fillImages(
    vector: duckdb.Vector,
    c: number,
    pieces: readonly [FrameBlock, number, number][],
  ): void {
    const bytes = duckdb.struct_vector_get_child(vector, 0);
    const path = duckdb.struct_vector_get_child(vector, 1);
    let at = 0;
    for (const [block, from, take] of pieces) {
      const data = block.columns[c] as Uint8Array;
      const offsets = block.imageOffsets?.[c] as Uint32Array;
      for (let f = from; f < from + take; f++, at++) {
        duckdb.vector_assign_string_element_len(
          bytes,
          at,
          data.subarray(offsets[f] as number, offsets[f + 1] as number),
        );
        duckdb.vector_assign_string_element_len(path, at, NO_PATH);
      }
    }
  }
}
