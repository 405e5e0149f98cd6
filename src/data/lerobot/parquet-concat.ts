/**
 * Builds one parquet file out of row groups taken from other parquet files, each kept as its own row group.
 *
 * Why: LeRobot writes one row group per episode (pyarrow ParquetWriter.write_table per episode), which keeps
 * an episode one random read away, and rolls data files over by size between episodes. DuckDB encodes the
 * pages (see ./writer.ts for how its COPY is made to cut a row group per episode); this file only copies
 * each row group's encoded bytes into the data file being built and writes a footer listing them all, with
 * every file offset shifted to where its bytes now lie.
 *
 * Parquet layout (parquet-format, "File Format"): "PAR1" | column chunks, bloom filters, page indexes |
 * FileMetaData (thrift compact) | u32 LE length | "PAR1". Everything is addressed by absolute offsets in
 * FileMetaData, which is all this file rewrites.
 */
import { type FileHandle, open } from 'node:fs/promises';

// Thrift compact protocol types (thrift/doc/specs/thrift-compact-protocol.md).
const T_BOOL_TRUE = 1;
const T_BOOL_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

type TValue = boolean | number | bigint | Uint8Array | TStruct | TList | TMap;
interface TField {
  id: number;
  type: number;
  value: TValue;
}
interface TStruct {
  kind: 'struct';
  fields: TField[];
}
interface TList {
  kind: 'list';
  elemType: number;
  items: TValue[];
}
interface TMap {
  kind: 'map';
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}

class CompactReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error('thrift: truncated');
    return this.buf[this.pos++] as number;
  }

  /** Unsigned LEB128 as a number; exact below 2^53, which every length and count in a footer is. */
  private varintNumber(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
  }

  /** Zigzag i64, as a bigint (values beyond 2^53 are decoded exactly on a slower path). */
  private zigzag(): bigint {
    const start = this.pos;
    const n = this.varintNumber();
    if (n <= Number.MAX_SAFE_INTEGER) return BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return (big >> 1n) ^ -(big & 1n);
  }

  /** Zigzag i16/i32 as a number. */
  private zigzagNumber(): number {
    const n = this.varintNumber();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  value(type: number): TValue {
    switch (type) {
      case T_BOOL_TRUE:
      case T_BOOL_FALSE:
        return this.byte() === T_BOOL_TRUE; // only reached for list elements
      case T_BYTE:
        return this.byte();
      case T_I16:
      case T_I32:
        return this.zigzagNumber();
      case T_I64:
        return this.zigzag();
      case T_DOUBLE: {
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
        this.pos += 8;
        return view.getFloat64(0, true);
      }
      case T_BINARY: {
        const len = this.varintNumber();
        const out = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return out;
      }
      case T_LIST:
      case T_SET: {
        const header = this.byte();
        const elemType = header & 0x0f;
        let size = header >> 4;
        if (size === 15) size = this.varintNumber();
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elemType));
        return { kind: 'list', elemType, items };
      }
      case T_MAP: {
        const size = this.varintNumber();
        if (size === 0) return { kind: 'map', keyType: 0, valueType: 0, entries: [] };
        const types = this.byte();
        const keyType = types >> 4;
        const valueType = types & 0x0f;
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { kind: 'map', keyType, valueType, entries };
      }
      case T_STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  struct(): TStruct {
    const fields: TField[] = [];
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return { kind: 'struct', fields };
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzagNumber() : lastId + delta;
      lastId = id;
      const value = type === T_BOOL_TRUE || type === T_BOOL_FALSE ? type === T_BOOL_TRUE : this.value(type);
      fields.push({ id, type, value });
    }
  }
}

class CompactWriter {
  private buf = new Uint8Array(4096);
  private len = 0;

  private push(b: number): void {
    if (this.len === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.len++] = b;
  }

  private pushBytes(bytes: Uint8Array): void {
    while (this.len + bytes.length > this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private varint(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.push(v);
  }

  private varintBig(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.push(Number(v));
  }

  private zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  private zigzagBig(n: bigint): void {
    const z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    if (z <= BigInt(Number.MAX_SAFE_INTEGER)) this.varint(Number(z));
    else this.varintBig(z);
  }

  value(type: number, value: TValue): void {
    switch (type) {
      case T_BOOL_TRUE:
      case T_BOOL_FALSE:
        this.push(value ? T_BOOL_TRUE : T_BOOL_FALSE);
        return;
      case T_BYTE:
        this.push((value as number) & 0xff);
        return;
      case T_I16:
      case T_I32:
        this.zigzag(value as number);
        return;
      case T_I64:
        this.zigzagBig(value as bigint);
        return;
      case T_DOUBLE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, value as number, true);
        this.pushBytes(b);
        return;
      }
      case T_BINARY: {
        const bytes = value as Uint8Array;
        this.varint(bytes.length);
        this.pushBytes(bytes);
        return;
      }
      case T_LIST:
      case T_SET: {
        const list = value as TList;
        if (list.items.length < 15) this.push((list.items.length << 4) | list.elemType);
        else {
          this.push(0xf0 | list.elemType);
          this.varint(list.items.length);
        }
        for (const item of list.items) this.value(list.elemType, item);
        return;
      }
      case T_MAP: {
        const map = value as TMap;
        this.varint(map.entries.length);
        if (map.entries.length === 0) return;
        this.push((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case T_STRUCT:
        this.struct(value as TStruct);
        return;
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  struct(s: TStruct): void {
    let lastId = 0;
    for (const f of s.fields) {
      const type =
        f.type === T_BOOL_TRUE || f.type === T_BOOL_FALSE ? (f.value ? T_BOOL_TRUE : T_BOOL_FALSE) : f.type;
      const delta = f.id - lastId;
      if (delta > 0 && delta <= 15) this.push((delta << 4) | type);
      else {
        this.push(type);
        this.zigzag(f.id);
      }
      lastId = f.id;
      if (type !== T_BOOL_TRUE && type !== T_BOOL_FALSE) this.value(type, f.value);
    }
    this.push(0);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function field(s: TStruct, id: number): TField | undefined {
  return s.fields.find((f) => f.id === id);
}

/** Adds `delta` to the i64 fields `ids` of `s`, where present. */
function shift(s: TStruct, ids: readonly number[], delta: bigint): void {
  for (const f of s.fields) if (ids.includes(f.id) && f.type === T_I64) f.value = (f.value as bigint) + delta;
}

// parquet.thrift field ids.
const FMD_NUM_ROWS = 3;
const FMD_ROW_GROUPS = 4;
const RG_COLUMNS = 1;
const RG_NUM_ROWS = 3;
const RG_FILE_OFFSET = 5;
const RG_ORDINAL = 7;
const CC_FILE_OFFSET = 2;
const CC_META_DATA = 3;
/** offset_index_offset/length, column_index_offset/length: page indexes live outside the row group. */
const CC_PAGE_INDEX = [4, 5, 6, 7];
const CMD_TOTAL_COMPRESSED_SIZE = 7;
const CMD_DATA_PAGE_OFFSET = 9;
const CMD_INDEX_PAGE_OFFSET = 10;
const CMD_DICTIONARY_PAGE_OFFSET = 11;
const CMD_BLOOM_FILTER_OFFSET = 14;
const CMD_BLOOM_FILTER_LENGTH = 15;

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

export interface ParsedParquet {
  /** The whole file. */
  file: Uint8Array;
  /** Bytes between the leading magic and the footer. */
  body: Uint8Array;
  footer: TStruct;
  rowGroups: TStruct[];
  numRows: number;
}

/** The decoded footer of the parquet file at `path`, read from its tail (its row groups' count and rows). */
export async function readParquetFooter(path: string): Promise<{ rowGroups: number; rows: number[] }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = new Uint8Array(8);
    if (size < 12) throw new Error(`${path}: not a parquet file (${size} bytes)`);
    await handle.read(tail, 0, 8, size - 8);
    const footerLen = new DataView(tail.buffer).getUint32(0, true);
    if (tail[4] !== 0x50 || tail[7] !== 0x31 || footerLen > size - 12)
      throw new Error(`${path}: not a parquet file (bad footer)`);
    const bytes = new Uint8Array(footerLen);
    await handle.read(bytes, 0, footerLen, size - 8 - footerLen);
    const footer = new CompactReader(bytes).struct();
    const groups = ((field(footer, FMD_ROW_GROUPS)?.value as TList | undefined)?.items ?? []) as TStruct[];
    return { rowGroups: groups.length, rows: groups.map((rg) => i64(rg, RG_NUM_ROWS) ?? 0) };
  } finally {
    await handle.close();
  }
}

/** Splits a whole parquet file into its body and decoded footer. */
export function parseParquet(file: Uint8Array): ParsedParquet {
  const n = file.length;
  const tail = (i: number) => file[n - 4 + i];
  if (n < 12 || file[0] !== 0x50 || file[3] !== 0x31 || tail(0) !== 0x50 || tail(3) !== 0x31) {
    throw new Error('not a parquet file (missing PAR1 magic)');
  }
  const footerLen = new DataView(file.buffer, file.byteOffset + n - 8, 4).getUint32(0, true);
  const footerStart = n - 8 - footerLen;
  if (footerStart < 4) throw new Error('parquet footer length out of range');
  const footer = new CompactReader(file.subarray(footerStart, n - 8)).struct();
  const rg = field(footer, FMD_ROW_GROUPS);
  const rowGroups = rg ? ((rg.value as TList).items as TStruct[]) : [];
  const numRows = Number((field(footer, FMD_NUM_ROWS)?.value as bigint | undefined) ?? 0n);
  return { file, body: file.subarray(4, footerStart), footer, rowGroups, numRows };
}

function i64(s: TStruct, id: number): number | undefined {
  const f = field(s, id);
  return f && f.type === T_I64 ? Number(f.value as bigint) : undefined;
}

/** Number of rows of row group `index`. */
export function rowGroupRows(part: ParsedParquet, index: number): number {
  const rg = part.rowGroups[index];
  return rg ? (i64(rg, RG_NUM_ROWS) ?? 0) : 0;
}

interface RowGroupExtent {
  /** The row group's column chunks: one contiguous byte range of the file. */
  start: number;
  end: number;
  /** Bloom filters of its column chunks (written elsewhere in the file): [offset, length]. */
  blooms: [number, number][];
}

/** Where row group `index` lies in its file, from its column chunks' metadata. */
function rowGroupExtent(part: ParsedParquet, index: number): RowGroupExtent {
  const rg = part.rowGroups[index];
  if (!rg) throw new Error(`parquet: no row group ${index}`);
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  const blooms: [number, number][] = [];
  for (const cc of ((field(rg, RG_COLUMNS)?.value as TList | undefined)?.items ?? []) as TStruct[]) {
    const md = field(cc, CC_META_DATA)?.value as TStruct | undefined;
    if (!md) throw new Error('parquet: column chunk without metadata');
    const first = i64(md, CMD_DICTIONARY_PAGE_OFFSET) ?? i64(md, CMD_DATA_PAGE_OFFSET);
    const size = i64(md, CMD_TOTAL_COMPRESSED_SIZE);
    if (first === undefined || size === undefined) throw new Error('parquet: column chunk without offsets');
    start = Math.min(start, first);
    end = Math.max(end, first + size);
    const bloom = i64(md, CMD_BLOOM_FILTER_OFFSET);
    const bloomLength = i64(md, CMD_BLOOM_FILTER_LENGTH);
    if (bloom !== undefined && bloomLength !== undefined) blooms.push([bloom, bloomLength]);
  }
  if (!(start >= 4 && end > start && end <= part.file.length - 8))
    throw new Error(`parquet: row group ${index} lies outside the file`);
  return { start, end, blooms };
}

/** Bytes row group `index` takes once copied (its pages plus its bloom filters). */
export function rowGroupBytes(part: ParsedParquet, index: number): number {
  const { start, end, blooms } = rowGroupExtent(part, index);
  return end - start + blooms.reduce((n, [, len]) => n + len, 0);
}

/**
 * Streams row groups of parquet files into one file. Every source must share the same schema (it is taken
 * from the first). Nothing is a valid parquet file until `finish()` writes the footer.
 */
export class ParquetConcatWriter {
  private position = 0;
  private template: TStruct | undefined;
  private readonly rowGroups: TStruct[] = [];
  private numRows = 0n;

  constructor(private readonly handle: FileHandle) {}

  /** Bytes written so far (the footer comes at finish). */
  get size(): number {
    return this.position;
  }

  get rowGroupCount(): number {
    return this.rowGroups.length;
  }

  /**
   * Copies row group `index` of `part` (its pages, then its bloom filters) and records it, every file offset
   * shifted to where the bytes now lie. Page indexes are left out (they are optional and live at the end of
   * the source file). The part's footer structs are modified: use each row group once.
   */
  async addRowGroup(part: ParsedParquet, index: number): Promise<void> {
    const rg = part.rowGroups[index] as TStruct;
    const { start, end } = rowGroupExtent(part, index);
    if (this.position === 0) {
      await this.write(MAGIC);
      this.template = part.footer;
    }
    const delta = BigInt(this.position - start);
    await this.write(part.file.subarray(start, end));
    shift(rg, [RG_FILE_OFFSET], delta);
    for (const cc of ((field(rg, RG_COLUMNS)?.value as TList | undefined)?.items ?? []) as TStruct[]) {
      cc.fields = cc.fields.filter((f) => !CC_PAGE_INDEX.includes(f.id));
      // file_offset is deprecated and often 0; a 0 stays 0.
      const fileOffset = field(cc, CC_FILE_OFFSET);
      if (fileOffset && fileOffset.type === T_I64 && fileOffset.value !== 0n)
        fileOffset.value = (fileOffset.value as bigint) + delta;
      const md = field(cc, CC_META_DATA)?.value as TStruct;
      shift(md, [CMD_DATA_PAGE_OFFSET, CMD_INDEX_PAGE_OFFSET, CMD_DICTIONARY_PAGE_OFFSET], delta);
      const bloom = i64(md, CMD_BLOOM_FILTER_OFFSET);
      const bloomLength = i64(md, CMD_BLOOM_FILTER_LENGTH);
      if (bloom !== undefined && bloomLength !== undefined) {
        const at = this.position;
        await this.write(part.file.subarray(bloom, bloom + bloomLength));
        (field(md, CMD_BLOOM_FILTER_OFFSET) as TField).value = BigInt(at);
      } else {
        md.fields = md.fields.filter((f) => f.id !== CMD_BLOOM_FILTER_OFFSET);
      }
    }
    const ordinal = field(rg, RG_ORDINAL);
    if (ordinal) ordinal.value = this.rowGroups.length;
    this.rowGroups.push(rg);
    this.numRows += (field(rg, RG_NUM_ROWS)?.value as bigint | undefined) ?? 0n;
  }

  /** Writes the footer; the file is a valid parquet file afterwards. Does not close the handle. */
  async finish(): Promise<void> {
    const template = this.template;
    if (!template) throw new Error('ParquetConcatWriter: no row groups were added');
    const footer: TStruct = {
      kind: 'struct',
      fields: template.fields.map((f) => {
        if (f.id === FMD_NUM_ROWS) return { ...f, value: this.numRows };
        if (f.id === FMD_ROW_GROUPS)
          return { ...f, value: { kind: 'list', elemType: T_STRUCT, items: this.rowGroups } };
        return f;
      }),
    };
    const w = new CompactWriter();
    w.struct(footer);
    const bytes = w.bytes();
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, bytes.length, true);
    await this.write(bytes);
    await this.write(len);
    await this.write(MAGIC);
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, off, bytes.length - off, this.position);
      off += bytesWritten;
      this.position += bytesWritten;
    }
  }
}
