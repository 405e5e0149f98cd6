/**
 * The drill job a field is working on, kept on disk (`<home>/field-job.json`) so that a field that stops or
 * dies mid-job resumes it on its next start: with the lease it held (an HTTP lease token, a NATS ack
 * subject), on the same number of robots, skipping the episodes it already spooled. Without it a restarted
 * field would wait for its lease to run out and then record the whole job again.
 *
 * The journal also remembers the last jobs it finished: a job handed out again after the field finished it
 * (its acknowledgement was lost) is acknowledged at once instead of drilled twice.
 *
 * Written like the spool: temp file, fsync, rename, fsync of the directory.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TgError } from '../errors/index.ts';
import { DrillJobSchema } from '../hub/ingest/job-board.ts';

export const JobHandleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('http'), token: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('nats'), ackSubject: z.string().min(1) }).strict(),
]);
/** How the field tells the job's source that it is still working on it, and that it is done. */
export type JobHandle = z.infer<typeof JobHandleSchema>;

const CurrentJobSchema = z
  .object({
    job: DrillJobSchema,
    handle: JobHandleSchema,
    /** Robots the job runs on: episode k runs on robot k mod robots, on every attempt. */
    robots: z.number().int().min(1),
    /** Episode indexes already spooled. */
    recorded: z.array(z.number().int().min(0)),
  })
  .strict();
export type CurrentJob = z.infer<typeof CurrentJobSchema>;

const JournalSchema = z
  .object({ current: CurrentJobSchema.nullable(), finished: z.array(z.string()) })
  .strict();
type JournalState = z.infer<typeof JournalSchema>;

/** Finished job ids remembered. */
const FINISHED_KEPT = 200;
const FILE_NAME = 'field-job.json';

export class JobJournal {
  private state: JournalState;
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    state: JournalState,
  ) {
    this.state = state;
  }

  /** Opens the journal in `dir` (created when missing). A journal that does not parse is a STORAGE_FAILED. */
  static open(dir: string): JobJournal {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, FILE_NAME);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return new JobJournal(file, { current: null, finished: [] });
      }
      throw new TgError('STORAGE_FAILED', `job journal ${file}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: ReturnType<typeof JournalSchema.safeParse>;
    try {
      parsed = JournalSchema.safeParse(JSON.parse(text));
    } catch (err) {
      throw new TgError('STORAGE_FAILED', `job journal ${file} is not JSON: ${(err as Error).message}`);
    }
    if (!parsed.success) {
      throw new TgError('STORAGE_FAILED', `job journal ${file}: ${parsed.error.issues[0]?.message}`);
    }
    return new JobJournal(file, parsed.data);
  }

  /** The job in progress when the field last stopped, or null. */
  get current(): CurrentJob | null {
    return this.state.current;
  }

  /** Whether the field finished job `id` (recently). */
  finished(id: string): boolean {
    return this.state.finished.includes(id);
  }

  begin(job: CurrentJob['job'], handle: JobHandle, robots: number): Promise<void> {
    return this.update(() => ({ ...this.state, current: { job, handle, robots, recorded: [] } }));
  }

  /** Episode `episodeIndex` of the current job is spooled. */
  recorded(episodeIndex: number): Promise<void> {
    return this.update(() => {
      const current = this.state.current;
      if (!current || current.recorded.includes(episodeIndex)) return this.state;
      return { ...this.state, current: { ...current, recorded: [...current.recorded, episodeIndex] } };
    });
  }

  /** The current job is over: finished (remembered), or given up (`remember` false: lease lost). */
  end(id: string, remember: boolean): Promise<void> {
    return this.update(() => ({
      current: this.state.current?.job.id === id ? null : this.state.current,
      finished: remember ? [...this.state.finished, id].slice(-FINISHED_KEPT) : this.state.finished,
    }));
  }

  /** Applies `next` to the state and writes it; writes run one at a time in call order. */
  private update(next: () => JournalState): Promise<void> {
    const run = this.writes.then(async () => {
      this.state = next();
      await writeDurably(this.file, `${JSON.stringify(this.state)}\n`);
    });
    this.writes = run.catch(() => {});
    return run;
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    throw new TgError('STORAGE_FAILED', `job journal ${file}: ${(err as Error).message}`, { cause: err });
  }
}
