/**
 * One field of the ingest benchmark, in its own process. Ingest mode: registers its robot with the hub and
 * records episodes into a durable spool (src/field/spool), drained by the real uploader through the real
 * transport (HTTP batches, or NATS JetStream): the field agent's path minus physics. With `record:
 * 'backlog'` the spool is filled before `go` (a field whose link comes back after an outage), with 'live'
 * the field records while it uploads. Baseline mode: POSTs the same bytes, batched the same way, to a
 * sink that only reads them.
 */

import { Spool } from '../../src/field/spool/index.ts';
import { bundleSha256, encodeBatch, encodeBundle } from '../../src/field/transfer/index.ts';
import { HttpEpisodeTransport } from '../../src/field/transport/http.ts';
import { NatsEpisodeTransport } from '../../src/field/transport/nats.ts';
import type { EpisodeTransport } from '../../src/field/transport/transport.ts';
import { Uploader } from '../../src/field/uploader.ts';
import { childConfig, report, runChild, whenParentSays } from './child.ts';
import type { FieldChildConfig } from './protocol.ts';
import { EMBODIMENT_HASH, EpisodeSynth, NAMES, ROBOT_KIND, robotId } from './synthetic.ts';

runChild(async () => {
  const cfg = childConfig<FieldChildConfig>();
  if (cfg.mode === 'baseline') return baseline(cfg);
  const reg = await fetch(`${cfg.url}/api/fields/${cfg.field}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      robots: [
        { id: robotId(cfg.field), embodiment: ROBOT_KIND, embodimentHash: EMBODIMENT_HASH, vendor: 'tg-sim' },
      ],
    }),
  });
  if (!reg.ok) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const transport: EpisodeTransport =
    cfg.transport === 'nats'
      ? await NatsEpisodeTransport.connect({
          url: cfg.natsUrl as string,
          field: cfg.field,
          layout: cfg.layout,
        })
      : new HttpEpisodeTransport({ hubUrl: cfg.url });
  const spool = Spool.open({ dir: cfg.dir, maxBytes: 256 * 1024 * 1024 });
  let retries = 0;
  let rejected = 0;
  const uploader = new Uploader({
    spool,
    transport,
    backoff: { initialMs: 20, maxMs: 500 },
    batch: { maxEpisodes: cfg.batchEpisodes, maxBytes: 16 * 1024 * 1024 },
    onRetry: (_e, reason) => {
      retries++;
      if (retries <= 3) process.stderr.write(`${cfg.field}: retry: ${reason}\n`);
    },
    onRejected: (_e, reason) => {
      rejected++;
      process.stderr.write(`${cfg.field}: rejected: ${reason}\n`);
    },
  });
  const synth = new EpisodeSynth(cfg.field, cfg.frames);
  const ids: string[] = [];
  const record = async () => {
    for (let i = 0; i < cfg.episodes; i++) {
      const ep = synth.episode(cfg.seed + i);
      await spool.append(ep.meta.id, encodeBundle(ep, { recordedAt: new Date(), names: NAMES }));
      ids.push(ep.meta.id);
    }
  };
  if (cfg.record === 'backlog') await record();
  report({ type: 'ready' });
  await whenParentSays('go');

  const started = performance.now();
  const cpu0 = process.cpuUsage();
  uploader.start();
  if (cfg.record === 'live') await record();
  await uploader.drained();
  const elapsedMs = performance.now() - started;
  await uploader.stop();
  await transport.close();
  report({
    type: 'field-done',
    field: cfg.field,
    ids,
    frames: cfg.episodes * cfg.frames,
    delivered: uploader.delivered,
    duplicates: uploader.duplicates,
    batches: uploader.batches,
    retries,
    rejected,
    elapsedMs,
    cpuMs: cpuMsSince(cpu0),
  });
});

/** The same bundles, batched as the uploader batches them, POSTed to a sink that discards them. */
async function baseline(cfg: FieldChildConfig): Promise<void> {
  const synth = new EpisodeSynth(cfg.field, cfg.frames);
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < cfg.episodes; i += cfg.batchEpisodes) {
    const entries = [];
    for (let k = i; k < Math.min(cfg.episodes, i + cfg.batchEpisodes); k++) {
      const ep = synth.episode(cfg.seed + k);
      const bundle = encodeBundle(ep, { recordedAt: new Date(), names: NAMES });
      entries.push({ id: ep.meta.id, sha256: bundleSha256(bundle), bundle });
    }
    bodies.push(encodeBatch(entries));
  }
  report({ type: 'ready' });
  await whenParentSays('go');
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  for (const body of bodies) {
    const res = await fetch(cfg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: body as Uint8Array<ArrayBuffer>,
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`sink answered ${res.status}`);
  }
  report({
    type: 'field-done',
    field: cfg.field,
    ids: [],
    frames: cfg.episodes * cfg.frames,
    delivered: cfg.episodes,
    duplicates: 0,
    batches: bodies.length,
    retries: 0,
    rejected: 0,
    elapsedMs: performance.now() - started,
    cpuMs: cpuMsSince(cpu0),
  });
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return Math.round((c.user + c.system) / 1000);
}
