/**
 * Episodes that fields upload get a quality verdict when the hub verifies their bundle (in the verification
 * thread), the catalog stores it with the names of the failed checks, and /api/analytics derives data yield
 * from it: accepted frames / checked frames, also after the hub restarts.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { RecordedEpisode } from '../../src/data/episode.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { embodimentHash, loadEmbodiment } from '../../src/embodiment/index.ts';
import { BUNDLE_MEDIA_TYPE, bundleSha256, encodeBundle } from '../../src/field/transfer/index.ts';
import type { AnalyticsRow } from '../../src/hub/analytics/index.ts';
import { Catalog, type CatalogOpenOptions } from '../../src/hub/catalog/index.ts';
import { type NetworkHub, startNetworkHub } from '../../src/hub/ingest/network-hub.ts';
import { tempDir } from '../field/fixtures.ts';
import { catalogBackends } from './backends.ts';

const ARM7 = loadEmbodiment('arm7');
const FPS = 30;
const ROBOT = {
  id: 'east-arm7-0',
  name: 'east-arm7-0',
  embodiment: 'arm7',
  embodimentHash: embodimentHash(ARM7),
  vendor: 'acme',
  field: 'east',
};

/**
 * An arm7 episode moving every channel slowly through the middle of its range (action = the next state,
 * as a position-controlled arm tracks it); `spoil` changes the state of frame f before it is recorded.
 */
function arm7Episode(seed: number, length: number, spoil?: (state: Float32Array, f: number) => void) {
  const { lower, upper } = ARM7.jointLimits;
  const dim = ARM7.stateNames.length;
  const at = (f: number) =>
    Float32Array.from({ length: dim }, (_, c) => {
      const lo = lower[c] as number;
      const hi = upper[c] as number;
      return lo + (hi - lo) * (0.4 + (0.2 * f) / length);
    });
  const rec = new Recorder({ fps: FPS, features: { 'observation.state': dim, action: dim } });
  for (let f = 0; f < length; f++) {
    const state = at(f);
    spoil?.(state, f);
    rec.record(f / FPS, { 'observation.state': state, action: at(f + 1) });
  }
  return rec.finish({
    robot: ROBOT.id,
    embodimentHash: ROBOT.embodimentHash,
    vendor: ROBOT.vendor,
    field: ROBOT.field,
    operator: 'cy',
    task: 'pick',
    instruction: 'pick up the cube',
    source: 'teleop',
    phase: 'drill',
    success: true,
    seed,
    events: [],
  });
}

const NAMES = { 'observation.state': ARM7.stateNames, action: ARM7.actionNames };

const good = arm7Episode(1, 40);
// NaN in the state: the finite check fails.
const withNaN = arm7Episode(2, 20, (s, f) => {
  if (f === 5) s[0] = Number.NaN;
});
// Joint 0 a quarter radian beyond its upper limit throughout: the joint-limit check fails.
const beyondLimit = arm7Episode(3, 25, (s) => {
  s[0] = (ARM7.jointLimits.upper[0] as number) + 0.25;
});

async function put(hub: NetworkHub, e: RecordedEpisode, corrupt = false): Promise<Response> {
  const bundle = encodeBundle(e, { names: NAMES, recordedAt: new Date('2025-04-01T09:00:00Z') });
  const sha256 = bundleSha256(bundle);
  if (corrupt) bundle[bundle.length - 1] = (bundle[bundle.length - 1] as number) ^ 0xff;
  return fetch(`${hub.url}/api/episodes/${e.meta.id}/bundle`, {
    method: 'PUT',
    headers: { 'content-type': BUNDLE_MEDIA_TYPE, 'content-sha256': sha256 },
    body: bundle as Uint8Array<ArrayBuffer>,
  });
}

async function robotRow(hub: NetworkHub): Promise<AnalyticsRow | undefined> {
  const res = await fetch(`${hub.url}/api/analytics?by=robot`);
  assert.equal(res.status, 200);
  const { rows } = (await res.json()) as { rows: AnalyticsRow[] };
  return rows.find((r) => r.key === ROBOT.id);
}

for (const backend of await catalogBackends()) {
  describe(`yield of uploaded episodes on ${backend.name}`, () => {
    let place: CatalogOpenOptions;
    let catalog: Catalog;
    let hub: NetworkHub;
    const home = tempDir('tg-analytics-ingested-');
    const start = async () => {
      catalog = await Catalog.open(place);
      hub = await startNetworkHub({ home, host: '127.0.0.1', port: 0, catalog });
    };
    const stop = async () => {
      await hub?.close();
      await catalog?.close();
    };
    before(async () => {
      place = await backend.place('analytics-ingested');
      await start();
      await catalog.upsertRobot(ROBOT);
      hub.network.ingest.robotsChanged();
    });
    after(async () => {
      await stop();
      await backend.cleanup();
      await rm(home, { recursive: true, force: true });
    });

    test('a good and two failing uploads: verdicts stored, yield = accepted / checked frames', async () => {
      for (const e of [good, withNaN, beyondLimit]) {
        const res = await put(hub, e);
        assert.equal(res.status, 201, await res.text());
      }
      const facts = new Map((await catalog.selectEpisodes()).map((f) => [f.id, f]));
      const ok = facts.get(good.meta.id);
      assert.ok(ok && ok.qualityVerdict !== 'fail', JSON.stringify(ok));
      assert.deepEqual(ok.qualityFailed, []);
      assert.equal(facts.get(withNaN.meta.id)?.qualityVerdict, 'fail');
      assert.deepEqual(facts.get(withNaN.meta.id)?.qualityFailed, ['finite']);
      assert.equal(facts.get(beyondLimit.meta.id)?.qualityVerdict, 'fail');
      assert.ok(facts.get(beyondLimit.meta.id)?.qualityFailed?.includes('joint-limits'));

      const row = await robotRow(hub);
      assert.deepEqual(
        row && [row.episodes, row.frames, row.checkedFrames, row.acceptedFrames],
        [3, 85, 85, 40],
      );
      assert.equal(row?.yield, 40 / 85);
      const timeline = await (await fetch(`${hub.url}/api/analytics/timeline?bucket=day`)).json();
      assert.deepEqual(
        (timeline as { rows: AnalyticsRow[] }).rows.map((r) => [r.key, r.checkedFrames, r.yield]),
        [['2025-04-01T00:00:00.000Z', 85, 40 / 85]],
      );
    });

    test('a refused bundle stores nothing and changes no yield', async () => {
      const refused = arm7Episode(4, 30);
      const res = await put(hub, refused, true);
      assert.equal(res.status, 400);
      assert.equal((await catalog.getEpisodes([refused.meta.id])).length, 0);
      const row = await robotRow(hub);
      assert.deepEqual(row && [row.episodes, row.checkedFrames, row.yield], [3, 85, 40 / 85]);
    });

    test('the verdicts survive a hub restart', async () => {
      await stop();
      await start();
      const row = await robotRow(hub);
      assert.deepEqual(row && [row.episodes, row.checkedFrames, row.acceptedFrames], [3, 85, 40]);
      const failed = (await catalog.selectEpisodes()).find((f) => f.id === withNaN.meta.id);
      assert.deepEqual([failed?.qualityVerdict, failed?.qualityFailed], ['fail', ['finite']]);
    });
  });
}
