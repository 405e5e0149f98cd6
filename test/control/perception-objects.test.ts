/**
 * Object poses against the simulator's ground truth: the simulated detector (noise, latency, rate,
 * dropout, view, bias) and the depth-camera path (plane segmentation, clustering, rectangle fit), alone and
 * as the perception a pick runs on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DepthObjectDetector,
  emptyObjectEstimate,
  SimObjectTracker,
  sceneObjectSource,
} from '../../src/control/perception/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { pickPlaceCameraScene, pickPlaceRig, placeCube, siteDepthCamera } from './fixtures/arm-rig.ts';

const CUBE_MODEL = { name: 'cube', shape: 'box', sizeM: [0.045, 0.045, 0.045] } as const;

function yawOf(q: ArrayLike<number>): number {
  return 2 * Math.atan2(q[3]!, q[0]!);
}

/** Yaw difference folded into (-period/2, period/2]. */
function yawError(a: number, b: number, period: number): number {
  const d = a - b;
  return d - period * Math.round(d / period);
}

function stats(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}

describe('object perception', () => {
  let world: SceneWorld;
  before(async () => {
    world = new SceneWorld(await loadMujoco(), pickPlaceCameraScene());
  });
  after(() => world.dispose());

  test('true poses: a body frame, a site frame, and an offset point in either frame', () => {
    placeCube(world, { x: 0.45, y: -0.1, yaw: Math.PI / 2 });
    const source = sceneObjectSource(world, [
      { name: 'cube' },
      { name: 'cube_edge', body: 'cube', offsetM: [0.02, 0, 0.01] },
      { name: 'ghost', site: 'ghost' },
      { name: 'above_ghost', site: 'ghost', offsetM: [0, 0, 0.05] },
    ]);
    assert.deepEqual(source.names, ['cube', 'cube_edge', 'ghost', 'above_ghost']);
    const [p, q, p1, q1] = [0, 1, 2, 3].map(() => new Float64Array(4));
    source.read(0, p!, q!);
    source.read(1, p1!, q1!);
    // The cube is turned a quarter about z: its local +x is world +y.
    assert.ok(Math.abs(p1![0]! - p![0]!) < 1e-9 && Math.abs(p1![1]! - p![1]! - 0.02) < 1e-9);
    assert.ok(Math.abs(p1![2]! - p![2]! - 0.01) < 1e-9);
    assert.deepEqual(Array.from(q1!), Array.from(q!));
    assert.ok(Math.abs(yawOf(q!) - Math.PI / 2) < 1e-6);
    source.read(2, p!, q!);
    source.read(3, p1!, q1!);
    assert.ok(Math.abs(p![0]! - 0.5) < 1e-9 && Math.abs(p![1]! - 0.12) < 1e-9, `ghost at ${p}`);
    assert.ok(Math.abs(p1![2]! - p![2]! - 0.05) < 1e-9);
    assert.ok(Math.abs(q![0]! - 1) < 1e-9, 'the site is not rotated');
  });

  test('simulated detector: errors have the configured noise, samples the rate, publication the latency', () => {
    placeCube(world, { x: 0.45, y: -0.1, yaw: 0.4 });
    const tracker = new SimObjectTracker(sceneObjectSource(world, [{ name: 'cube' }]), seededRng(3), {
      rateHz: 30,
      latencySec: 0.05,
      posNoiseStd: 0.002,
      yawNoiseStd: 0.02,
    });
    const est = [emptyObjectEstimate()];
    const dx: number[] = [];
    const dz: number[] = [];
    const dyaw: number[] = [];
    const stamps = new Set<number>();
    for (let k = 0; k < 30_000; k++) {
      const t = k * 0.004;
      tracker.update(t, est);
      const e = est[0]!;
      if (t < 0.05 - 1e-9) {
        assert.equal(e.visible, false, 'nothing arrives before the latency');
        continue;
      }
      assert.equal(e.visible, true);
      assert.ok(
        e.stampSec <= t - 0.05 + 1e-9 && e.stampSec > t - 0.05 - 1 / 30 - 0.004 - 1e-9,
        `t=${t} stamp ${e.stampSec}`,
      );
      if (!stamps.has(e.stampSec)) {
        stamps.add(e.stampSec);
        dx.push(e.pos[0]! - 0.45);
        dz.push(e.pos[2]! - 0.0225);
        dyaw.push(yawOf(e.quat) - 0.4);
      }
    }
    // 120 s at 30 Hz, sampled on a 4 ms tick: one sample per 33.3 ms rounded up to the tick.
    assert.ok(Math.abs(stamps.size - 120 * 30) < 120 * 3, `${stamps.size} samples`);
    for (const [name, xs, std] of [
      ['x', dx, 0.002],
      ['z', dz, 0.002],
      ['yaw', dyaw, 0.02],
    ] as const) {
      const s = stats(xs);
      assert.ok(Math.abs(s.mean) < 0.1 * std, `${name} mean error ${s.mean}`);
      assert.ok(Math.abs(s.std - std) < 0.08 * std, `${name} error std ${s.std}, configured ${std}`);
    }
  });

  test('simulated detector: a moved object shows up one latency later; out of view it goes stale', () => {
    placeCube(world, { x: 0.45, y: -0.1, yaw: 0 });
    const tracker = new SimObjectTracker(sceneObjectSource(world, [{ name: 'cube' }]), seededRng(4), {
      rateHz: 50,
      latencySec: 0.06,
      posNoiseStd: 0,
      yawNoiseStd: 0,
      view: { min: [0, -0.5, -0.1], max: [0.8, 0.5, 0.5] },
    });
    const est = [emptyObjectEstimate()];
    for (let k = 0; k <= 50; k++) tracker.update(k * 0.004, est);
    assert.equal(est[0]!.pos[0], 0.45);
    // Moved at t = 0.2 s (still in view): the estimate changes at 0.26 s, not before.
    world.setFreePose('cube', [0.3, 0.1, 0.0225]);
    world.forward();
    let seenAt = Number.NaN;
    for (let k = 51; k <= 150; k++) {
      tracker.update(k * 0.004, est);
      const x = est[0]!.pos[0]!;
      if (Number.isNaN(seenAt) && Math.abs(x - 0.3) < 1e-12) seenAt = k * 0.004;
    }
    assert.ok(seenAt >= 0.26 - 1e-9 && seenAt <= 0.26 + 0.02 + 1e-9, `moved estimate published at ${seenAt}`);
    // Out of view: not visible after the latency, the last pose and stamp kept.
    world.setFreePose('cube', [1.5, 0, 0.0225]);
    world.forward();
    for (let k = 151; k <= 250; k++) tracker.update(k * 0.004, est);
    assert.equal(est[0]!.visible, false);
    assert.equal(est[0]!.pos[0], 0.3);
    assert.ok(est[0]!.stampSec < 0.61);
  });

  test('simulated detector: dropout loses the configured fraction; bias shifts one object', () => {
    placeCube(world, { x: 0.45, y: -0.1, yaw: 0 });
    const tracker = new SimObjectTracker(
      sceneObjectSource(world, [{ name: 'cube' }, { name: 'bin' }]),
      seededRng(5),
      { rateHz: 100, latencySec: 0, posNoiseStd: 0, dropout: 0.25, biasM: { bin: [0.01, 0, 0] } },
    );
    const est = [emptyObjectEstimate(), emptyObjectEstimate()];
    let hidden = 0;
    const n = 20_000;
    for (let k = 0; k < n; k++) {
      tracker.update(k * 0.01, est);
      if (!est[0]!.visible) hidden++;
    }
    assert.ok(Math.abs(hidden / n - 0.25) < 0.02, `dropout ${hidden / n}`);
    const bin = new Float64Array(3);
    world.bodyPos(world.id('body', 'bin'), bin);
    assert.ok(Math.abs(est[1]!.pos[0]! - bin[0]! - 0.01) < 1e-12, 'bin biased by 1 cm');
    assert.equal(est[0]!.pos[0], 0.45, 'cube unbiased');
    for (const opts of [
      { rateHz: 0 },
      { dropout: 1 },
      { latencySec: 2 },
      { biasM: { teapot: [0, 0, 0] as const } },
    ]) {
      assert.throws(
        () => new SimObjectTracker(sceneObjectSource(world, [{ name: 'cube' }]), seededRng(1), opts),
        (e) => isTgError(e) && e.code === 'CONFIG_INVALID',
        JSON.stringify(opts),
      );
    }
  });

  test('depth camera: the cube found within millimetres and degrees, the table plane at z = 0', () => {
    // 160 x 120 over 40 degrees from 0.9 m: ~5 mm pixels, the cube's top 9 pixels across.
    const spec = { width: 160, height: 120, fovyDeg: 40 };
    const camera = siteDepthCamera(world, 'overhead_camera', { ...spec, noiseStdM: 0.001 });
    const detector = new DepthObjectDetector({ ...spec, objects: [CUBE_MODEL] });
    const frame = new Float64Array(spec.width * spec.height);
    const pos = new Float64Array(3);
    const mat = new Float64Array(9);
    const est = [emptyObjectEstimate()];
    const rng = seededRng(11);
    try {
      // Poses in view and clear of the arm's shadow (the hand hangs over x ~ 0.45, y ~ 0).
      const poses = [
        ...Array.from({ length: 12 }, () => ({
          x: 0.33 + 0.25 * rng.next(),
          y: -0.3 + 0.18 * rng.next(),
          yaw: Math.PI * (rng.next() - 0.5),
        })),
      ];
      for (const cube of poses) {
        placeCube(world, cube);
        camera.read(frame);
        camera.pose(pos, mat);
        const where = JSON.stringify(cube);
        assert.equal(detector.detect(frame, pos, mat, 1.5, est), 1, where);
        const e = est[0]!;
        assert.equal(e.visible, true);
        assert.equal(e.stampSec, 1.5);
        const err = Math.hypot(e.pos[0]! - cube.x, e.pos[1]! - cube.y);
        assert.ok(err < 0.003, `${where}: ${err} m off`);
        assert.ok(Math.abs(e.pos[2]! - 0.0225) < 0.002, `${where}: z ${e.pos[2]}`);
        const dy = yawError(yawOf(e.quat), cube.yaw, Math.PI / 2);
        assert.ok(Math.abs(dy) < (6 * Math.PI) / 180, `${where}: yaw off by ${(dy * 180) / Math.PI} deg`);
        assert.ok(Math.abs(detector.plane[2]!) < 0.002 && Math.abs(detector.plane[0]!) < 0.01, 'table plane');
      }
      // Out of the camera's field: not visible, the last pose kept.
      placeCube(world, { x: 0.45, y: 0.9, yaw: 0 });
      camera.read(frame);
      assert.equal(detector.detect(frame, pos, mat, 2, est), 0);
      assert.equal(est[0]!.visible, false);
      assert.equal(est[0]!.stampSec, 1.5);
    } finally {
      camera.dispose();
    }
  });

  test('depth camera: a pick runs on it (the hand hiding the cube during the descent)', async () => {
    let dispose = () => {};
    const rig = await pickPlaceRig(
      { x: 0.42, y: -0.18, yaw: 0.5 },
      {
        objectPerception: (w) => {
          const camera = siteDepthCamera(w, 'overhead_camera', {
            width: 120,
            height: 90,
            fovyDeg: 50,
            noiseStdM: 0.001,
          });
          dispose = () => camera.dispose();
          const detector = new DepthObjectDetector({
            width: 120,
            height: 90,
            fovyDeg: 50,
            objects: [CUBE_MODEL],
          });
          return { kind: 'depth', camera, detector, rateHz: 30 };
        },
      },
    );
    try {
      const e = rig.perception.state.objects.get('cube')!;
      assert.equal(e.visible, true);
      assert.ok(Math.hypot(e.pos[0]! - 0.42, e.pos[1]! + 0.18) < 0.004);
      const r = rig.run({ skill: 'pick', args: { object: 'cube' } }, 15);
      assert.equal(r.status, 'succeeded', r.failure ?? '');
      const p = new Float64Array(3);
      rig.world.freePose('cube', p);
      assert.ok(p[2]! > 0.08, `lifted to ${p[2]}`);
    } finally {
      dispose();
      rig.dispose();
    }
  });
});
