/**
 * Builds one parquet file out of single-row-group parquet files, keeping each input as its own row group.
 *
 * Why: LeRobot writes one row group per episode (pyarrow ParquetWriter.write_table per episode), which keeps
 * an episode one random read away. DuckDB's COPY re-chunks rows into 2048-row vectors and row groups of
 * ROW_GROUP_SIZE, so it cannot cut row groups at episode boundaries inside one COPY. DuckDB still encodes
 * every page (one COPY per episode, one row group each); this file only splices the encoded bodies together
 * and writes a footer listing all row groups, with every file offset shifted to where its body now lies.
 *
 * Parquet layout (parquet-format, "File Format"): "PAR1" | body | FileMetaData (thrift compact) | u32 LE
 * length | "PAR1". The body holds column chunks, and optionally bloom filters and page indexes, all addressed
 * by absolute offsets in FileMetaData, which is all this file rewrites.
 */
import type { FileHandle } from 'node:fs/promises';

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

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
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
        return Number(this.zigzag());
      case T_I64:
        return this.zigzag();
      case T_DOUBLE: {
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
        this.pos += 8;
        return view.getFloat64(0, true);
      }
      case T_BINARY: {
        const len = Number(this.varint());
        const out = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return out;
      }
      case T_LIST:
      case T_SET: {
        const header = this.byte();
        const elemType = header & 0x0f;
        let size = header >> 4;
        if (size === 15) size = Number(this.varint());
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elemType));
        return { kind: 'list', elemType, items };
      }
      case T_MAP: {
        const size = Number(this.varint());
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
      const id = delta === 0 ? Number(this.zigzag()) : lastId + delta;
      lastId = id;
      const value = type === T_BOOL_TRUE || type === T_BOOL_FALSE ? type === T_BOOL_TRUE : this.value(type);
      fields.push({ id, type, value });
    }
  }
}

class CompactWriter {
  private chunks: number[] = [];

  private varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }

  value(type: number, value: TValue): void {
    switch (type) {
      case T_BOOL_TRUE:
      case T_BOOL_FALSE:
        this.chunks.push(value ? T_BOOL_TRUE : T_BOOL_FALSE);
        return;
      case T_BYTE:
        this.chunks.push((value as number) & 0xff);
        return;
      case T_I16:
      case T_I32:
        this.zigzag(BigInt(value as number));
        return;
      case T_I64:
        this.zigzag(value as bigint);
        return;
      case T_DOUBLE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, value as number, true);
        for (const x of b) this.chunks.push(x);
        return;
      }
      case T_BINARY: {
        const bytes = value as Uint8Array;
        this.varint(BigInt(bytes.length));
        for (const x of bytes) this.chunks.push(x);
        return;
      }
      case T_LIST:
      case T_SET: {
        const list = value as TList;
        if (list.items.length < 15) this.chunks.push((list.items.length << 4) | list.elemType);
        else {
          this.chunks.push(0xf0 | list.elemType);
          this.varint(BigInt(list.items.length));
        }
        for (const item of list.items) this.value(list.elemType, item);
        return;
      }
      case T_MAP: {
        const map = value as TMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length === 0) return;
        this.chunks.push((map.keyType << 4) | map.valueType);
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
      if (delta > 0 && delta <= 15) this.chunks.push((delta << 4) | type);
      else {
        this.chunks.push(type);
        this.zigzag(BigInt(f.id));
      }
      lastId = f.id;
      if (type !== T_BOOL_TRUE && type !== T_BOOL_FALSE) this.value(type, f.value);
    }
    this.chunks.push(0);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
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
const CC_OFFSET_INDEX_OFFSET = 4;
const CC_COLUMN_INDEX_OFFSET = 6;
const CMD_OFFSETS = [9, 10, 11, 14]; // data_page_offset, index_page_offset, dictionary_page_offset, bloom_filter_offset

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

export interface ParsedParquet {
  /** Bytes between the leading magic and the footer. */
  body: Uint8Array;
  footer: TStruct;
  rowGroups: TStruct[];
  numRows: number;
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
  return { body: file.subarray(4, footerStart), footer, rowGroups, numRows };
}

/**
 * Streams parquet parts into one file. Every part must share the same schema (it is taken from the first).
 * Nothing is a valid parquet file until `close()` writes the footer.
 */
export class ParquetConcatWriter {
  private position = 0;
  private template: TStruct | undefined;
  private readonly rowGroups: TStruct[] = [];
  private numRows = 0n;

  constructor(private readonly handle: FileHandle) {}

  /** Bytes written so far (body only; the footer comes at close). */
  get size(): number {
    return this.position;
  }

  get rowGroupCount(): number {
    return this.rowGroups.length;
  }

  async addPart(part: ParsedParquet): Promise<void> {
    if (this.position === 0) {
      await this.write(MAGIC);
      this.template = part.footer;
    }
    const delta = BigInt(this.position - 4);
    await this.write(part.body);
    for (const rg of part.rowGroups) {
      shift(rg, [RG_FILE_OFFSET], delta);
      for (const cc of ((field(rg, RG_COLUMNS)?.value as TList | undefined)?.items ?? []) as TStruct[]) {
        shift(cc, [CC_FILE_OFFSET, CC_OFFSET_INDEX_OFFSET, CC_COLUMN_INDEX_OFFSET], delta);
        const md = field(cc, CC_META_DATA);
        if (md) shift(md.value as TStruct, CMD_OFFSETS, delta);
      }
      const ordinal = field(rg, RG_ORDINAL);
      if (ordinal) ordinal.value = this.rowGroups.length;
      this.rowGroups.push(rg);
      this.numRows += (field(rg, RG_NUM_ROWS)?.value as bigint | undefined) ?? 0n;
    }
  }

  /** Writes the footer; the file is a valid parquet file afterwards. Does not close the handle. */
  async finish(): Promise<void> {
    const template = this.template;
    if (!template) throw new Error('ParquetConcatWriter: no parts were added');
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
