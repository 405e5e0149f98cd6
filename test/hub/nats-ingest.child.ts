/**
 * A hub that takes bundles from NATS and never commits them: it prints "taken <id>" for each, and the test
 * kills it with SIGKILL, as a hub that dies mid-ingest. Args: <nats url> <layout json>.
 */
import type { EpisodeIngest } from '../../src/hub/ingest/index.ts';
import { NatsHubLink } from '../../src/hub/ingest/nats-hub.ts';

const [url, layout] = process.argv.slice(2) as [string, string];
const stalled = {
  ingest: (_bundle: Uint8Array, expected: { id?: string }) => {
    process.stdout.write(`taken ${expected.id}\n`);
    return new Promise(() => {});
  },
} as unknown as EpisodeIngest;
await NatsHubLink.start({ url, ingest: stalled, layout: JSON.parse(layout) });
process.stdout.write('ready\n');
