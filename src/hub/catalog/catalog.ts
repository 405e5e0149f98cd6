import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import { openPgliteDatabase, type SqlDatabase, type SqlExecutor } from './database.ts';
import { MIGRATIONS, MIGRATIONS_LOCK_KEY, MIGRATIONS_TABLE_SQL, type Migration } from './migrations.ts';
import { openPgDatabase } from './pg-database.ts';
import {
  type CatalogCounts,
  CURRICULUM_PHASES,
  type DatasetInput,
  type DatasetRow,
  EPISODE_SOURCES,
  type EpisodeInput,
  type EpisodeRow,
  type FieldInput,
  type FieldRow,
  type InsertEpisodesResult,
  type ListEpisodesOptions,
  type RobotInput,
  type RobotRow,
} from './types.ts';

/** Where the catalog lives: an embedded PGlite directory, or a PostgreSQL server (TG_DATABASE_URL). */
export type CatalogOpenOptions =
  | {
      /** PGlite data directory (created if missing), normally `<TG_HOME>/catalog`; `memory://` for a throwaway one. */
      dataDir: string;
    }
  | {
      /** postgres:// or postgresql:// connection string of a PostgreSQL server. */
      databaseUrl: string;
    };

/** Rows per INSERT statement: 250 x 13 parameters stays far below PostgreSQL's 65535-parameter limit. */
const EPISODE_INSERT_CHUNK = 250;

const id = z.string().trim().min(1).max(200);
const label = z.string().trim().min(1).max(500);

const fieldSchema = z.object({ id, name: label });
const robotSchema = z.object({
  id,
  name: label,
  embodiment: label,
  embodimentHash: label,
  vendor: label,
  field: id,
});
const datasetSchema = z.object({
  name: id,
  path: z.string().min(1),
  fps: z.number().int().positive(),
  robotType: label,
});
const episodeSchema = z.object({
  id,
  robotId: id,
  episodeIndex: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  task: label,
  instruction: z.string().max(10_000),
  source: z.enum(EPISODE_SOURCES),
  phase: z.enum(CURRICULUM_PHASES),
  success: z.boolean(),
  seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  length: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  durationSec: z.number().finite().min(0),
  recordedAt: z.union([z.date(), z.iso.datetime({ offset: true })]).transform((v) => new Date(v)),
});
const listEpisodesSchema = z.object({
  limit: z.number().int().min(1).max(10_000),
  offset: z.number().int().min(0),
  robotId: id.optional(),
});

/**
 * The hub's catalog of fields, robots, datasets and episodes. Embedded PGlite by default; every query is
 * portable PostgreSQL so a `pg`-backed `SqlDatabase` serves the same class at scale.
 */
export class Catalog {
  readonly #db: SqlDatabase;

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /**
   * Opens (creating if needed) the catalog in `dataDir` (PGlite) or at `databaseUrl` (PostgreSQL) and brings
   * its schema up to date. Both run the same migrations and the same SQL.
   */
  static async open(opts: CatalogOpenOptions): Promise<Catalog> {
    const where = 'databaseUrl' in opts ? redactUrl(opts.databaseUrl) : opts.dataDir;
    let db: SqlDatabase;
    try {
      db =
        'databaseUrl' in opts
          ? await openPgDatabase(opts.databaseUrl)
          : await openPgliteDatabase(opts.dataDir);
    } catch (err) {
      throw new TgError('STORAGE_FAILED', `cannot open catalog at ${where}: ${messageOf(err)}`, {
        cause: err,
      });
    }
    try {
      await migrate(db, MIGRATIONS);
    } catch (err) {
      await db.close().catch(() => {});
      throw toTgError(err, `migrating catalog at ${where}`);
    }
    return new Catalog(db);
  }

  /** The SQL seam under this catalog, for hub modules that keep their own tables (datasets, analytics). */
  get database(): SqlDatabase {
    return this.#db;
  }

  /** Versions of the migrations applied to this catalog, ascending. */
  async appliedMigrations(): Promise<number[]> {
    const rows = await this.#db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    return rows.map((r) => Number(r.version));
  }

  async upsertField(input: FieldInput): Promise<FieldRow> {
    const f = parse(fieldSchema, input, 'field');
    const rows = await this.#run('upserting field', (db) =>
      db.query<Record<string, unknown>>(
        `INSERT INTO fields (id, name) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
         RETURNING id, name, created_at, updated_at`,
        [f.id, f.name],
      ),
    );
    const row = rows[0]!;
    return {
      id: String(row.id),
      name: String(row.name),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
  }

  /** Adds or updates a robot. Its field is created (named after its id) when the catalog does not know it. */
  async upsertRobot(input: RobotInput): Promise<RobotRow> {
    const r = parse(robotSchema, input, 'robot');
    await this.#run('upserting robot', (db) =>
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO fields (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [
          r.field,
        ]);
        await tx.query(
          `INSERT INTO robots (id, name, embodiment, embodiment_hash, vendor, field_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET
             name = EXCLUDED.name, embodiment = EXCLUDED.embodiment,
             embodiment_hash = EXCLUDED.embodiment_hash, vendor = EXCLUDED.vendor,
             field_id = EXCLUDED.field_id, updated_at = now()`,
          [r.id, r.name, r.embodiment, r.embodimentHash, r.vendor, r.field],
        );
      }),
    );
    const robot = (await this.#selectRobots('WHERE r.id = $1', [r.id]))[0];
    if (!robot) throw new TgError('STORAGE_FAILED', `robot ${r.id} vanished right after it was written`);
    return robot;
  }

  /** Adds a dataset, or updates its path, fps and robot type when the name exists. */
  async registerDataset(input: DatasetInput): Promise<DatasetRow> {
    const d = parse(datasetSchema, input, 'dataset');
    const rows = await this.#run('registering dataset', (db) =>
      db.query<Record<string, unknown>>(
        `INSERT INTO datasets (name, path, fps, robot_type) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET
           path = EXCLUDED.path, fps = EXCLUDED.fps, robot_type = EXCLUDED.robot_type
         RETURNING name, path, fps, robot_type, created_at`,
        [d.name, d.path, d.fps, d.robotType],
      ),
    );
    const row = rows[0]!;
    return {
      name: String(row.name),
      path: String(row.path),
      fps: Number(row.fps),
      robotType: String(row.robot_type),
      createdAt: iso(row.created_at),
    };
  }

  /**
   * Adds episodes to a dataset in one transaction: either every episode is in the catalog afterwards or,
   * on any error, none of this batch is. An id already present is skipped (ids are content hashes, so it
   * is the same episode sent again).
   */
  async insertEpisodes(datasetName: string, episodes: EpisodeInput[]): Promise<InsertEpisodesResult> {
    const dataset = parse(id, datasetName, 'dataset name');
    const rows = episodes.map((e, i) => parse(episodeSchema, e, `episode ${i} (${describeId(e)})`));
    if (rows.length === 0) return { inserted: 0, skipped: 0 };
    const inserted = await this.#run(`inserting ${rows.length} episodes into dataset ${dataset}`, (db) =>
      db.transaction(async (tx) => {
        const known = await tx.query('SELECT 1 FROM datasets WHERE name = $1', [dataset]);
        if (known.length === 0) {
          throw new TgError(
            'NOT_FOUND',
            `dataset ${dataset} is not registered (register it before adding episodes)`,
          );
        }
        let count = 0;
        for (let start = 0; start < rows.length; start += EPISODE_INSERT_CHUNK) {
          count += await insertEpisodeChunk(tx, dataset, rows.slice(start, start + EPISODE_INSERT_CHUNK));
        }
        return count;
      }),
    );
    return { inserted, skipped: rows.length - inserted };
  }

  /** All robots, by id, with their episode counts. */
  listRobots(): Promise<RobotRow[]> {
    return this.#selectRobots('', []);
  }

  /** A page of episodes, newest recording first (ties broken by id so pages are stable). */
  async listEpisodes(opts: ListEpisodesOptions): Promise<EpisodeRow[]> {
    const o = parse(listEpisodesSchema, opts, 'episode listing');
    const rows = await this.#run('listing episodes', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT id, dataset_name, robot_id, episode_index, task, instruction, source, phase, success, seed,
                length, duration_sec, recorded_at
         FROM episodes
         WHERE ($3::text IS NULL OR robot_id = $3::text)
         ORDER BY recorded_at DESC, episode_index DESC, id
         LIMIT $1 OFFSET $2`,
        [o.limit, o.offset, o.robotId ?? null],
      ),
    );
    return rows.map(toEpisodeRow);
  }

  /** Number of episodes, optionally of one robot (for paging). */
  async countEpisodes(opts: { robotId?: string } = {}): Promise<number> {
    const rows = await this.#run('counting episodes', (db) =>
      db.query<{ n: unknown }>(
        'SELECT count(*) AS n FROM episodes WHERE ($1::text IS NULL OR robot_id = $1::text)',
        [opts.robotId ?? null],
      ),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async counts(): Promise<CatalogCounts> {
    const rows = await this.#run('counting catalog rows', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT (SELECT count(*) FROM fields) AS fields,
                (SELECT count(*) FROM robots) AS robots,
                (SELECT count(*) FROM datasets) AS datasets,
                (SELECT count(*) FROM episodes) AS episodes,
                (SELECT count(*) FROM episodes WHERE success) AS successful_episodes`,
      ),
    );
    const row = rows[0] ?? {};
    return {
      fields: Number(row.fields ?? 0),
      robots: Number(row.robots ?? 0),
      datasets: Number(row.datasets ?? 0),
      episodes: Number(row.episodes ?? 0),
      successfulEpisodes: Number(row.successful_episodes ?? 0),
    };
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async #selectRobots(where: string, params: unknown[]): Promise<RobotRow[]> {
    const rows = await this.#run('listing robots', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT r.id, r.name, r.embodiment, r.embodiment_hash, r.vendor, r.field_id, r.created_at, r.updated_at,
                (SELECT count(*) FROM episodes e WHERE e.robot_id = r.id) AS episode_count
         FROM robots r ${where}
         ORDER BY r.id`,
        params,
      ),
    );
    return rows.map((row) => ({
      id: String(row.id),
      name: String(row.name),
      embodiment: String(row.embodiment),
      embodimentHash: String(row.embodiment_hash),
      vendor: String(row.vendor),
      field: String(row.field_id),
      episodeCount: Number(row.episode_count),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    }));
  }

  async #run<T>(what: string, fn: (db: SqlDatabase) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#db);
    } catch (err) {
      throw toTgError(err, what);
    }
  }
}

/** Creates the bookkeeping table, then applies every migration not yet recorded, all in one transaction. */
async function migrate(db: SqlDatabase, migrations: readonly Migration[]): Promise<void> {
  await db.transaction(async (tx) => {
    // Serializes concurrent openers on a shared PostgreSQL server (N hub processes starting at once). It
    // comes first: even CREATE TABLE IF NOT EXISTS races on the system catalogs when two run together. The
    // lock is released with the transaction; on PGlite (one connection) it never contends.
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATIONS_LOCK_KEY}::bigint)`);
    await tx.exec(MIGRATIONS_TABLE_SQL);
    const applied = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) =>
        Number(r.version),
      ),
    );
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new TgError(
        'STORAGE_FAILED',
        `catalog schema is at version ${newest} but this tg knows only up to ${known}: upgrade tg`,
      );
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
  });
}

type ParsedEpisode = z.output<typeof episodeSchema>;

async function insertEpisodeChunk(tx: SqlExecutor, dataset: string, rows: ParsedEpisode[]): Promise<number> {
  const params: unknown[] = [];
  const tuples = rows.map((e) => {
    const values = [
      e.id,
      dataset,
      e.robotId,
      e.episodeIndex,
      e.task,
      e.instruction,
      e.source,
      e.phase,
      e.success,
      e.seed,
      e.length,
      e.durationSec,
      e.recordedAt.toISOString(),
    ];
    const placeholders = values.map((_, i) => `$${params.length + i + 1}`);
    params.push(...values);
    return `(${placeholders.join(', ')})`;
  });
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO episodes (id, dataset_name, robot_id, episode_index, task, instruction, source, phase, success,
                           seed, length, duration_sec, recorded_at)
     VALUES ${tuples.join(',\n')}
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    params,
  );
  return inserted.length;
}

function toEpisodeRow(row: Record<string, unknown>): EpisodeRow {
  return {
    id: String(row.id),
    datasetName: String(row.dataset_name),
    robotId: String(row.robot_id),
    episodeIndex: Number(row.episode_index),
    task: String(row.task),
    instruction: String(row.instruction),
    source: row.source as EpisodeRow['source'],
    phase: row.phase as EpisodeRow['phase'],
    success: Boolean(row.success),
    seed: Number(row.seed),
    length: Number(row.length),
    durationSec: Number(row.duration_sec),
    recordedAt: iso(row.recorded_at),
  };
}

function iso(v: unknown): string {
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const reasons = result.error.issues
    .map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    .join('; ');
  throw new TgError('INPUT_INVALID', `invalid ${what}: ${reasons}`);
}

function describeId(e: unknown): string {
  const v = (e as { id?: unknown } | null)?.id;
  return typeof v === 'string' ? v : 'no id';
}

/** PostgreSQL SQLSTATE classes that mean "the input broke a constraint", not "storage is broken". */
const CONSTRAINT_SQLSTATES: Record<string, string> = {
  '23502': 'a required value is missing',
  '23503': 'it refers to something the catalog does not have',
  '23505': 'it duplicates an existing key',
  '23514': 'a value is out of range',
};

function toTgError(err: unknown, what: string): TgError {
  if (err instanceof TgError) return err;
  const pg = err as { code?: unknown; detail?: unknown };
  const code = typeof pg.code === 'string' ? pg.code : '';
  const reason = CONSTRAINT_SQLSTATES[code];
  const detail = typeof pg.detail === 'string' && pg.detail ? ` (${pg.detail})` : '';
  if (reason) return new TgError('INPUT_INVALID', `${what} failed: ${reason}${detail}`, { cause: err });
  return new TgError('STORAGE_FAILED', `${what} failed: ${messageOf(err)}${detail}`, { cause: err });
}

/** A connection string without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database URL';
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
