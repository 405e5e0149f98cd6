/**
 * A `tg` child process of the chaos benchmark: started through bench/chaos/tg-node.ts, its output kept
 * line by line, killed with SIGKILL (no chance to clean up) or stopped with SIGINT.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const ENTRY = new URL('./tg-node.ts', import.meta.url).pathname;

/** Children still running: killed when the benchmark exits or is interrupted, so none outlives it. */
const live = new Set<ChildProcess>();
let reaperInstalled = false;

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export class TgProcess {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private readonly exit: Promise<number | null>;
  private listeners: Array<(line: string) => void> = [];
  private stdout = '';
  private exitCode: number | null | undefined;
  /** The signal that ended the process (SIGKILL after `kill9()`), null if it exited by itself. */
  exitSignal: NodeJS.Signals | null = null;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    installReaper();
    live.add(this.child);
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        this.exitCode = code;
        this.exitSignal = signal;
        resolve(code);
      }),
    );
    let partial = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        for (const l of this.listeners) l(line);
      }
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get output(): string {
    return this.stdout;
  }

  /** Calls `fn` for every stderr line from now on. */
  onLine(fn: (line: string) => void): void {
    this.listeners.push(fn);
  }

  /** Resolves when `check` is true of the stdout so far or of a stderr line; rejects on exit or timeout. */
  waitFor(what: string, check: (stdout: string, line: string | null) => boolean, timeoutMs = 60_000) {
    return new Promise<void>((resolve, reject) => {
      if (check(this.stdout, null) || this.lines.some((l) => check(this.stdout, l))) return resolve();
      if (this.exitCode !== undefined) {
        return reject(new Error(`${this.name} exited (${this.exitCode}) before ${what}:\n${this.tail()}`));
      }
      const timer = setTimeout(
        () => finish(new Error(`${this.name}: timed out waiting for ${what}`)),
        timeoutMs,
      );
      const onData = () => {
        if (check(this.stdout, null)) finish();
      };
      const onLine = (line: string) => {
        if (check(this.stdout, line)) finish();
      };
      const onExit = (code: number | null) =>
        finish(new Error(`${this.name} exited (${code}) waiting for ${what}:\n${this.tail()}`));
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.child.stdout?.off('data', onData);
        this.listeners = this.listeners.filter((l) => l !== onLine);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      this.child.stdout?.on('data', onData);
      this.listeners.push(onLine);
      this.child.once('exit', onExit);
    });
  }

  /** The last lines it wrote (for error messages). */
  tail(n = 20): string {
    return this.lines.slice(-n).join('\n');
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** kill -9 and wait until the process is gone. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exit;
  }

  /** Ctrl-C; resolves with the exit code (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}
