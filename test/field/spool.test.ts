import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Spool } from '../../src/field/spool/index.ts';
import { decodeBundle, encodeBundle } from '../../src/field/transfer/index.ts';
import { makeEpisode, tempDir } from './fixtures.ts';

describe('spool', () => {
  it('keeps entries in order across reopen and deletes only acknowledged ones', async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir });
    const eps = [1, 2, 3].map((s) => makeEpisode(s));
    for (const ep of eps) await spool.append(ep.meta.id, encodeBundle(ep));
    await spool.ack(spool.first()!);
    const again = Spool.open({ dir });
    assert.deepEqual(
      again.entries().map((e) => [e.seq, e.id]),
      [
        [2, eps[1]!.meta.id],
        [3, eps[2]!.meta.id],
      ],
    );
    const next = await again.append(eps[0]!.meta.id, encodeBundle(eps[0]!));
    assert.equal(next.seq, 4, 'sequence numbers continue after the last entry');
    assert.deepEqual(decodeBundle(await again.read(again.first()!)).meta, eps[1]!.meta);
    assert.equal(again.stats.entries, 3);
  });

  it('acknowledging several entries at once removes exactly those (a delivered batch)', async () => {
    // Regression (chaos benchmark): ack looked its entry up before its awaits and removed whatever sat at
    // that index afterwards, so concurrent acks dropped the wrong entries from the queue while deleting the
    // right files: the uploader then read a deleted file forever, and an undelivered entry left the queue.
    const dir = tempDir();
    const spool = Spool.open({ dir });
    const eps = [1, 2, 3, 4, 5].map((s) => makeEpisode(s));
    for (const ep of eps) await spool.append(ep.meta.id, encodeBundle(ep));
    const [a, b, c] = spool.entries();
    await Promise.all([c!, a!, b!].map((e) => spool.ack(e)));
    const left = spool.entries();
    assert.deepEqual(
      left.map((e) => e.id),
      [eps[3]!.meta.id, eps[4]!.meta.id],
    );
    for (const e of left) assert.equal(decodeBundle(await spool.read(e)).meta.id, e.id, 'its file is there');
    assert.equal(spool.stats.bytes, left[0]!.bytes + left[1]!.bytes);
    assert.deepEqual(
      Spool.open({ dir })
        .entries()
        .map((e) => e.seq),
      left.map((e) => e.seq),
    );
  });

  it('pauses appends while full and resumes when an entry is acknowledged', async () => {
    const dir = tempDir();
    const one = encodeBundle(makeEpisode(1));
    const spool = Spool.open({ dir, maxBytes: one.length * 2 });
    await spool.append(makeEpisode(1).meta.id, one);
    await spool.append(makeEpisode(2).meta.id, encodeBundle(makeEpisode(2)));
    let third = false;
    const pending = spool.append(makeEpisode(3).meta.id, encodeBundle(makeEpisode(3))).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(third, false, 'append waits while the spool is full');
    assert.equal(spool.stats.full, true);
    await spool.ack(spool.first()!);
    await pending;
    assert.equal(third, true);
    assert.equal(spool.stats.entries, 2);

    const abort = new AbortController();
    const waiting = spool.append(makeEpisode(4).meta.id, encodeBundle(makeEpisode(4)), abort.signal);
    abort.abort();
    await assert.rejects(waiting, /stopped while waiting for space/);
  });

  it('survives SIGKILL mid-write: no partial entry is visible, every entry decodes', async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'spool-writer.child.ts'), dir],
      {
        // node --import tsx, not the tsx CLI: the CLI runs the script in a grandchild that SIGKILL would miss
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const reported: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        reported.push(...lines);
        if (reported.length >= 3) {
          // land the kill somewhere inside the next write
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 20));
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const names = readdirSync(dir);
    writeFileSync(path.join(dir, 'unrelated.txt'), 'ignored');
    const spool = Spool.open({ dir });
    assert.ok(
      names.filter((n) => !n.startsWith('.tmp-')).length >= reported.length,
      'every reported entry is on disk',
    );
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.tmp-')), 'temp files are cleared on open');
    const entries = spool.entries();
    for (const [i, line] of reported.entries()) {
      const [seq, id] = line.split(' ');
      assert.equal(entries[i]?.seq, Number(seq));
      assert.equal(entries[i]?.id, id);
    }
    for (const e of entries) {
      const episode = decodeBundle(await spool.read(e)); // throws on any partial or torn bundle
      assert.equal(episode.meta.id, e.id);
    }
  });
});
