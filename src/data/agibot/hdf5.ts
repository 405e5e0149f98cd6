/**
 * Reads numeric datasets from an HDF5 file with h5wasm. Paths are walked group by group (keys()) before
 * `get`, so a missing path is reported as missing instead of through HDF5's diagnostic stack on stderr.
 */
import { open } from 'node:fs/promises';
import h5wasm, { type Group } from 'h5wasm/node';

/** HDF5 format signature (HDF5 File Format Specification, "Format Signature"). */
const SIGNATURE = Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a);

/**
 * True when the file carries the HDF5 signature at offset 0, 512, 1024, 2048, ... (the superblock may follow
 * a user block of 512 * 2^n bytes). Checked before h5wasm opens a file, because a failed open prints
 * HDF5's whole error stack on stderr.
 */
export async function hasHdf5Signature(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const buf = new Uint8Array(SIGNATURE.length);
    for (let at = 0; at + SIGNATURE.length <= size; at = at === 0 ? 512 : at * 2) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, at);
      if (bytesRead === buf.length && buf.every((b, i) => b === SIGNATURE[i])) return true;
    }
    return false;
  } finally {
    await handle.close();
  }
}

/** A dataset as rows x cols doubles (a (N,) dataset is N x 1; (N, a, b) is N x a*b). */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export class MissingPath extends Error {}

let ready: Promise<unknown> | undefined;

export async function h5Ready(): Promise<void> {
  ready ??= h5wasm.ready;
  await ready;
}

export interface H5Reader {
  has(path: string): boolean;
  /** Throws MissingPath when absent, Error when not numeric. */
  matrix(path: string): Matrix;
  close(): void;
}

/** Opens `file` read-only; h5wasm must be ready (h5Ready). Throws when it is not HDF5. */
export function openH5(file: string): H5Reader {
  const f = new h5wasm.File(file, 'r');
  const has = (path: string): boolean => {
    let group: Group = f;
    const parts = path.split('/').filter((p) => p.length > 0);
    for (const [i, part] of parts.entries()) {
      if (!group.keys().includes(part)) return false;
      if (i === parts.length - 1) return true;
      const next = group.get(part);
      if (!(next instanceof h5wasm.Group)) return false;
      group = next;
    }
    return true;
  };
  return {
    has,
    matrix(path) {
      if (!has(path)) throw new MissingPath(path);
      const ds = f.get(path);
      if (!(ds instanceof h5wasm.Dataset)) throw new MissingPath(`${path} (a group, not a dataset)`);
      const shape = ds.shape ?? [];
      const value = ds.value;
      const rows = shape.length === 0 ? 1 : (shape[0] as number);
      const cols = shape.slice(1).reduce((a, b) => a * b, 1);
      let data: Float64Array;
      if (value instanceof BigInt64Array || value instanceof BigUint64Array)
        data = Float64Array.from(value, Number);
      else if (ArrayBuffer.isView(value) && !(value instanceof DataView))
        data = Float64Array.from(value as ArrayLike<number>);
      else if (typeof value === 'number') data = Float64Array.of(value);
      else throw new Error(`${path} is not numeric (dtype ${JSON.stringify(ds.dtype)})`);
      if (data.length !== rows * cols)
        throw new Error(`${path}: ${data.length} values for shape ${JSON.stringify(shape)}`);
      return { rows, cols, data };
    },
    close() {
      f.close();
    },
  };
}
