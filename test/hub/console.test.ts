import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Locator } from 'playwright-core';
import { Catalog } from '../../src/hub/catalog/index.ts';
import { CONSOLE_DIST_DIR, ensureConsoleBuilt } from '../../src/hub/console-build.ts';
import type { RunStatus } from '../../src/hub/server/api-types.ts';
import { type RunningHub, startHub } from '../../src/hub/server/start.ts';
import { seedCatalog } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Text of an element, as the DOM holds it (not layout-dependent like innerText). */
const text = async (locator: Locator) => (await locator.textContent()) ?? '';

let catalog: Catalog;
let hub: RunningHub;
let browser: Browser;
const run: RunStatus = {
  state: 'running',
  episodesDone: 4,
  episodesPlanned: 10,
  successes: 3,
  robots: 2,
  startedAt: new Date().toISOString(),
  message: 'arm-01: pick-place, seed 4',
};

before(async () => {
  // A missing browser is a failure, not a skip: .ci/run installs it (apt-get install -y chromium).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed: apt-get install -y chromium`);
  catalog = await Catalog.open({ dataDir: 'memory://' });
  await seedCatalog(catalog, 4);
  // consoleDir left out: startHub builds web/dist when it is missing or stale, as `tg up` does.
  hub = await startHub({ catalog, host: '127.0.0.1', port: 0, status: () => run });
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
  await hub?.close();
  await catalog?.close();
});

test('the console lists robots and episodes and shows the live run', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));

  await page.goto(hub.url);
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
  await episodeRows.nth(3).waitFor();
  assert.equal(await episodeRows.count(), 4);
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
    () => document.querySelectorAll('[data-testid=episodes-table] tbody tr').length === 2,
  );
  await robotRows.nth(0).click();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid=episodes-table] tbody tr').length === 4,
  );

  // A deep link is served the console shell (SPA fallback), an unknown API path a JSON 404.
  const deep = await page.request.get(`${hub.url}/robots/arm-01`);
  assert.equal(deep.status(), 200);
  assert.match(await deep.text(), /<div id="root">/);
  const missing = await page.request.get(`${hub.url}/api/nope`);
  assert.equal(missing.status(), 404);

  const dir = await mkdtemp(path.join(tmpdir(), 'tg-console-'));
  const screenshot = path.join(dir, 'console.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`console screenshot: ${screenshot}`);
  assert.deepEqual(consoleErrors, []);
});

test('ensureConsoleBuilt reuses an up-to-date build', { timeout: 60_000 }, async () => {
  // startHub (in before) has just built or validated web/dist.
  const index = path.join(CONSOLE_DIST_DIR, 'index.html');
  const builtAt = (await stat(index)).mtimeMs;
  assert.equal(await ensureConsoleBuilt(), CONSOLE_DIST_DIR);
  assert.equal((await stat(index)).mtimeMs, builtAt);
});
