import type { Command } from 'commander';
import { type BenchResult, toResult } from '../../../bench/harness.ts';
import { benchmarkNames, loadBenchmark } from '../../../bench/registry.ts';
import { TgError } from '../../errors/index.ts';
import { commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';
import { createProgress } from '../progress.ts';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark from bench/ ("all" runs every one); benchmark flags follow the name`)
    .argument('[name]', `one of: all, ${benchmarkNames().join(', ')}`, 'all')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (name: string, _opts, cmd: Command) => {
      const ctx = commandContext(cmd);
      const rest = cmd.args.slice(1);
      const names = name === 'all' ? benchmarkNames() : [name];
      if (name === 'all' && rest.length > 0)
        throw new TgError('USAGE', 'benchmark flags need a benchmark name');
      const results: BenchResult[] = [];
      for (const n of names) {
        const bench = await loadBenchmark(n);
        const parsed = bench.options.safeParse(parseBenchFlags(rest));
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new TgError('USAGE', `bench ${n}: --${issue?.path.join('.')}: ${issue?.message}`);
        }
        const bar = createProgress({ total: 100, label: `bench ${n}`, json: ctx.json });
        try {
          const measured = await bench.run(parsed.data, {
            progress: (f, detail) => bar.update(Math.round(f * 100), { detail: detail ?? '' }),
          });
          results.push(...measured.map((m) => toResult(n, m)));
        } finally {
          bar.stop();
        }
      }
      printResult(ctx, names.length === 1 && results.length === 1 ? results[0] : results, () =>
        formatTable(
          ['benchmark', 'metric', 'value', 'baseline', 'ratio', 'unit'],
          results.map((r) => [r.name, r.metric, fmt(r.value), fmt(r.baseline), r.ratio, r.unit]),
        ),
      );
    });
}

/** `--robots 10 --seconds=5 --flag` -> { robots: '10', seconds: '5', flag: true }; zod coerces the types. */
export function parseBenchFlags(args: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new TgError('USAGE', `unexpected argument "${arg}"`);
    const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) out[key] = inline;
    else if (args[i + 1] !== undefined && !args[i + 1]?.startsWith('--')) out[key] = args[++i] ?? '';
    else out[key] = true;
  }
  return out;
}

function fmt(n: number): string {
  return Math.abs(n) >= 1000 ? Math.round(n).toString() : n.toPrecision(4);
}
