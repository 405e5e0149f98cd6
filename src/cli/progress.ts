import cliProgress from 'cli-progress';

/** A progress bar on a TTY; a silent no-op in --json mode or when stderr is not a terminal. */
export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export function createProgress(opts: {
  total: number;
  label: string;
  json: boolean;
  stream?: NodeJS.WriteStream;
}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.json || !stream.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${opts.label} [{bar}] {value}/{total} {detail}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(opts.total, 0, { detail: '' });
  return {
    update(done, payload) {
      bar.update(done, { detail: payload?.detail ?? '' });
    },
    stop() {
      bar.stop();
    },
  };
}
