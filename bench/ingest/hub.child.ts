/**
 * The benchmark's hub: `startNetworkHub` (what `tg hub start` runs) on a free loopback port. Between `go`
 * and `stop` it measures its own CPU time and event-loop utilization (and, with TG_BENCH_PROF_DIR set,
 * writes a CPU profile of just that window).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { childConfig, report, runChild, whenParentSays } from './child.ts';
import { type HubChildConfig, RECEIVED_HEADER, summarize } from './protocol.ts';

runChild(async () => {
  const cfg = childConfig<HubChildConfig>();
  const hub = await startNetworkHub({
    home: cfg.home,
    host: '127.0.0.1',
    port: 0,
    natsUrl: cfg.natsUrl,
    nats: cfg.layout,
    ingest: { durable: cfg.durable, threads: cfg.threads },
    ownsProcess: true,
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
  // Where API latency comes from: how late the event loop ran (a stall delays every request), and how
  // long the hub took from parsing a request's headers to finishing its answer (uploads left out).
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const apiMs: number[] = [];
  let connections = 0;
  hub.server.on('connection', () => connections++);
  hub.server.on('request', (req, res) => {
    if (req.method === 'POST' || req.method === 'PUT') return;
    // When the hub got to the request (a monotonic clock every process on the machine shares): the load
    // splits each latency into waiting to be read and what came after.
    res.setHeader(RECEIVED_HEADER, process.hrtime.bigint().toString());
    const t0 = performance.now();
    res.once('finish', () => apiMs.push(performance.now() - t0));
  });
  const gc = { count: 0, major: 0, totalMs: 0, maxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      const { detail } = e as unknown as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const threads0 = threadCpu();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  await whenParentSays('stop');
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  loopDelay.disable();
  const threads = threadCpu();
  for (const [k, v] of threads0) threads.set(k, (threads.get(k) ?? 0) - v);
  gcObserver.disconnect();
  if (session && profDir) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path.join(profDir, `hub-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  report({
    type: 'hub-done',
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
    eventLoopDelay: {
      p50Ms: Math.round(loopDelay.percentile(50) / 1e4) / 100,
      p99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      maxMs: Math.round(loopDelay.max / 1e4) / 100,
    },
    apiServerMs: summarize(apiMs),
    connections,
    threadCpuMs: Object.fromEntries(
      [...threads].filter(([k, v]) => v >= 100 || (k.endsWith(' cpu') && v > 0)).sort((a, b) => b[1] - a[1]),
    ),
    gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
  });

  await stopped;
  await hub.close();
  process.exit(0);
});

/**
 * CPU time (ms) of each of this process's threads, and how long each waited runnable for a CPU (the
 * scheduler's run-queue wait), from /proc (Linux; empty elsewhere). Keys: "main", else "<name>-<tid>".
 */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const key = tid === String(process.pid) ? 'main' : `${name}-${tid}`;
      // schedstat: ns on a CPU, ns waiting on a run queue, time slices.
      const [runNs, waitNs] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(`${key} cpu`, Math.round((runNs ?? 0) / 1e6));
      out.set(`${key} wait`, Math.round((waitNs ?? 0) / 1e6));
    }
  } catch {}
  return out;
}
