/**
 * The ingest benchmark's API load: an open-loop generator (request k leaves at start + k/rate, whether or
 * not earlier ones were answered) over keep-alive connections, mixing what fields and the console ask the
 * hub while episodes stream in. Latency is measured per request from send to the end of the response.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { childConfig, report, runChild, whenParentSays } from './child.ts';
import { type LoadChildConfig, summarize } from './protocol.ts';

/**
 * Route name -> share of requests. A field's resume check (HEAD) asks about an episode the hub has (one
 * the episode listing showed) or one it does not have yet (answered from the catalog); the console lists
 * fields and the newest episodes.
 */
export const LOAD_MIX: Record<string, number> = {
  'HEAD /api/episodes/:id/bundle (stored)': 0.4,
  'HEAD /api/episodes/:id/bundle (unknown)': 0.1,
  'GET /api/fields': 0.25,
  'GET /api/episodes?limit=20': 0.1,
  'GET /api/health': 0.15,
};

runChild(async () => {
  const cfg = childConfig<LoadChildConfig>();
  const url = new URL(cfg.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const known: string[] = [];
  const routes = Object.entries(LOAD_MIX);
  const latencies = new Map<string, number[]>(routes.map(([r]) => [r, []]));
  const lags: number[] = [];
  let errors = 0;
  let sent = 0;
  let inFlight = 0;

  const pick = (k: number): string => {
    // Deterministic weighted round-robin over the mix.
    let x = (((k * 0.6180339887) % 1) + 1) % 1;
    for (const [route, share] of routes) {
      if (x < share) return route;
      x -= share;
    }
    return routes[0]![0];
  };

  const request = (route: string, k: number) => {
    let method = 'GET';
    let path = route.slice(4);
    if (route.startsWith('HEAD')) {
      method = 'HEAD';
      const unknown = randomBytes(32).toString('hex');
      const id = route.endsWith('(stored)') && known.length ? known[k % known.length]! : unknown;
      path = `/api/episodes/${id}/bundle`;
    }
    const t0 = performance.now();
    inFlight++;
    sent++;
    const req = http.request({ host: url.hostname, port: url.port, path, method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        inFlight--;
        latencies.get(route)!.push(performance.now() - t0);
        if ((res.statusCode ?? 500) >= 500 || (method === 'GET' && res.statusCode !== 200)) errors++;
        if (route.startsWith('GET /api/episodes') && res.statusCode === 200) {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { episodes: { id: string }[] };
          for (const e of body.episodes) if (known.length < 10_000) known.push(e.id);
        }
      });
    });
    req.on('error', () => {
      inFlight--;
      errors++;
    });
    req.end();
  };

  report({ type: 'ready' });
  await whenParentSays('go');
  let stopping = false;
  void whenParentSays('stop').then(() => {
    stopping = true;
  });
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const periodMs = 1000 / cfg.ratePerSec;
  let k = 0;
  while (!stopping) {
    const now = performance.now();
    while (start + k * periodMs <= now) {
      lags.push(now - (start + k * periodMs));
      request(pick(k), k);
      k++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const elapsedSec = (performance.now() - start) / 1000;
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  const all = [...latencies.values()].flat();
  report({
    type: 'load-done',
    sent,
    errors,
    ratePerSec: Math.round(sent / elapsedSec),
    all: summarize(all),
    byRoute: Object.fromEntries([...latencies].map(([r, v]) => [r, summarize(v)])),
    lagP99Ms: summarize(lags).p99Ms,
    cpuMs: Math.round((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000),
  });
  agent.destroy();
  process.exit(0);
});
