/** Starting the benchmark's child processes (TypeScript through tsx) and talking to them over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import type { ChildMessage, ParentMessage } from './protocol.ts';

const TSX = import.meta.resolve('tsx');

export interface Child {
  name: string;
  process: ChildProcess;
  /** The next message of `type` (rejects when the child reports an error or exits first). */
  next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>>;
  send(message: ParentMessage): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

export function startChild(name: string, script: string, config: unknown): Child {
  const child = fork(new URL(script, import.meta.url).pathname, [JSON.stringify(config)], {
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: ChildMessage[] = [];
  const waiters: Array<() => void> = [];
  let exited: string | null = null;
  child.on('message', (m: ChildMessage) => {
    inbox.push(m);
    for (const w of waiters.splice(0)) w();
  });
  child.on('exit', (code, signal) => {
    exited = `${name} exited (${signal ?? code})`;
    for (const w of waiters.splice(0)) w();
  });
  return {
    name,
    process: child,
    async next(type) {
      for (;;) {
        const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) {
          const [m] = inbox.splice(i, 1) as [ChildMessage];
          if (m.type === 'error') throw new Error(`${name}: ${m.message}`);
          return m as never;
        }
        if (exited) throw new Error(`${exited} before sending '${type}'`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    send(message) {
      child.send(message);
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
    },
  };
}

/** In a child: its config, and a way to report. */
export function childConfig<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export function report(message: ChildMessage): void {
  process.send?.(message);
}

/** Resolves with the parent's next message of `type`. */
export function whenParentSays<T extends ParentMessage['type']>(
  type: T,
): Promise<Extract<ParentMessage, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: ParentMessage) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve(m as Extract<ParentMessage, { type: T }>);
    };
    process.on('message', on);
  });
}

/** Runs a child's main, reporting a failure to the parent instead of dying silently. */
export function runChild(main: () => Promise<void>): void {
  // The coordinator is gone (killed, crashed): do not linger.
  process.once('disconnect', () => process.exit(1));
  main().catch((err: unknown) => {
    report({ type: 'error', message: (err as Error).stack ?? String(err) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
}
