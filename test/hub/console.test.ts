import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { CONSOLE_DIST_DIR, ensureConsoleBuilt } from '../../src/hub/console-build.ts';
import { EpisodeIngest, FieldRegistry, JobBoard } from '../../src/hub/ingest/index.ts';
import type { RunStatus } from '../../src/hub/server/api-types.ts';
import { buildHubApp } from '../../src/hub/server/app.ts';
import { type RunningHub, startHub } from '../../src/hub/server/start.ts';
import { ROBOTS, seedCatalog } from './fixtures.ts';
import { type EpisodeSpec, writeRecordedDataset } from './recorded-datasets.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Text of an element, as the DOM holds it (not layout-dependent like innerText). */
const text = async (locator: Locator) => (await locator.textContent()) ?? '';

let catalog: Catalog;
let ingest: EpisodeIngest;
let app: FastifyInstance;
let url: string;
let browser: Browser;
let shots: string;
/** Episodes with real frames on disk (LeRobot v3), recorded at 08:xx and 09:xx on 2025-01-01. */
let recorded: string[];
const run: RunStatus = {
  state: 'running',
  episodesDone: 4,
  episodesPlanned: 10,
  successes: 3,
  robots: 2,
  startedAt: new Date().toISOString(),
  message: 'arm-01: pick-place, seed 4',
};

const recordedSpec = (robot: string, hour: number, length: number, success: boolean): EpisodeSpec => ({
  robot,
  vendor: 'acme',
  field: 'field-beijing',
  operator: 'ana',
  task: 'pick',
  phase: 'drill',
  success,
  seed: hour,
  length,
  recordedAt: new Date(Date.UTC(2025, 0, 1, hour, 30)).toISOString(),
});

before(async () => {
  // A missing browser is a failure, not a skip: .ci/run installs it (apt-get install -y chromium).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed: apt-get install -y chromium`);
  shots = await mkdtemp(path.join(tmpdir(), 'tg-console-'));
  catalog = await Catalog.open({ dataDir: 'memory://' });
  recorded = await writeRecordedDataset(catalog, 'recorded', path.join(shots, 'recorded'), [
    recordedSpec('arm-01', 8, 40, true),
    recordedSpec('humanoid-01', 9, 60, false),
  ]);
  // Four catalog-only episodes (their dataset path holds nothing) at 12:00; the fixtures' robot names win.
  await seedCatalog(catalog, 4);
  ingest = await EpisodeIngest.open({ catalog, dir: path.join(shots, 'ingest') });
  const fields = new FieldRegistry(catalog);
  const board = new JobBoard(catalog);
  app = await buildHubApp({
    catalog,
    status: () => run,
    consoleDir: await ensureConsoleBuilt(),
    network: { ingest, fields, board, jobs: board },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await fields.register('field-beijing', { robots: ROBOTS.map(({ field: _field, ...r }) => r) });
  fields.heartbeat('field-beijing', { state: 'drilling', spoolEntries: 3, spoolBytes: 5 * 1024 * 1024 });
  const created = await app.inject({
    method: 'POST',
    url: '/api/datasets',
    payload: { name: 'arm-drills', query: { robot: ['arm-01'] } },
  });
  assert.equal(created.statusCode, 201, created.body);
  const frozen = await app.inject({ method: 'POST', url: '/api/datasets/arm-drills/freeze', payload: {} });
  assert.equal(frozen.statusCode, 201, frozen.body);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await ingest?.close();
  await catalog?.close();
});

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, errors };
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`console screenshot: ${file}`);
}

const count = (page: Page, selector: string) =>
  page.evaluate((s) => document.querySelectorAll(s).length, selector);

test('the console lists robots and episodes and shows the live run', { timeout: 60_000 }, async () => {
  const { page, errors } = await openPage();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Training Ground' }).waitFor();

  const robotRows = page.locator('[data-testid=robots-table] tbody tr');
  await robotRows.nth(1).waitFor();
  assert.equal(await robotRows.count(), 2);
  assert.match(
    await text(robotRows.nth(0)),
    /Arm 01[\s\S]*so100-arm[\s\S]*TheRobotStudio[\s\S]*field-beijing/,
  );
  assert.match(await text(robotRows.nth(1)), /Humanoid 01[\s\S]*Unitree/);

  const episodeRows = page.locator('[data-testid=episodes-table] tbody tr');
  await episodeRows.nth(5).waitFor();
  assert.equal(await episodeRows.count(), 6);
  const newest = await text(episodeRows.nth(0));
  assert.match(newest, /Humanoid 01[\s\S]*walk-to-bin[\s\S]*Failure[\s\S]*153/);

  assert.match(await text(page.getByTestId('episodes-progress')), /4\s*\/\s*10/);
  assert.equal(await text(page.getByTestId('success-rate')), '75.0%');
  assert.equal(await text(page.getByTestId('run-state')), 'Running');

  // The summary polls every second: a change on the hub shows up without a reload.
  run.episodesDone = 5;
  await page
    .getByTestId('episodes-progress')
    .filter({ hasText: /5\s*\/\s*10/ })
    .waitFor({ timeout: 5000 });

  // Clicking a robot filters the episodes to it.
  await robotRows.nth(0).click();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid=episodes-table] tbody tr').length === 3,
  );
  await robotRows.nth(0).click();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid=episodes-table] tbody tr').length === 6,
  );

  // A deep link is served the console shell (SPA fallback), an unknown API path a JSON 404.
  const deep = await page.request.get(`${url}/robots/arm-01`);
  assert.equal(deep.status(), 200);
  assert.match(await deep.text(), /<div id="root">/);
  const missing = await page.request.get(`${url}/api/nope`);
  assert.equal(missing.status(), 404);
  assert.deepEqual(errors, []);
  await page.close();
});

test('charts: success and yield per hour and per robot, task and phase', { timeout: 60_000 }, async () => {
  const { page, errors } = await openPage();
  await page.goto(url);

  // Hours 08, 09 (one recorded episode each) and 12 (four catalog-only episodes): a bar and a success
  // point each; yield only where frames could be checked, so 08 and 09.
  const timeline = page.getByTestId('timeline-chart');
  await timeline.waitFor();
  assert.equal(await count(page, '[data-testid=timeline-chart] [data-series=episodes] rect'), 3);
  assert.equal(await count(page, '[data-testid=timeline-chart] [data-series=success] circle'), 3);
  assert.equal(await count(page, '[data-testid=timeline-chart] [data-series=yield] circle'), 2);
  const heights = await page.$$eval('[data-testid=timeline-chart] [data-series=episodes] rect', (rs) =>
    rs.map((r) => Number(r.getAttribute('height'))),
  );
  assert.ok((heights[2] as number) > 3.9 * (heights[0] as number), `bar heights ${heights}`);
  assert.equal(heights[0], heights[1]);
  // The 12:00 bucket: 4 fixtures, i % 3 !== 0 succeed -> 2 of 4.
  assert.match(await text(timeline.locator('[data-series=success] circle').nth(2)), /50\.0%/);

  // By robot: two groups, each with a success and a yield bar.
  const breakdown = page.getByTestId('breakdown-chart');
  await breakdown.waitFor();
  assert.equal(await breakdown.getAttribute('data-by'), 'robot');
  assert.equal(await count(page, '[data-testid=breakdown-chart] .group'), 2);
  assert.equal(await count(page, '[data-testid=breakdown-chart] rect.bar-success'), 2);
  assert.equal(await count(page, '[data-testid=breakdown-chart] rect.bar-yield'), 2);

  // By task: pick (recorded, checked), pick-place and walk-to-bin (catalog only: "not checked").
  await page.getByRole('button', { name: 'Task', exact: true }).click();
  await page.locator('[data-testid=breakdown-chart][data-by=task]').waitFor();
  assert.equal(await count(page, '[data-testid=breakdown-chart] .group'), 3);
  assert.equal(await count(page, '[data-testid=breakdown-chart] rect.bar-yield'), 1);
  assert.match(await text(breakdown), /not checked/);
  await page.getByRole('button', { name: 'Phase', exact: true }).click();
  await page.locator('[data-testid=breakdown-chart][data-by=phase]').waitFor();
  assert.deepEqual(
    await page.$$eval('[data-testid=breakdown-chart] .group', (gs) =>
      gs.map((g) => g.getAttribute('data-key')),
    ),
    ['orientation', 'drill'],
  );

  // Fields and datasets.
  const field = page.locator('[data-testid=fields-table] tbody tr');
  await field.first().waitFor();
  assert.match(
    await text(field.first()),
    /field-beijing[\s\S]*Drilling[\s\S]*heartbeat (just now|\d+ s ago)[\s\S]*2[\s\S]*3 episodes[\s\S]*5\.0 MiB/,
  );
  const dataset = page.locator('[data-testid=datasets-table] tbody tr');
  await dataset.first().waitFor();
  assert.match(await text(dataset.first()), /arm-drills[\s\S]*robot: arm-01[\s\S]*v1/);

  await screenshot(page, 'console');
  assert.deepEqual(errors, []);
  await page.close();
});

test('clicking an episode opens its metadata, checks and state/action plot', {
  timeout: 60_000,
}, async () => {
  const { page, errors } = await openPage();
  await page.goto(url);
  const row = page.locator('[data-testid=episodes-table] tbody tr', {
    hasText: (recorded[1] as string).slice(0, 10),
  });
  await row.click();
  const detail = page.getByTestId('episode-detail');
  await detail.getByTestId('plot-observation.state').waitFor();
  assert.equal(new URL(page.url()).pathname, `/episodes/${recorded[1]}`);
  assert.match(await text(detail.getByTestId('episode-meta')), /humanoid-01[\s\S]*pick[\s\S]*60 at 10 fps/);
  assert.match(await text(detail.getByTestId('episode-verdict')), /^(Pass|Warn|Fail)$/);
  assert.ok((await count(page, '[data-testid=episode-quality] .check')) > 5);
  // observation.state has channels a and b, action g; every line runs through all 60 frames.
  const lines = await page.$$eval('[data-testid=episode-detail] path.trace', (ps) =>
    ps.map((p) => [p.getAttribute('data-channel'), (p.getAttribute('d') ?? '').split('L').length]),
  );
  assert.deepEqual(lines, [
    ['a', 60],
    ['b', 60],
    ['g', 60],
  ]);
  // The dialog scrolls inside a fixed overlay: a tall viewport shows all of it.
  await page.setViewportSize({ width: 1280, height: 1500 });
  await screenshot(page, 'episode', false);

  await detail.getByRole('button', { name: 'Close' }).click();
  await detail.waitFor({ state: 'detached' });
  assert.equal(new URL(page.url()).pathname, '/');
  // Back reopens it.
  await page.goBack();
  await page.getByTestId('episode-detail').waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test('an episode that cannot be shown is an error in the dialog, not a blank one', {
  timeout: 60_000,
}, async () => {
  const { page } = await openPage();
  await page.goto(`${url}/episodes/${'0'.repeat(64)}`);
  const error = page.getByTestId('episode-error');
  await error.waitFor();
  assert.match(await text(error), /no episode 0{64} in the catalog/);
  await screenshot(page, 'episode-unknown', false);

  await page.goto(`${url}/episodes/not-an-id`);
  await page.getByTestId('episode-error').waitFor();
  assert.match(await text(page.getByTestId('episode-error')), /64 lowercase hex digits/);

  // A catalog-only episode: the catalog knows it, its frames are nowhere on disk.
  await page.goto(url);
  await page.locator('[data-testid=episodes-table] tbody tr').first().click();
  await page.getByTestId('episode-error').waitFor();
  assert.match(await text(page.getByTestId('episode-error')), /cannot be read/);
  await page.close();
});

test('an empty hub without a field network says what to run', { timeout: 60_000 }, async () => {
  const empty = await Catalog.open({ dataDir: 'memory://' });
  // consoleDir left out: startHub builds web/dist when it is missing or stale, as `tg up` does.
  let hub: RunningHub | undefined;
  try {
    hub = await startHub({ catalog: empty, host: '127.0.0.1', port: 0 });
    const { page, errors } = await openPage();
    await page.goto(hub.url);
    await page.locator('.chart-message', { hasText: 'tg up' }).nth(1).waitFor();
    assert.match(await text(page.locator('[data-testid=episodes-table]')), /Start a run with tg up/);
    assert.match(
      await text(page.locator('[data-testid=fields-table]')),
      /without a field network[\s\S]*tg up --fields/,
    );
    assert.match(await text(page.locator('[data-testid=datasets-table]')), /tg datasets create/);
    await screenshot(page, 'console-empty');
    // No 404s from polling a route this hub does not serve.
    await page.waitForTimeout(2500);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await hub?.close();
    await empty.close();
  }
});

test('ensureConsoleBuilt reuses an up-to-date build', { timeout: 60_000 }, async () => {
  // before() has just built or validated web/dist.
  const index = path.join(CONSOLE_DIST_DIR, 'index.html');
  const builtAt = (await stat(index)).mtimeMs;
  assert.equal(await ensureConsoleBuilt(), CONSOLE_DIST_DIR);
  assert.equal((await stat(index)).mtimeMs, builtAt);
});
