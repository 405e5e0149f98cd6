import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { WorkerCopier } from '../../src/data/lerobot/frame-copier.ts';
import type { FrameBlock, FrameColumn } from '../../src/data/lerobot/frame-source.ts';

const COLUMNS: FrameColumn[] = [
  { name: 'x', type: 'FLOAT', width: 3 },
  { name: 'i', type: 'BIGINT', width: 1 },
];

/** `length` frames: x = [f, f + 0.5, -f] and i = first + f. */
function block(first: number, length: number): FrameBlock {
  const x = new Float32Array(3 * length);
  const i = new BigInt64Array(length);
  for (let f = 0; f < length; f++) {
    x.set([first + f, first + f + 0.5, -(first + f)], 3 * f);
    i[f] = BigInt(first + f);
  }
  return { length, columns: [x, i] };
}

const OPTIONS = 'FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1';

describe('frame copier worker: streams', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-copier-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a stream writes every pushed block as one row group, in order, and detaches the buffers', async () => {
    const copier = await WorkerCopier.start(COLUMNS);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const lengths = [5, 1, 2048, 300, 7];
      const path = join(root, 'stream.parquet');
      const stream = copier.stream(path, OPTIONS);
      let first = 0;
      const pushed: FrameBlock[] = [];
      for (const n of lengths) {
        const b = block(first, n);
        pushed.push(b);
        stream.push(b);
        await copier.room();
        first += n;
      }
      // A slow producer: the COPY waits for the next block instead of ending.
      await new Promise((r) => setTimeout(r, 50));
      stream.push(block(first, 3));
      lengths.push(3);
      first += 3;
      await stream.end();
      assert.equal((pushed[0] as FrameBlock).columns[0]?.byteLength, 0, 'buffers move to the worker');
      // Read buffers come back for reuse: x of the 2048-frame block (24 KiB), then nothing that large.
      const spare = copier.spare(3 * 4 * 2048);
      assert.ok(spare instanceof ArrayBuffer && spare.byteLength === 3 * 4 * 2048);
      assert.equal(copier.spare(3 * 4 * 2048), undefined);
      assert.equal(copier.spare(1 << 30), undefined);
      const groups = await db.runAndReadAll(
        `SELECT row_group_num_rows AS n FROM parquet_metadata('${path}') WHERE column_id = 0 ORDER BY row_group_id`,
      );
      assert.deepEqual(
        groups.getRowObjects().map((r) => Number(r.n)),
        lengths,
      );
      const check = await db.runAndReadAll(
        `SELECT count(*) AS n, count(*) FILTER (WHERE x[1] <> i OR x[2] <> i + 0.5 OR x[3] <> -i) AS bad,
           min(i) AS lo, max(i) AS hi FROM '${path}'`,
      );
      assert.deepEqual(check.getRowObjects()[0], {
        n: BigInt(first),
        bad: 0n,
        lo: 0n,
        hi: BigInt(first - 1),
      });

      // Streams and batches queue one after another on the one worker.
      const second = copier.stream(join(root, 'second.parquet'), OPTIONS);
      second.push(block(0, 4));
      const ended = second.end();
      await copier.copy([block(0, 2), block(2, 2)], join(root, 'batch.parquet'), OPTIONS);
      await ended;
      const counts = await db.runAndReadAll(
        `SELECT (SELECT count(*) FROM '${join(root, 'second.parquet')}') AS s,
                (SELECT count(*) FROM '${join(root, 'batch.parquet')}') AS b`,
      );
      assert.deepEqual(counts.getRowObjects()[0], { s: 4n, b: 4n });
    } finally {
      await copier.close();
      db.closeSync();
      instance.closeSync();
    }
  });

  test('a stream that cannot write fails on end(); the worker goes on with the next request', async () => {
    const copier = await WorkerCopier.start(COLUMNS);
    try {
      const bad = copier.stream(join(root, 'no-such-dir', 'x.parquet'), OPTIONS);
      bad.push(block(0, 10));
      bad.push(block(10, 10));
      await assert.rejects(bad.end(), /no-such-dir/);
      assert.throws(() => bad.push(block(0, 1)), /push after end/);
      // Blocks of the failed stream were dropped but counted: room() does not wait for them.
      await copier.room();
      const good = copier.stream(join(root, 'after.parquet'), OPTIONS);
      assert.throws(() => copier.stream(join(root, 'twice.parquet'), OPTIONS), /already open/);
      good.push(block(0, 2));
      await good.end();
    } finally {
      await copier.close();
    }
  });

  test('a block that does not match the columns fails the stream', async () => {
    const copier = await WorkerCopier.start(COLUMNS);
    try {
      const s = copier.stream(join(root, 'mismatch.parquet'), OPTIONS);
      s.push({ length: 4, columns: [new Float32Array(12), new BigInt64Array(3)] });
      await assert.rejects(s.end(), /column i holds 24 bytes/);
    } finally {
      await copier.close();
    }
  });
});
