import { z } from 'zod';
import { runFleetBench } from '../src/sim/fleet/index.ts';
import { defineBenchmark } from './harness.ts';

/**
 * The fleet simulator (hold-position robots, sensors copied every step, all workers) against a bare
 * `mj_step` loop on the same model, one thread, in the same run. Details carry the `tg sim bench` object.
 */
export default defineBenchmark({
  name: 'sim',
  description: 'fleet simulator robot steps/s (all workers) vs bare mj_step on one thread',
  options: z
    .object({
      model: z.enum(['arm7', 'humanoid']).default('arm7'),
      robots: z.coerce.number().int().min(1).max(100_000).default(100),
      seconds: z.coerce.number().min(0.01).max(3600).default(3),
      workers: z.coerce.number().int().min(1).max(1024).optional(),
    })
    .strict(),
  async run({ model, robots, seconds, workers }, ctx) {
    const details = await runFleetBench({
      model,
      robots,
      seconds,
      workers,
      onProgress: (f, detail) => ctx.progress(f, detail),
    });
    return [
      {
        metric: 'stepsPerSec',
        value: details.stepsPerSec,
        unit: 'steps/s',
        baseline: details.baselineStepsPerSec,
        higherIsBetter: true,
        details: { ...details },
      },
    ];
  },
});
