/**
 * The chaos benchmark's machinery against real processes: a `tg hub start` and a `tg field start` process
 * per transport, the field kill -9'd while it records and uploads, then the hub kill -9'd while bundles
 * come in, each restarted; every episode must end up stored exactly once and the catalog must agree with
 * the blob store. Then the check itself must see what it is there to see: a corrupted blob, an orphan
 * blob and a requested episode that was never stored.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { checkNetwork } from '../../bench/chaos/check.ts';
import { ChaosNetwork, type Transport } from '../../bench/chaos/network.ts';
import type { TgProcess } from '../../bench/chaos/process.ts';

const NATS_URL = process.env.TG_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const FIELD = 'chaos-t';
const roots: string[] = [];

after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function assertKilled(p: TgProcess | null, what: string): void {
  assert.ok(p, `${what} was running`);
  assert.equal(p.exitSignal, 'SIGKILL', `${what} died of SIGKILL`);
  assert.throws(() => process.kill(p.pid as number, 0), /ESRCH/, `${what} (pid ${p.pid}) is gone`);
}

/** The first pack in a hub's blob store, and the sha256 of its first blob (see src/hub/blobs/pack.ts). */
function firstPacked(hubHome: string): { file: string; sha256: string } {
  const root = path.join(hubHome, 'hub', 'blobs', 'packs');
  const file = path.join(root, readdirSync(root).sort()[0] as string);
  const bytes = readFileSync(file);
  const count = Number(bytes.readBigUInt64LE(bytes.length - 16));
  const indexAt = bytes.length - 16 - count * 48;
  return { file, sha256: bytes.toString('hex', indexAt, indexAt + 32) };
}

describe('bench chaos: kill -9 of real hub and field processes', () => {
  before(async () => {
    // Never skipped: NATS with JetStream runs locally and in CI.
    const nc = await connect({ servers: NATS_URL, timeout: 2000 });
    await nc.close();
  });

  for (const transport of ['http', 'nats'] as Transport[]) {
    it(`${transport}: a field killed mid-upload and the hub killed mid-ingest lose and double nothing; the check sees tampering`, async () => {
      const root = mkdtempSync(path.join(os.tmpdir(), `tg-chaos-test-${transport}-`));
      roots.push(root);
      const net = new ChaosNetwork({
        transport,
        root,
        fields: [{ name: FIELD, robots: 1 }],
        natsUrl: NATS_URL,
        natsPrefix: `chaostest${process.pid}${transport}${Date.now().toString(36)}`,
      });
      try {
        await net.start();

        // The field, between spooling its first episode and uploading the last.
        let underWay = net.nextLine(/^spooled /, FIELD);
        await net.submit(FIELD, 3, 0.3);
        await underWay;
        assertKilled(await net.killField(FIELD), 'the field');
        await net.startField(FIELD);
        assert.ok(await net.drain(120_000), 'settled after the field restart');

        // The hub, once the field has a bundle for it (HTTP: being uploaded; NATS: in the stream).
        underWay = net.nextLine(/^spooled /, FIELD);
        await net.submit(FIELD, 3, 0.3);
        await underWay;
        assertKilled(await net.killHub(), 'the hub');
        await net.startHub();
        assert.ok(await net.drain(120_000), 'settled after the hub restart');
      } finally {
        await net.stop();
      }

      try {
        const verdict = await checkNetwork(net);
        assert.deepEqual(verdict.problems, []);
        assert.deepEqual(
          {
            requested: verdict.episodesRequested,
            sent: verdict.episodesSent,
            stored: verdict.episodesStored,
            blobs: verdict.blobs,
            orphans: verdict.orphanBlobs,
            lost: verdict.lost,
            duplicated: verdict.duplicated,
            consistent: verdict.catalogConsistent,
            settled: verdict.settled,
          },
          {
            requested: 6,
            sent: 6,
            stored: 6,
            blobs: 6,
            orphans: 0,
            lost: 0,
            duplicated: 0,
            consistent: true,
            settled: true,
          },
        );
        assert.deepEqual(net.kills, { hub: 1, field: 1 });

        // A blob whose bytes changed, a blob nobody names, an episode asked for and never stored.
        const packed = firstPacked(net.hubHome);
        const bytes = readFileSync(packed.file);
        bytes[20] = (bytes[20] as number) ^ 0xff; // inside the pack's first blob (blobs start at byte 8)
        writeFileSync(packed.file, bytes);
        const orphan = path.join(net.hubHome, 'hub', 'blobs', 'sha256', 'ff', 'f'.repeat(62));
        mkdirSync(path.dirname(orphan), { recursive: true });
        writeFileSync(orphan, 'not a bundle');
        net.requested.push({ field: FIELD, seed: 1000 });
        const bad = await checkNetwork(net);
        assert.equal(bad.catalogConsistent, false);
        assert.equal(bad.orphanBlobs, 1);
        assert.equal(bad.lost, 1);
        assert.ok(
          bad.problems.some((p) => p.includes('reads back with sha256') && p.includes(packed.sha256)),
          `the corrupted blob is named: ${bad.problems.join('; ')}`,
        );
        assert.ok(bad.problems.some((p) => p.includes(`blob ${'f'.repeat(64)}`)));
        assert.ok(bad.problems.some((p) => p.includes(`${FIELD}:1000 requested, not stored`)));
      } finally {
        await net.cleanup();
      }
    });
  }
});
