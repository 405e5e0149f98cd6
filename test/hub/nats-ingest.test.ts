import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { encodeBundle } from '../../src/field/transfer/index.ts';
import { NatsEpisodeTransport } from '../../src/field/transport/nats.ts';
import type { NatsLayout } from '../../src/field/transport/nats-layout.ts';
import type { EpisodeIngest, IngestResult } from '../../src/hub/ingest/index.ts';
import { NatsConsumerThread } from '../../src/hub/ingest/nats-consumer.ts';
import { INGEST_ACK_WAIT_MS, NatsHubLink } from '../../src/hub/ingest/nats-hub.ts';
import { makeEpisode, uniqueToken } from '../field/fixtures.ts';

const NATS_URL = process.env.TG_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const CHILD = path.join(import.meta.dirname, 'nats-ingest.child.ts');

function layoutFor(token: string): NatsLayout {
  return {
    prefix: token,
    episodesStream: `${token}_EPISODES`,
    jobsStream: `${token}_JOBS`,
    ingestConsumer: 'hub-ingest',
  };
}
const layouts: NatsLayout[] = [];

after(async () => {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  for (const l of layouts) {
    for (const s of [l.episodesStream, l.jobsStream]) await jsm.streams.delete(s).catch(() => {});
  }
  await nc.close();
});

/** An ingest that records what it is handed and stores nothing. */
function recordingIngest(): { ingest: EpisodeIngest; ids: string[] } {
  const ids: string[] = [];
  const ingest = {
    ingest: async (_bundle: Uint8Array, expected: { id?: string }) => {
      ids.push(expected.id ?? '');
      return { id: expected.id, status: 'stored' } as unknown as IngestResult;
    },
  } as unknown as EpisodeIngest;
  return { ingest, ids };
}

describe('NATS ingest after a hub crash', () => {
  it('an ingest consumer made by an older hub (60 s ack wait) is brought to the short ack wait', async () => {
    const layout = layoutFor(uniqueToken());
    layouts.push(layout);
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: layout.episodesStream, subjects: [`${layout.prefix}._none_.episodes`] });
    await jsm.consumers.add(layout.episodesStream, {
      durable_name: layout.ingestConsumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(60_000),
    });
    const link = await NatsHubLink.start({ url: NATS_URL, ingest: recordingIngest().ingest, layout });
    try {
      const info = await jsm.consumers.info(layout.episodesStream, layout.ingestConsumer);
      assert.equal(info.config.ack_wait, nanos(INGEST_ACK_WAIT_MS));
    } finally {
      await link.close();
      await nc.close();
    }
  });

  it('the bundles a killed hub had taken reach the restarted hub within seconds, not a minute', async () => {
    // Regression (chaos benchmark): with a 60 s ack wait a hub killed mid-ingest stalled its bundles for
    // most of a minute after its restart.
    const layout = layoutFor(uniqueToken());
    layouts.push(layout);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, NATS_URL, JSON.stringify(layout)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise((r) => child.once('exit', r));
    const until = async (what: string, check: () => boolean, timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let field: NatsEpisodeTransport | null = null;
    let link: NatsHubLink | null = null;
    try {
      await until('the first hub', () => out.includes('ready'), 30_000);
      // A registered field's subject, as the hub adds it on registration.
      const nc = await connect({ servers: NATS_URL });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(layout.episodesStream);
      await jsm.streams.update(layout.episodesStream, {
        ...info.config,
        subjects: [`${layout.prefix}.f.episodes`],
      });
      await nc.close();
      field = await NatsEpisodeTransport.connect({ url: NATS_URL, field: 'f', layout });
      const episode = makeEpisode(1, { field: 'f' });
      await field.send(episode.meta.id, encodeBundle(episode));
      await until('the first hub to take the bundle', () => out.includes(`taken ${episode.meta.id}`), 30_000);
      child.kill('SIGKILL');
      await exited;

      const second = recordingIngest();
      link = await NatsHubLink.start({ url: NATS_URL, ingest: second.ingest, layout });
      await until('the restarted hub to get the bundle', () => second.ids.includes(episode.meta.id), 30_000);
    } finally {
      child.kill('SIGKILL');
      await link?.close();
      await field?.close();
    }
  });
});

describe('NATS fields registering at once', () => {
  it('every field gets its subject on the episodes stream (additions do not overwrite each other)', async () => {
    const layout = layoutFor(uniqueToken());
    layouts.push(layout);
    const link = await NatsHubLink.start({ url: NATS_URL, ingest: recordingIngest().ingest, layout });
    const nc = await connect({ servers: NATS_URL });
    try {
      const fields = Array.from({ length: 8 }, (_, i) => `field-${i}`);
      await Promise.all(fields.map((f) => link.addField(f)));
      await link.addField('field-3'); // again: nothing changes
      const info = await (await jetstreamManager(nc)).streams.info(layout.episodesStream);
      assert.deepEqual(
        [...(info.config.subjects ?? [])].sort(),
        fields.map((f) => `${layout.prefix}.${f}.episodes`).sort(),
      );
    } finally {
      await link.close();
      await nc.close();
    }
  });
});

describe('NATS consumer thread', () => {
  it('fails to start with a clear error when its stream does not exist, and leaves no thread behind', async () => {
    const token = uniqueToken();
    const failures: string[] = [];
    await assert.rejects(
      NatsConsumerThread.start(
        {
          url: NATS_URL,
          stream: `${token}_MISSING`,
          consumer: 'hub-ingest',
          maxInFlight: 8,
          batchMessages: 4,
          ackWaitMs: 5000,
        },
        () => assert.fail('no bundles from a stream that does not exist'),
        (m) => failures.push(m),
      ),
      (err: Error) => /NATS consumer thread: .*stream not found/i.test(err.message),
    );
    assert.deepEqual(failures, [], 'a failure to start is the rejection, not a later report');
  });
});
