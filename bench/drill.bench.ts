import { z } from 'zod';
import { runPickPlaceEpisode } from '../src/control/episode-loop.ts';
import { Recorder } from '../src/data/recorder.ts';
import { loadEmbodiment } from '../src/embodiment/index.ts';
import { loadMujoco } from '../src/sim/mujoco.ts';
import { pickPlaceScene } from '../src/sim/scenes/pick-place.ts';
import { compileScene } from '../src/sim/scenes/scene.ts';
import { SceneWorld } from '../src/sim/scenes/scene-world.ts';
import { defineBenchmark } from './harness.ts';

/**
 * The drill's per-step cost (physics + spine every step, IK skill at 100 Hz, recorder at 30 fps) against a
 * bare `mj_step` loop on the same compiled scene, one thread each, in the same run.
 */
export default defineBenchmark({
  name: 'drill',
  description: 'pick-and-place episode loop (physics + control + recording) vs bare mj_step',
  options: z.object({ episodes: z.coerce.number().int().min(1).max(1000).default(20) }).strict(),
  async run({ episodes }, ctx) {
    const world = await SceneWorld.create(pickPlaceScene());
    const recorder = new Recorder({
      fps: 30,
      features: { 'observation.state': world.stateDim, action: world.actionDim },
    });
    const frame: Record<string, Float32Array> = {};
    let steps = 0;
    let successes = 0;
    const t0 = performance.now();
    for (let k = 0; k < episodes; k++) {
      const r = runPickPlaceEpisode({
        world,
        seed: k,
        onFrame: (t, state, action) => {
          frame['observation.state'] = state;
          frame.action = action;
          recorder.record(t, frame);
        },
      });
      recorder.discard();
      steps += Math.round(r.simSec / world.timestepSec);
      if (r.success) successes++;
      ctx.progress((k + 1) / (episodes + 1), `episode ${k + 1}/${episodes}`);
    }
    const drillSec = (performance.now() - t0) / 1000;
    world.dispose();

    const mj = await loadMujoco();
    const model = compileScene(mj, pickPlaceScene(loadEmbodiment('arm7')));
    const data = new mj.MjData(model);
    const timestepSec = model.opt.timestep;
    const t1 = performance.now();
    for (let i = 0; i < steps; i++) mj.mj_step(model, data);
    const bareSec = (performance.now() - t1) / 1000;
    data.delete();
    model.delete();
    ctx.progress(1);

    const stepsPerSec = steps / drillSec;
    const baselineStepsPerSec = steps / bareSec;
    return [
      {
        metric: 'stepsPerSec',
        value: Math.round(stepsPerSec),
        unit: 'steps/s',
        baseline: Math.round(baselineStepsPerSec),
        higherIsBetter: true,
        details: {
          episodes,
          steps,
          successRate: successes / episodes,
          realTimeFactor: Math.round((steps * timestepSec) / drillSec),
          overheadRatio: Math.round((baselineStepsPerSec / stepsPerSec) * 1000) / 1000,
        },
      },
    ];
  },
});
