/**
 * Force-guided insertion of the held 8 mm peg (0.1 mm diametral clearance) on the peg board in MuJoCo,
 * from perception only: peg and hole poses from the simulated detector (1 mm noise, and a 1.8 mm
 * calibration error on the hole so that the spiral search has to find it), contact from the wrist F/T.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorldState } from '../../src/control/contracts.ts';
import { type ArmRig, pegBoardRig, pegInHole } from './fixtures/arm-rig.ts';

const HOLE_BIAS = { hole_8mm: [0.0015, -0.001, 0] as const };

/** Largest contact force on the peg over a run (ground-truth contact sensor, for judging only). */
function forceProbe(rig: ArmRig): { each: (r: ArmRig) => void; max: () => number } {
  const id = rig.world.id('sensor', 'peg_contact');
  const f = new Float64Array(3);
  let max = 0;
  return {
    each: (r) => {
      r.world.readSensor(id, f);
      max = Math.max(max, Math.hypot(f[0]!, f[1]!, f[2]!));
    },
    max: () => max,
  };
}

describe('force-guided peg insertion (8 mm peg, 8.1 mm hole)', () => {
  for (const seed of [1, 3]) {
    test(`seed ${seed}: spiral search finds the hole 1.8 mm off the estimate and inserts 20 mm`, async () => {
      const rig = await pegBoardRig(seed, { objectNoise: { posNoiseStd: 0.001, biasM: HOLE_BIAS } });
      try {
        const probe = forceProbe(rig);
        const r = rig.run(
          { skill: 'insert', args: { object: 'peg_8mm', target: 'hole_8mm' } },
          20,
          probe.each,
        );
        assert.equal(r.status, 'succeeded', r.failure ?? '');
        const insert = rig.skills.get('insert') as unknown as { searchRadiusM: number };
        assert.ok(insert.searchRadiusM > 0.001, `searched to r = ${insert.searchRadiusM} m`);
        const truth = pegInHole(rig.world);
        assert.ok(truth.depthM > 0.018, `inserted ${truth.depthM} m`);
        assert.ok(truth.lateralM < 0.0001, `tip ${truth.lateralM} m off the hole axis`);
        assert.ok(probe.max() < 25, `max contact force ${probe.max()} N`);
        assert.equal(rig.spine.stats.interventions, 0);
      } finally {
        rig.dispose();
      }
    });
  }

  test('a target with no hole: the spiral gives up at its radius with the reason', async () => {
    const rig = await pegBoardRig(2);
    try {
      const r = rig.run({ skill: 'insert', args: { object: 'peg_8mm', target: 'blank' } }, 20);
      assert.equal(r.status, 'failed');
      assert.match(r.failure!, /insert: spiral search reached 4\.0 mm without finding the hole/);
      assert.ok(pegInHole(rig.world).depthM < 0.001, 'the peg is not in the hole');
      assert.ok(rig.next.every((x) => Number.isFinite(x)));
    } finally {
      rig.dispose();
    }
  });

  test('without a wrist sensor or without the objects, insert fails at once', async () => {
    const rig = await pegBoardRig(1);
    try {
      const noWrench: WorldState = { ...rig.perception.state, wrench: undefined };
      const skill = rig.skills.get('insert')!;
      skill.start({ object: 'peg_8mm', target: 'hole_8mm' }, noWrench);
      const cmd = new Float64Array(8);
      assert.equal(skill.step(noWrench, cmd), 'failed');
      assert.match(skill.failure!, /needs a wrist force\/torque sensor/);
      const r = rig.run({ skill: 'insert', args: { object: 'peg_8mm', target: 'hole_99mm' } }, 1);
      assert.equal(r.status, 'failed');
      assert.match(r.failure!, /no geometry for 'hole_99mm'|no object 'hole_99mm'/);
    } finally {
      rig.dispose();
    }
  });
});
