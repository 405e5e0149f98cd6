import type { Command } from 'commander';
import { TgError } from '../../errors/index.ts';
import { type FleetModelName, runFleetBench } from '../../sim/fleet/index.ts';
import { intArg, numberArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';
import { createProgress } from '../progress.ts';

const MODELS: FleetModelName[] = ['arm7', 'humanoid'];

interface SimBenchFlags {
  model: string;
  robots: number;
  seconds: number;
  workers?: number;
  modelPerRobot?: boolean;
  batchMs: number;
}

export function registerSimCommand(program: Command): void {
  const sim = program.command('sim').description('simulated robots: the fleet simulator');
  sim
    .command('bench')
    .description('run N robots across worker threads and compare with a bare mj_step loop on the same model')
    .option('--model <name>', `robot: ${MODELS.join(' | ')}`, 'arm7')
    .option('--robots <n>', 'robots in the fleet', intArg(1, 100_000), 100)
    .option('--seconds <s>', 'simulated seconds per run', numberArg(0.01, 3600), 5)
    .option('--workers <n>', 'worker threads (default: available parallelism)', intArg(1, 1024))
    .option('--model-per-robot', 'compile one MjModel per robot instead of one per worker')
    .option('--batch-ms <ms>', 'simulated milliseconds per lock-step batch', numberArg(0.1, 1000), 10)
    .action(async (opts: SimBenchFlags, cmd: Command) => {
      const ctx = commandContext(cmd);
      if (!MODELS.includes(opts.model as FleetModelName)) {
        throw new TgError('USAGE', `--model: expected one of ${MODELS.join(', ')}, got "${opts.model}"`);
      }
      const bar = createProgress({ total: 100, label: 'sim bench', json: ctx.json });
      let result: Awaited<ReturnType<typeof runFleetBench>>;
      try {
        result = await runFleetBench({
          model: opts.model as FleetModelName,
          robots: opts.robots,
          seconds: opts.seconds,
          workers: opts.workers,
          modelPerRobot: opts.modelPerRobot ?? false,
          batchSec: opts.batchMs / 1000,
          onProgress: (f, detail) => bar.update(Math.round(f * 100), { detail }),
        });
      } finally {
        bar.stop();
      }
      printResult(ctx, result, () =>
        formatTable(
          ['field', 'value'],
          Object.entries(result).map(([k, v]) => [k, v === null ? '-' : String(v)]),
        ),
      );
    });
}
