import type { Command } from 'commander';
import { FacilityNetwork, type NetworkUpSummary } from '../../facility/network.ts';
import { Facility, type UpSummary } from '../../facility/up.ts';
import { intArg } from '../args.ts';
import { commandContext } from '../context.ts';
import { printResult } from '../output.ts';
import { createProgress } from '../progress.ts';

interface UpFlags {
  episodes?: number;
  robots?: number;
  fps?: number;
  seed?: number;
  fields?: number;
  exit?: boolean;
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('start the hub and console, and drill simulated robots (pick-and-place) into a dataset')
    .option('--episodes <n>', 'episodes to drill (config up.episodes)', intArg(1, 100000))
    .option('--robots <n>', 'simulated robots, one thread each (config up.robots)', intArg(1, 1000))
    .option('--fps <n>', 'dataset frame rate (config up.fps)', intArg(1, 500))
    .option('--seed <n>', 'seed of the first episode (config up.seed)', intArg(0))
    .option(
      '--fields <n>',
      'run a 1+N network: the hub and N field agents (each with --robots robots and its own spool); the episodes are split across them',
      intArg(1, 100),
    )
    .option('--exit', 'exit after the drill instead of serving the console until Ctrl-C')
    .action(async (flags: UpFlags, cmd: Command) => {
      const up: Record<string, number> = {};
      for (const key of ['episodes', 'robots', 'fps', 'seed'] as const) {
        if (flags[key] !== undefined) up[key] = flags[key];
      }
      const ctx = commandContext(cmd, Object.keys(up).length ? { up } : {});
      const log = (line: string) => {
        if (!ctx.json) process.stderr.write(`${line}\n`);
      };
      if (flags.fields !== undefined) {
        await upNetwork(ctx, flags.fields, flags.exit === true, log);
        return;
      }

      const facility = await Facility.start(ctx.config);
      await drillThenServe(ctx, flags.exit === true, log, {
        intro: `Training Ground hub and console at ${facility.url}`,
        url: facility.url,
        stopping: 'finishing the dataset and catalog',
        interrupt: () => facility.interrupt(),
        run: (onProgress) => facility.runDrill({ onEpisode: onProgress }),
        human: humanSummary,
        close: () => facility.close(),
      });
    });
}

interface DrillProgress {
  episodesDone: number;
  successes: number;
}

/** One drilling facility, single or 1+N, as `tg up` runs it. */
interface DrillSession<S> {
  intro: string;
  url: string;
  /** What the first Ctrl-C does, in words. */
  stopping: string;
  interrupt(): Promise<unknown>;
  run(onProgress: (s: DrillProgress) => void): Promise<S>;
  human(summary: S): string;
  close(): Promise<void>;
}

/**
 * Drills with a progress bar, prints the summary, then serves the console until Ctrl-C (unless `exit`).
 * The first Ctrl-C while drilling interrupts it (whole episodes are kept); a second one forces the exit.
 */
async function drillThenServe<S>(
  ctx: ReturnType<typeof commandContext>,
  exit: boolean,
  log: (line: string) => void,
  session: DrillSession<S>,
): Promise<void> {
  let interrupts = 0;
  let drilling = true;
  let release: () => void = () => {};
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    log(`\nstopping: ${session.stopping} (Ctrl-C again to force)`);
    if (drilling) void session.interrupt();
    else release();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    log(session.intro);
    log(`data in ${ctx.config.home}`);
    const bar = createProgress({ total: ctx.config.up.episodes, label: 'episodes', json: ctx.json });
    let summary: S;
    try {
      summary = await session.run((s) =>
        bar.update(s.episodesDone, {
          detail: s.episodesDone ? `success ${Math.round((100 * s.successes) / s.episodesDone)}%` : '',
        }),
      );
    } finally {
      bar.stop();
      drilling = false;
    }
    printResult(ctx, summary, () => session.human(summary));
    if (exit || interrupts > 0) return;
    log(`console: ${session.url} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await session.close();
  }
}

function humanSummary(s: UpSummary): string {
  const rate = `${(100 * s.successRate).toFixed(0)}%`;
  return [
    `${s.interrupted ? 'interrupted after' : 'drilled'} ${s.episodes} episode(s) on ${s.robots.length} robot(s) in ${s.durationSec}s: success ${rate}`,
    s.datasetPath ? `dataset: ${s.datasetPath}` : 'no dataset written (no whole episode)',
    s.dataYield === null
      ? ''
      : `data yield ${(100 * s.dataYield).toFixed(1)}% (${s.acceptedEpisodes} of ${s.episodes} episodes pass the quality checks; tg validate shows why)`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** `tg up --fields N`: the hub and N fields in this process (src/facility/network.ts). */
async function upNetwork(
  ctx: ReturnType<typeof commandContext>,
  fields: number,
  exit: boolean,
  log: (line: string) => void,
): Promise<void> {
  const facility = await FacilityNetwork.start(ctx.config, { fields });
  await drillThenServe<NetworkUpSummary>(ctx, exit, log, {
    intro: `Training Ground hub and console at ${facility.url}, ${fields} field(s)`,
    url: facility.url,
    stopping: 'cancelling the jobs, delivering what the fields recorded',
    interrupt: () => facility.interrupt(),
    run: (onProgress) => facility.run(onProgress),
    human: humanNetworkSummary,
    close: () => facility.close(),
  });
}

function humanNetworkSummary(s: NetworkUpSummary): string {
  const rate = `${(100 * s.successRate).toFixed(0)}%`;
  const head = `${s.interrupted ? 'interrupted after' : 'stored'} ${s.episodes} of ${s.planned} episode(s) from ${s.fields.length} field(s) over ${s.transport} in ${s.durationSec}s: success ${rate}`;
  const rows = s.fields.map(
    (f) =>
      `  ${f.name}: ${f.robots.length} robot(s), ${f.stored}/${f.planned} stored, ${f.recorded} recorded, ${f.delivered} delivered${f.spooled ? `, ${f.spooled} still spooled` : ''}`,
  );
  return [head, ...rows].join('\n');
}
