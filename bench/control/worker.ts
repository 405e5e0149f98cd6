/**
 * One worker thread of `tg bench control`: its share of the arm7 fleet, each robot the full control
 * stack on the pick-and-place task, run round robin one slice of simulated time at a time. A robot whose
 * episode ends starts the next seeded one at once. The baseline is the physics step of the same robots
 * in the same run: the stack times each mj_step (RobotStack.physicsMs), so both are measured under the
 * same machine load and the same contacts.
 *
 * Before the timed run (not measured): one throwaway robot runs whole episodes, so that every skill's code
 * is compiled, and each robot runs its first second, so that its world's memory is touched.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { BuiltinPlanner } from '../../src/control/brain/index.ts';
import { LAYER_NAMES, type LayerName } from '../../src/control/contracts.ts';
import { ARM_SCENES, RobotStack } from '../../src/control/stack/index.ts';
import { loadEmbodiment } from '../../src/embodiment/index.ts';
import type { ControlReply, ControlRequest, ControlWorkerData, LayerSnapshot } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('bench/control/worker must run in a worker thread');
const init = workerData as ControlWorkerData;
const post = (m: ControlReply) => port.postMessage(m);
const INSTRUCTION = 'put the red cube in the bin';
const WARM_UP_EPISODES = 2;
const WARM_UP_TICKS = 500;
const WARM_UP_SEED = 1_000_000;
/**
 * A controller collects garbage at a safe point, between control slices, as real-time runtimes do: the
 * ticks allocate ~200 B each, so the young generation fills every few seconds and V8 would otherwise
 * scavenge in the middle of whichever layer allocated last. 10 slices of 20 ms allocate well under 1 MB.
 */
const YOUNG_GC_EVERY_SLICES = 10;
const OLD_GC_EVERY_SLICES = 200;
v8.setFlagsFromString('--expose-gc');
/** V8's gc(): a full collection without options, a scavenge with { type: 'minor' }. */
const collect = vm.runInNewContext('gc') as ((opts?: { type: 'minor' }) => void) | undefined;

try {
  const arm = loadEmbodiment('arm7');
  const scene = ARM_SCENES['factory/pick-place']!;
  const planner = new BuiltinPlanner();
  const stacks: RobotStack[] = [];
  for (const _ of init.robots) {
    stacks.push(await RobotStack.create({ robot: arm, scene, brain: { planner, placement: 'edge' } }));
  }
  await warmUp(arm, scene, planner);
  // Each robot's first ticks touch its world's memory for the first time (page faults of a few ms on a
  // virtual machine): a short unmeasured episode first, then its totals start from zero.
  for (const s of stacks) {
    s.begin(INSTRUCTION, WARM_UP_SEED);
    await tickUntilDone(s, WARM_UP_TICKS);
    s.resetTotals();
  }
  const episode = new Array<number>(stacks.length).fill(0);
  const seedOf = (k: number) => init.seed + init.robots[k]! + 1000 * episode[k]!;
  for (let k = 0; k < stacks.length; k++) stacks[k]!.begin(INSTRUCTION, seedOf(k));
  const go = new Promise<void>((resolve) =>
    port.once('message', (m: ControlRequest) => {
      if (m.type === 'go') resolve();
    }),
  );
  post({ type: 'ready' });
  await go;

  let successes = 0;
  let safeStops = 0;
  let episodes = 0;
  const dt = stacks[0]!.world.timestepSec;
  const sliceTicks = Math.max(1, Math.round(init.sliceSec / dt));
  const totalTicks = Math.round(init.seconds / dt);
  let stackMs = 0;
  let slices = 0;
  collect?.();
  const wall0 = performance.now();
  let lastProgress = wall0;
  for (let done = 0; done < totalTicks; done += sliceTicks) {
    const n = Math.min(sliceTicks, totalTicks - done);
    for (let k = 0; k < stacks.length; k++) {
      const s = stacks[k]!;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const wait = s.tick();
        if (wait) await wait;
        if (s.done) {
          const o = s.outcome();
          episodes++;
          if (o.success) successes++;
          if (o.safeStop) safeStops++;
          episode[k]!++;
          s.begin(INSTRUCTION, seedOf(k));
        }
      }
      stackMs += performance.now() - t0;
    }
    if (collect && ++slices % YOUNG_GC_EVERY_SLICES === 0) {
      // Collect the young generation here, between slices, rather than letting a scavenge land inside some
      // layer's tick (where it counts as that layer's latency). Its time is control work all the same.
      const g0 = performance.now();
      // Every OLD_GC_EVERY_SLICES the old generation too (episode records and plans age into it; V8's
      // own full collection, ~6-11 ms, otherwise lands inside a tick).
      if (slices % OLD_GC_EVERY_SLICES === 0) collect();
      else collect({ type: 'minor' });
      stackMs += performance.now() - g0;
    }
    const now = performance.now();
    if (now - lastProgress > 1000) {
      lastProgress = now;
      post({ type: 'progress', simSec: (done + n) * dt });
    }
  }
  const wallSec = (performance.now() - wall0) / 1000;
  for (const s of stacks) s.endEpisode();
  const simSec = Math.min(...stacks.map((s) => s.simSecTotal));

  const layers = {} as Record<LayerName, LayerSnapshot>;
  for (const layer of LAYER_NAMES) {
    const t = stacks[0]!.telemetry[layer];
    for (const s of stacks.slice(1)) t.merge(s.telemetry[layer]);
    layers[layer] = {
      budgetMs: t.budgetMs,
      ticks: t.ticks,
      misses: t.misses,
      faults: t.faults,
      preempted: t.preempted,
      maxWallMs: t.maxWallMs,
      histogram: t.histogram.snapshot(),
    };
  }
  for (const s of stacks) s.dispose();
  post({
    type: 'done',
    result: {
      robots: stacks.length,
      simSec,
      stackSec: stackMs / 1000,
      wallSec,
      episodes,
      successes,
      safeStops,
      layers,
      physicsSec: stacks.reduce((sum, st) => sum + st.physicsMs, 0) / 1000,
    },
  });
} catch (err) {
  post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}

/**
 * Runs one throwaway robot through whole episodes before the timed run, as a controller is exercised
 * before it is given the motors: the first pass through each skill's code compiles it (2-9 ms ticks in
 * the first simulated seconds otherwise, which are the JIT's, not the controller's). Not measured.
 */
async function warmUp(
  arm: ReturnType<typeof loadEmbodiment>,
  scene: NonNullable<(typeof ARM_SCENES)[string]>,
  planner: BuiltinPlanner,
): Promise<void> {
  const s = await RobotStack.create({ robot: arm, scene, brain: { planner, placement: 'edge' } });
  try {
    for (let episode = 0; episode < WARM_UP_EPISODES; episode++) {
      s.begin(INSTRUCTION, WARM_UP_SEED + episode);
      await tickUntilDone(s, Number.POSITIVE_INFINITY);
      s.endEpisode();
    }
  } finally {
    s.dispose();
  }
}

/** Ticks `s` until its episode is done or `maxTicks` ran. */
async function tickUntilDone(s: RobotStack, maxTicks: number): Promise<void> {
  for (let i = 0; i < maxTicks && !s.done; i++) {
    const wait = s.tick();
    if (wait) await wait;
  }
}
