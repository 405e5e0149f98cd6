import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EpisodeLabels } from '../../src/data/episode.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const labels: EpisodeLabels = {
  robot: 'r',
  embodimentHash: 'e',
  vendor: 'v',
  field: 'f',
  operator: 'o',
  task: 't',
  instruction: 'i',
  source: 'teleop',
  phase: 'orientation',
  success: null,
  seed: 7,
  events: [{ frame: 1, kind: 'grasp' }],
};

test('recorder grows by doubling and returns exact columns; id is a content hash', () => {
  const rec = new Recorder({ fps: 50, features: { s: 3, a: 1 }, capacityFrames: 1 });
  const s = new Float32Array(3);
  const a = new Float32Array(1);
  for (let f = 0; f < 100; f++) {
    s.set([f, f + 0.5, -f]);
    a[0] = f * 2;
    rec.record(f / 50, { s, a });
  }
  const ep = rec.finish(labels);
  assert.equal(ep.length, 100);
  assert.equal(ep.meta.length, 100);
  assert.equal(ep.meta.fps, 50);
  assert.equal(ep.columns.s?.length, 300);
  assert.deepEqual([...(ep.columns.s as Float32Array).subarray(297)], [99, 99.5, -99]);
  assert.equal(ep.columns.a?.[50], 100);
  assert.match(ep.meta.id, /^[0-9a-f]{64}$/);
  assert.equal(rec.length, 0);

  const again = new Recorder({ fps: 50, features: { s: 3, a: 1 } });
  for (let f = 0; f < 100; f++)
    again.record(f / 50, { s: new Float32Array([f, f + 0.5, -f]), a: new Float32Array([f * 2]) });
  assert.equal(again.finish(labels).meta.id, ep.meta.id);
  const other = new Recorder({ fps: 50, features: { s: 3, a: 1 } });
  other.record(0, { s, a });
  assert.notEqual(other.finish(labels).meta.id, ep.meta.id);
});

test('recorder refuses missing or mis-sized features and bad labels', () => {
  const rec = new Recorder({ fps: 10, features: { s: 2 } });
  assert.throws(
    () => rec.record(0, {}),
    (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
  );
  assert.throws(() => rec.record(0, { s: new Float32Array(3) }), /has length 3, expected 2/);
  const badLabels = { ...labels, source: 'dream' } as unknown as EpisodeLabels;
  assert.throws(
    () => rec.finish(badLabels),
    (e: unknown) => isTgError(e) && e.code === 'INPUT_INVALID',
  );
  assert.throws(() => new Recorder({ fps: 0, features: { s: 2 } }), /fps/);
});

test('recycle: the next episode is copied into the given-back arrays; foreign or repeated give-backs are ignored', () => {
  const features = { s: 2, a: 1 };
  const rec = new Recorder({ fps: 10, features });
  const fresh = new Recorder({ fps: 10, features });
  const record = (r: Recorder, n: number, base: number) => {
    for (let f = 0; f < n; f++)
      r.record(f / 10, { s: Float32Array.of(base + f, -f), a: Float32Array.of(base * f) });
    return r.finish({ ...labels, events: [] });
  };
  const first = record(rec, 20, 1);
  const firstBuffer = first.columns.s?.buffer;
  rec.recycle(first);
  rec.recycle(first); // already taken back: ignored
  const second = record(rec, 15, 5);
  assert.equal(second.columns.s?.buffer, firstBuffer, 'reuses the recycled buffer');
  assert.equal(second.columns.s?.length, 30);
  // Same values and id as an episode recorded into fresh arrays.
  const reference = record(fresh, 15, 5);
  assert.deepEqual(second.columns, reference.columns);
  assert.deepEqual(second.timestampsSec, reference.timestampsSec);
  assert.equal(second.meta.id, reference.meta.id);
  // Longer than the recycled arrays: new ones.
  rec.recycle(second);
  const third = record(rec, 40, 2);
  assert.notEqual(third.columns.s?.buffer, firstBuffer);
  assert.equal(third.meta.id, record(fresh, 40, 2).meta.id);
  // An episode from another recorder is not taken.
  rec.recycle(reference);
  const fourth = record(rec, 3, 0);
  assert.notEqual(fourth.columns.s?.buffer, reference.columns.s?.buffer);
});
