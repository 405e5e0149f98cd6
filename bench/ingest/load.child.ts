/**
 * The ingest benchmark's API load: an open-loop generator (request k leaves at start + k/rate, whether or
 * not earlier ones were answered) over keep-alive connections, mixing what fields, consoles and training
 * jobs ask the hub while episodes stream in. Latency is measured per request from send to the end of the
 * response.
 *
 * Most of the mix reaches the catalog: paging through episodes (newest, deep offsets, one robot's),
 * looking up episodes the hub has and ones it does not, the catalog's totals and per-robot counts, the
 * dataset list. Ids, robots and offsets are taken from what earlier answers showed, so lookups spread over
 * everything stored so far rather than repeating one cached answer.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { childConfig, report, runChild, whenParentSays } from './child.ts';
import { type LoadChildConfig, RECEIVED_HEADER, summarize } from './protocol.ts';

/** Route name -> share of requests. */
export const LOAD_MIX: Record<string, number> = {
  /** A field's resume check for an episode it sent (one a listing showed: any age). */
  'HEAD /api/episodes/:id/bundle (stored)': 0.15,
  /** A field's resume check for an episode the hub does not have yet (answered by the catalog). */
  'HEAD /api/episodes/:id/bundle (unknown)': 0.1,
  /** A training job fetching a stored episode's bundle. */
  'GET /api/episodes/:id/bundle': 0.05,
  /** The console's episode page, newest first. */
  'GET /api/episodes?limit=20': 0.12,
  /** Paging through the console's episode list (one of its first 40 pages of 50). */
  'GET /api/episodes?limit=50&offset=N': 0.12,
  /** One robot's episodes. */
  'GET /api/episodes?robot=R&limit=20': 0.1,
  /** Per-robot episode counts. */
  'GET /api/robots': 0.1,
  /** The catalog's totals (episodes, successes, robots, fields, datasets). */
  'GET /api/status': 0.1,
  'GET /api/datasets': 0.04,
  'GET /api/fields': 0.07,
  'GET /api/health': 0.05,
};

interface EpisodesPage {
  episodes: { id: string; robotId: string }[];
  total: number;
}

runChild(async () => {
  const cfg = childConfig<LoadChildConfig>();
  const url = new URL(cfg.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** Ids of stored episodes the listings showed (a reservoir sample once full). */
  const known: string[] = [];
  let seenIds = 0;
  const robots = new Set<string>();
  let total = 0;
  const routes = Object.entries(LOAD_MIX);
  const latencies = new Map<string, number[]>(routes.map(([r]) => [r, []]));
  const statuses = new Map<string, Record<string, number>>(routes.map(([r]) => [r, {}]));
  const lags: number[] = [];
  const beforeHub: number[] = [];
  const fromHub: number[] = [];
  let errors = 0;
  let sent = 0;
  let inFlight = 0;
  // Deterministic pseudo-random choices (a run is repeatable given the same answers).
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    return ((seed >>> 0) % 1_000_000) / 1_000_000;
  };
  const pickOf = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];

  const pick = (k: number): string => {
    // Deterministic weighted round-robin over the mix.
    let x = (((k * 0.6180339887) % 1) + 1) % 1;
    for (const [route, share] of routes) {
      if (x < share) return route;
      x -= share;
    }
    return routes[0]![0];
  };

  /** Takes ids, robots and the episode total from an answer (`filtered`: a listing of one robot). */
  const learn = (body: unknown, filtered: boolean) => {
    const page = body as Partial<EpisodesPage> & { robots?: { id: string }[] };
    if (typeof page.total === 'number' && !filtered) total = Math.max(total, page.total);
    for (const e of page.episodes ?? []) {
      robots.add(e.robotId);
      seenIds++;
      if (known.length < 20_000) known.push(e.id);
      else if (random() * seenIds < 20_000) known[Math.floor(random() * known.length)] = e.id;
    }
    for (const r of page.robots ?? []) robots.add(r.id);
  };

  /** What to ask, and the status it must be answered with (null: either 200 or 404). */
  const target = (route: string): { method: string; path: string; expect?: number | null } => {
    const stored = () => pickOf(known) ?? randomBytes(32).toString('hex');
    const expect = known.length > 0 ? 200 : null;
    switch (route) {
      case 'HEAD /api/episodes/:id/bundle (stored)':
        return { method: 'HEAD', path: `/api/episodes/${stored()}/bundle`, expect };
      case 'HEAD /api/episodes/:id/bundle (unknown)':
        return {
          method: 'HEAD',
          path: `/api/episodes/${randomBytes(32).toString('hex')}/bundle`,
          expect: 404,
        };
      case 'GET /api/episodes/:id/bundle':
        return { method: 'GET', path: `/api/episodes/${stored()}/bundle`, expect };
      case 'GET /api/episodes?limit=50&offset=N':
        return {
          method: 'GET',
          path: `/api/episodes?limit=50&offset=${50 * Math.floor(random() * Math.min(40, total / 50))}`,
        };
      case 'GET /api/episodes?robot=R&limit=20': {
        const robot = pickOf([...robots]);
        return { method: 'GET', path: `/api/episodes?limit=20${robot ? `&robot=${robot}` : ''}` };
      }
      default:
        return { method: 'GET', path: route.slice(4) };
    }
  };

  const request = (route: string) => {
    const { method, path, expect = 200 } = target(route);
    const t0 = performance.now();
    const sentNs = process.hrtime.bigint();
    inFlight++;
    sent++;
    const req = http.request({ host: url.hostname, port: url.port, path, method, agent }, (res) => {
      const receivedNs = res.headers[RECEIVED_HEADER];
      if (typeof receivedNs === 'string') {
        const at = BigInt(receivedNs);
        beforeHub.push(Number(at - sentNs) / 1e6);
        fromHub.push(Number(process.hrtime.bigint() - at) / 1e6);
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        inFlight--;
        latencies.get(route)!.push(performance.now() - t0);
        const status = res.statusCode ?? 500;
        const counts = statuses.get(route)!;
        counts[status] = (counts[status] ?? 0) + 1;
        // A stored episode (once any is known) must be found; an unknown one must not.
        if (status >= 500 || (expect !== null && status !== expect)) errors++;
        if (status === 200 && res.headers['content-type']?.startsWith('application/json')) {
          if (route.includes('/api/episodes?') || route === 'GET /api/robots') {
            learn(JSON.parse(Buffer.concat(chunks).toString('utf8')), route.includes('robot=R'));
          }
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
      request(pick(k));
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
    byRoute: Object.fromEntries(
      [...latencies].map(([r, v]) => [r, { ...summarize(v), statuses: statuses.get(r)! }]),
    ),
    lagP99Ms: summarize(lags).p99Ms,
    split: { beforeHub: summarize(beforeHub), fromHub: summarize(fromHub) },
    cpuMs: Math.round((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000),
  });
  agent.destroy();
  process.exit(0);
});
