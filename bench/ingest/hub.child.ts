/**
 * The benchmark's hub: `startNetworkHub` (what `tg hub start` runs) on a free loopback port. Between `go`
 * and `stop` it measures its own CPU time and event-loop utilization (and, with TG_BENCH_PROF_DIR set,
 * writes a CPU profile of just that window).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { childConfig, report, runChild, whenParentSays } from './child.ts';
import type { HubChildConfig } from './protocol.ts';

runChild(async () => {
  const cfg = childConfig<HubChildConfig>();
  const hub = await startNetworkHub({
    home: cfg.home,
    host: '127.0.0.1',
    port: 0,
    natsUrl: cfg.natsUrl,
    nats: cfg.layout,
    ingest: { durable: cfg.durable, threads: cfg.threads },
  });
  const stopped = new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  report({ type: 'ready', url: hub.url });

  void whenParentSays('await-episodes').then(async ({ count }) => {
    let n = await hub.catalog.countEpisodes();
    while (n < count) {
      await new Promise((r) => setTimeout(r, 20));
      n = await hub.catalog.countEpisodes();
    }
    report({ type: 'hub-holds', episodes: n });
  });
  await whenParentSays('go');
  const profDir = process.env.TG_BENCH_PROF_DIR;
  const session = profDir ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  await whenParentSays('stop');
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  if (session && profDir) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path.join(profDir, `hub-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  report({
    type: 'hub-done',
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
  });

  await stopped;
  await hub.close();
  process.exit(0);
});
