import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeYield, type EpisodeVerdictRecord } from '../../src/data/quality/index.ts';

describe('data yield', () => {
  const records: EpisodeVerdictRecord[] = [
    {
      lengthFrames: 100,
      verdict: 'pass',
      labels: { robot: 'a', vendor: 'acme', task: 'pick', phase: 'drill', operator: 'ann' },
    },
    {
      lengthFrames: 200,
      verdict: 'warn',
      labels: { robot: 'a', vendor: 'acme', task: 'pick', phase: 'drill', operator: 'bo' },
    },
    {
      lengthFrames: 300,
      verdict: 'fail',
      labels: { robot: 'b', vendor: 'acme', task: 'place', phase: 'drill', operator: 'bo' },
    },
    {
      lengthFrames: 400,
      verdict: 'pass',
      labels: { robot: 'b', vendor: 'zeta', task: 'pick', phase: 'autonomy', operator: 'ann' },
    },
    { lengthFrames: 0, verdict: 'fail', labels: { robot: 'c' } },
  ];

  test('overall: accepted frames / recorded frames, warnings accepted', () => {
    const y = computeYield(records);
    // Accepted: 100 + 200 + 400 = 700 of 1000 frames; 3 of 5 episodes.
    assert.deepEqual(
      [y.episodes, y.acceptedEpisodes, y.recordedFrames, y.acceptedFrames, y.yield],
      [5, 3, 1000, 700, 0.7],
    );
  });

  test('breakdowns by robot, vendor, task, phase and operator, computed by hand', () => {
    const { by } = computeYield(records);
    const yields = (d: keyof typeof by) =>
      Object.fromEntries(
        Object.entries(by[d]).map(([k, b]) => [k, [b.acceptedFrames, b.recordedFrames, b.yield]]),
      );
    assert.deepEqual(yields('robot'), { a: [300, 300, 1], b: [400, 700, 4 / 7], c: [0, 0, null] });
    assert.deepEqual(yields('vendor'), { acme: [300, 600, 0.5], zeta: [400, 400, 1], unknown: [0, 0, null] });
    assert.deepEqual(yields('task'), { pick: [700, 700, 1], place: [0, 300, 0], unknown: [0, 0, null] });
    assert.deepEqual(yields('phase'), {
      drill: [300, 600, 0.5],
      autonomy: [400, 400, 1],
      unknown: [0, 0, null],
    });
    assert.deepEqual(yields('operator'), { ann: [500, 500, 1], bo: [200, 500, 0.4], unknown: [0, 0, null] });
    assert.equal(by.robot.c?.episodes, 1);
    assert.equal(by.robot.c?.acceptedEpisodes, 0);
  });

  test('an empty dataset has no yield rather than 0%', () => {
    const y = computeYield([]);
    assert.equal(y.yield, null);
    assert.deepEqual(y.by.robot, {});
  });
});
