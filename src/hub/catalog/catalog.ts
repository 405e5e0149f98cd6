import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import { openPgliteDatabase, type SqlDatabase, type SqlExecutor } from './database.ts';
import { EpisodeReadModel } from './episode-read-model.ts';
import { MIGRATIONS, MIGRATIONS_LOCK_KEY, MIGRATIONS_TABLE_SQL, type Migration } from './migrations.ts';
import { openPgDatabase } from './pg-database.ts';
import { openPgliteThreadDatabase } from './pglite-thread.ts';
import { ReadCachedDatabase } from './read-cache.ts';
import {
  type CatalogCounts,
  CURRICULUM_PHASES,
  DATASET_STORAGES,
  type DatasetDefinitionRow,
  type DatasetInput,
  type DatasetRow,
  type DatasetVersionRow,
  EPISODE_SOURCES,
  type EpisodeFact,
  type EpisodeFilter,
  type EpisodeGroup,
  type EpisodeInput,
  type EpisodeRow,
  type FieldInput,
  type FieldRow,
  type InsertEpisodesOptions,
  type InsertEpisodesResult,
  type ListEpisodesOptions,
  QUALITY_VERDICTS,
  type QualityVerdict,
  type RobotInput,
  type RobotRow,
} from './types.ts';

/** Where the catalog lives: an embedded PGlite directory, or a PostgreSQL server (TG_DATABASE_URL). */
export type CatalogOpenOptions =
  | {
      /** PGlite data directory (created if missing), normally `<TG_HOME>/catalog`; `memory://` for a throwaway one. */
      dataDir: string;
      /** Run PGlite on a thread of its own (./pglite-thread.ts), so statements never block the caller's. */
      thread?: boolean;
    }
  | {
      /** postgres:// or postgresql:// connection string of a PostgreSQL server. */
      databaseUrl: string;
    };

/** Rows per INSERT statement (each column is one array parameter, so this only bounds a statement's size). */
const EPISODE_INSERT_CHUNK = 500;
/** Rows per statement of a non-atomic insert on the embedded database (see `insertEpisodeGroups`). */
const EMBEDDED_SHORT_INSERT_ROWS = 32;
/** Fewest new episodes that refresh the planner's statistics (see `#maybeAnalyze`). */
const ANALYZE_MIN_ROWS = 500;

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
  storage: z.enum(DATASET_STORAGES).default('lerobot'),
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
  // Together or not at all (the episodes_blob_complete constraint).
  blobSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')
    .optional(),
  blobBytes: z.number().int().positive().optional(),
  // The failed checks are stored with a verdict only (none listed: none failed; episodes_quality_complete).
  qualityVerdict: z.enum(QUALITY_VERDICTS).optional(),
  qualityFailed: z
    .array(z.string().regex(/^[a-z0-9-]{1,100}$/, 'must be a check name'))
    .max(100)
    .optional(),
});
const listEpisodesSchema = z.object({
  limit: z.number().int().min(1).max(10_000),
  offset: z.number().int().min(0),
  robotId: id.optional(),
});

/** Dataset names become directory and URL segments: lowercase, no path separators, no "..". */
export const DATASET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const datasetNameSchema = z
  .string()
  .regex(
    DATASET_NAME_PATTERN,
    'must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
  )
  .refine((n) => !n.includes('..'), 'must not contain ".."');

const oneOrMany = <T extends z.ZodType<string>>(item: T) =>
  z
    .union([item, z.array(item).min(1).max(1000)])
    .transform((v): z.output<T>[] => (Array.isArray(v) ? v : [v]));
const instant = z
  .union([z.date(), z.iso.datetime({ offset: true })])
  .transform((v) => new Date(v).toISOString());

/** A saved episode query (see `EpisodeFilter`); a single value is accepted where a list is. */
export const episodeFilterSchema = z
  .object({
    robot: oneOrMany(id).optional(),
    vendor: oneOrMany(label).optional(),
    task: oneOrMany(label).optional(),
    phase: oneOrMany(z.enum(CURRICULUM_PHASES)).optional(),
    field: oneOrMany(id).optional(),
    success: z.boolean().optional(),
    recordedFrom: instant.optional(),
    recordedTo: instant.optional(),
  })
  .strict()
  .refine((f) => !(f.recordedFrom && f.recordedTo) || f.recordedFrom < f.recordedTo, {
    message: 'recordedFrom must be before recordedTo',
    path: ['recordedTo'],
  });

/** What callers may pass as a filter: single values where lists are allowed, Dates for instants. */
export type EpisodeFilterInput = z.input<typeof episodeFilterSchema>;

/**
 * The hub's catalog of fields, robots, datasets and episodes. Embedded PGlite by default; every query is
 * portable PostgreSQL so a `pg`-backed `SqlDatabase` serves the same class at scale.
 */
export class Catalog {
  readonly #db: SqlDatabase;
  /** Episodes the table had when its planner statistics were last refreshed (null: not read yet). */
  #episodesAtAnalyze: number | null = null;
  #insertedSinceAnalyze = 0;
  #analyzing: Promise<void> | null = null;

  /** The embedded database (PGlite: one connection, a read waits for the statement running). */
  readonly #embedded: boolean;
  /** Embedded only: the episodes' hottest reads answered from memory (see ./episode-read-model.ts). */
  readonly #episodeModel: EpisodeReadModel | null;

  private constructor(db: SqlDatabase, embedded: boolean) {
    this.#db = db;
    this.#embedded = embedded;
    this.#episodeModel = embedded && db instanceof ReadCachedDatabase ? Catalog.#readModel(db) : null;
  }

  /** The embedded catalog's read model, told of every write that may change what it holds. */
  static #readModel(db: ReadCachedDatabase): EpisodeReadModel {
    const model = new EpisodeReadModel({
      idsAfter: async (after, limit) => {
        const rows = await db.query<{ j: string | null }>(
          `SELECT json_agg(id ORDER BY id)::text AS j
           FROM (SELECT id FROM episodes WHERE id > $1 ORDER BY id LIMIT $2) p`,
          [after, limit],
        );
        return JSON.parse(rows[0]?.j ?? '[]') as string[];
      },
      newest: (limit) =>
        selectEpisodeRows(
          db,
          `SELECT ${EPISODE_COLUMNS} FROM episodes ORDER BY ${NEWEST_FIRST} LIMIT $1`,
          [limit],
          NEWEST_FIRST,
        ),
    });
    // Any write that names the episodes table, other than this catalog's own inserts (which tell the
    // model what they committed), may have changed what the model holds.
    db.observeWrites((statements) => {
      if (statements.some((sql) => sql !== EPISODE_INSERT_SQL && /\bepisodes\b/i.test(sql))) {
        model.invalidate();
      }
    });
    return model;
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
          : // Embedded: this process is the only writer, so reads can be answered from a cache.
            new ReadCachedDatabase(
              opts.thread
                ? await openPgliteThreadDatabase(opts.dataDir)
                : await openPgliteDatabase(opts.dataDir),
            );
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
    return new Catalog(db, !('databaseUrl' in opts));
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
        `INSERT INTO datasets (name, path, fps, robot_type, storage) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET
           path = EXCLUDED.path, fps = EXCLUDED.fps, robot_type = EXCLUDED.robot_type,
           storage = EXCLUDED.storage
         RETURNING name, path, fps, robot_type, storage, created_at`,
        [d.name, d.path, d.fps, d.robotType, d.storage],
      ),
    );
    return toDatasetRow(rows[0]!);
  }

  /**
   * Adds episodes to a dataset in one transaction: either every episode is in the catalog afterwards or,
   * on any error, none of this batch is. An id already present is skipped (ids are content hashes, so it
   * is the same episode sent again).
   */
  async insertEpisodes(datasetName: string, episodes: EpisodeInput[]): Promise<InsertEpisodesResult> {
    return this.insertEpisodeGroups([{ dataset: datasetName, episodes }]);
  }

  /**
   * `insertEpisodes` for several datasets in one transaction (the hub's ingest commits in groups), or, with
   * `atomic: false`, in statements each atomic on its own (see `InsertEpisodesOptions`).
   */
  async insertEpisodeGroups(
    groups: readonly EpisodeGroup[],
    opts: InsertEpisodesOptions = {},
  ): Promise<InsertEpisodesResult> {
    const parsed = groups.map((g) => ({
      dataset: parse(id, g.dataset, 'dataset name'),
      rows: g.episodes.map((e, i) => parse(episodeSchema, e, `episode ${i} (${describeId(e)})`)),
    }));
    const total = parsed.reduce((n, g) => n + g.rows.length, 0);
    if (total === 0) return { inserted: 0, skipped: 0 };
    const names = [...new Set(parsed.map((g) => g.dataset))];
    const what = `inserting ${total} episodes into dataset ${names.join(', ')}`;
    // Datasets are only ever added (an import that fails removes the one it had just added, with no
    // episodes), so checking before the insert is as good as inside it; a dataset removed meanwhile still
    // fails the insert on its foreign key.
    const known = await this.#run(what, (db) =>
      db.query<{ name: string }>('SELECT name FROM datasets WHERE name = ANY($1::text[])', [names]),
    );
    const missing = names.find((n) => !known.some((k) => k.name === n));
    if (missing !== undefined) {
      throw new TgError(
        'NOT_FOUND',
        `dataset ${missing} is not registered (register it before adding episodes)`,
      );
    }
    // Every dataset's rows in one statement per chunk. One chunk is one statement, atomic on its own: no
    // transaction held open across round trips (each one is a message when the database runs on another
    // thread (pglite-thread.ts) or server, and reads wait behind an open transaction on PGlite meanwhile).
    const rows = parsed.flatMap(({ dataset, rows }) => rows.map((row) => ({ dataset, row })));
    this.#episodeModel?.willInsert(rows.map(({ row }) => row.id));
    // Non-atomic on PGlite: short statements, each committed on its own. Measured under full-speed ingest,
    // a 128-row insert held reads for 30-70 ms; in statements of 32 the API's server-side p99 fell from
    // 46-58 ms to 34-41 ms, at the same CPU per episode.
    const separately = opts.atomic === false && this.#embedded;
    const chunks = chunked(rows, separately ? EMBEDDED_SHORT_INSERT_ROWS : EPISODE_INSERT_CHUNK);
    let inserted = 0;
    // What went in, for the read model, once committed (before the caller is answered).
    const committed = (chunk: typeof rows, ids: ReadonlySet<string>) =>
      this.#episodeModel?.inserted(
        chunk.filter(({ row }) => ids.has(row.id)).map(({ dataset, row }) => insertedRow(dataset, row)),
      );
    try {
      if (separately || chunks.length === 1) {
        for (const chunk of chunks) {
          const ids = await this.#run(what, (db) => insertEpisodeChunk(db, chunk));
          committed(chunk, ids);
          inserted += ids.size;
        }
      } else {
        const ids = await this.#run(what, (db) =>
          db.transaction(async (tx) => {
            const all = new Set<string>();
            for (const chunk of chunks) for (const id of await insertEpisodeChunk(tx, chunk)) all.add(id);
            return all;
          }),
        );
        committed(rows, ids);
        inserted = ids.size;
      }
    } finally {
      if (inserted > 0) this.#maybeAnalyze(inserted);
    }
    return { inserted, skipped: total - inserted };
  }

  /**
   * Refreshes the episodes table's planner statistics once it grew by a quarter (at least
   * `ANALYZE_MIN_ROWS`) since the last time. PGlite has no autovacuum, so without this the planner goes on
   * believing the table is as small as when it was created, and picks plans for a few rows: a robot's
   * newest page sorted all of its episodes (11 ms at 1,500 of them) instead of reading 20 from the index.
   * Runs in the background; a failure is left for the next time.
   */
  #maybeAnalyze(inserted: number): void {
    this.#insertedSinceAnalyze += inserted;
    if (this.#analyzing) return;
    this.#analyzing = (async () => {
      this.#episodesAtAnalyze ??= await this.countEpisodes();
      const due = Math.max(ANALYZE_MIN_ROWS, this.#episodesAtAnalyze / 4);
      if (this.#insertedSinceAnalyze < due) return;
      const grown = this.#insertedSinceAnalyze;
      await this.#db.exec('ANALYZE episodes');
      this.#episodesAtAnalyze += grown;
      this.#insertedSinceAnalyze -= grown;
    })()
      .catch(() => {})
      .finally(() => {
        this.#analyzing = null;
      });
  }

  /** The episodes the catalog has among `ids` (in no particular order; unknown ids are left out). */
  async getEpisodes(ids: readonly string[]): Promise<EpisodeRow[]> {
    const asked = ids.map((v, i) => parse(id, v, `episode id ${i}`));
    // Ids the catalog certainly lacks need no statement.
    const wanted = asked.filter((v) => this.#episodeModel?.mayHave(v) !== false);
    if (wanted.length === 0) return [];
    // One id: a plain equality binds and plans faster than an array (the hub's lookup per HEAD request).
    const [where, param] = wanted.length === 1 ? ['id = $1', wanted[0]] : ['id = ANY($1::text[])', wanted];
    return this.#run(`reading ${wanted.length} episodes`, (db) =>
      selectEpisodeRows(db, `SELECT ${EPISODE_COLUMNS} FROM episodes WHERE ${where}`, [param]),
    );
  }

  /** The episode_index the next episode of `dataset` gets: one past the largest, 0 for an empty dataset. */
  async nextEpisodeIndex(datasetName: string): Promise<number> {
    const dataset = parse(id, datasetName, 'dataset name');
    const rows = await this.#run(`reading the episode count of dataset ${dataset}`, (db) =>
      db.query<{ next: unknown }>(
        'SELECT coalesce(max(episode_index) + 1, 0) AS next FROM episodes WHERE dataset_name = $1',
        [dataset],
      ),
    );
    return Number(rows[0]?.next ?? 0);
  }

  /** All robots, by id, with their episode counts. */
  listRobots(): Promise<RobotRow[]> {
    return this.#selectRobots('', []);
  }

  /** A page of episodes, newest recording first (ties broken by id so pages are stable). */
  async listEpisodes(opts: ListEpisodesOptions): Promise<EpisodeRow[]> {
    const o = parse(listEpisodesSchema, opts, 'episode listing');
    const kept = this.#episodeModel?.page(o);
    if (kept) return kept;
    // Two statements rather than one "($3 IS NULL OR robot_id = $3)": each matches an index in page order
    // (episodes_newest_idx, episodes_robot_newest_idx) under any plan, so a page reads about its own rows.
    const [where, params] =
      o.robotId === undefined
        ? ['', [o.limit, o.offset]]
        : ['WHERE robot_id = $3', [o.limit, o.offset, o.robotId]];
    return this.#run('listing episodes', (db) =>
      selectEpisodeRows(
        db,
        `SELECT ${EPISODE_COLUMNS} FROM episodes ${where} ORDER BY ${NEWEST_FIRST} LIMIT $1 OFFSET $2`,
        params,
        NEWEST_FIRST,
      ),
    );
  }

  /** Number of episodes, optionally of one robot (for paging); from the per-robot counts, not a scan. */
  async countEpisodes(opts: { robotId?: string } = {}): Promise<number> {
    const rows = await this.#run('counting episodes', (db) =>
      opts.robotId === undefined
        ? db.query<{ n: unknown }>('SELECT coalesce(sum(episodes), 0) AS n FROM episode_counts')
        : db.query<{ n: unknown }>('SELECT episodes AS n FROM episode_counts WHERE robot_id = $1', [
            opts.robotId,
          ]),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async counts(): Promise<CatalogCounts> {
    const rows = await this.#run('counting catalog rows', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT (SELECT count(*) FROM fields) AS fields,
                (SELECT count(*) FROM robots) AS robots,
                (SELECT count(*) FROM datasets) AS datasets,
                (SELECT coalesce(sum(episodes), 0) FROM episode_counts) AS episodes,
                (SELECT coalesce(sum(successes), 0) FROM episode_counts) AS successful_episodes`,
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

  /** Episodes matching `filter` with their robot's vendor and field, oldest recording first (then by id). */
  async selectEpisodes(filter: EpisodeFilterInput = {}): Promise<EpisodeFact[]> {
    const f = parse(episodeFilterSchema, filter, 'episode filter');
    const params: unknown[] = [];
    const where: string[] = [];
    const anyOf = (column: string, values: readonly string[] | undefined) => {
      if (!values) return;
      const marks = values.map((v) => {
        params.push(v);
        return `$${params.length}`;
      });
      where.push(`${column} IN (${marks.join(', ')})`);
    };
    anyOf('e.robot_id', f.robot);
    anyOf('r.vendor', f.vendor);
    anyOf('e.task', f.task);
    anyOf('e.phase', f.phase);
    anyOf('r.field_id', f.field);
    if (f.success !== undefined) {
      params.push(f.success);
      where.push(`e.success = $${params.length}`);
    }
    if (f.recordedFrom) {
      params.push(f.recordedFrom);
      where.push(`e.recorded_at >= $${params.length}::timestamptz`);
    }
    if (f.recordedTo) {
      params.push(f.recordedTo);
      where.push(`e.recorded_at < $${params.length}::timestamptz`);
    }
    const rows = await this.#run('selecting episodes', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT e.id, e.dataset_name, e.robot_id, e.episode_index, e.task, e.instruction, e.source, e.phase,
                e.success, e.seed, e.length, e.duration_sec, e.recorded_at, e.blob_sha256, e.blob_bytes,
                e.quality_verdict, e.quality_failed,
                r.vendor, r.field_id, d.path AS dataset_path, d.storage AS dataset_storage
         FROM episodes e
         JOIN robots r ON r.id = e.robot_id
         JOIN datasets d ON d.name = e.dataset_name
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY e.recorded_at, e.id`,
        params,
      ),
    );
    return rows.map((row) => ({
      ...toEpisodeRow(row),
      vendor: String(row.vendor),
      field: String(row.field_id),
      datasetPath: String(row.dataset_path),
      datasetStorage: row.dataset_storage as DatasetRow['storage'],
      ...(row.quality_verdict == null
        ? {}
        : {
            qualityVerdict: row.quality_verdict as QualityVerdict,
            qualityFailed: textArray(row.quality_failed),
          }),
    }));
  }

  /** Registered (source) datasets by name. */
  async listDatasets(): Promise<DatasetRow[]> {
    const rows = await this.#run('listing datasets', (db) =>
      db.query<Record<string, unknown>>(
        'SELECT name, path, fps, robot_type, storage, created_at FROM datasets ORDER BY name',
      ),
    );
    return rows.map(toDatasetRow);
  }

  /** Saves a dataset definition; a name already taken is INPUT_INVALID. */
  async createDatasetDefinition(name: string, query: EpisodeFilterInput): Promise<DatasetDefinitionRow> {
    const n = parse(datasetNameSchema, name, 'dataset name');
    const q = parse(episodeFilterSchema, query, 'dataset query');
    const rows = await this.#run(`creating dataset ${n}`, (db) =>
      db.query<Record<string, unknown>>(
        `INSERT INTO dataset_definitions (name, query) VALUES ($1, $2::jsonb)
         ON CONFLICT (name) DO NOTHING
         RETURNING name, query, created_at`,
        [n, JSON.stringify(q)],
      ),
    );
    const row = rows[0];
    if (!row) throw new TgError('INPUT_INVALID', `dataset ${n} already exists`);
    return toDefinitionRow({ ...row, versions: 0 });
  }

  async listDatasetDefinitions(): Promise<DatasetDefinitionRow[]> {
    const rows = await this.#run('listing dataset definitions', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT d.name, d.query, d.created_at,
                (SELECT count(*) FROM dataset_versions v WHERE v.dataset_name = d.name) AS versions
         FROM dataset_definitions d ORDER BY d.name`,
      ),
    );
    return rows.map(toDefinitionRow);
  }

  /** A dataset definition; NOT_FOUND when there is none by that name. */
  async getDatasetDefinition(name: string): Promise<DatasetDefinitionRow> {
    const n = parse(datasetNameSchema, name, 'dataset name');
    const rows = await this.#run(`reading dataset ${n}`, (db) =>
      db.query<Record<string, unknown>>(
        `SELECT d.name, d.query, d.created_at,
                (SELECT count(*) FROM dataset_versions v WHERE v.dataset_name = d.name) AS versions
         FROM dataset_definitions d WHERE d.name = $1`,
        [n],
      ),
    );
    if (!rows[0]) throw new TgError('NOT_FOUND', `no dataset named ${n}`);
    return toDefinitionRow(rows[0]);
  }

  /**
   * Records the next version of a dataset. `build` gets the version number and returns the manifest with
   * its counts; numbering is serialized per dataset (the definition row is locked), so two concurrent
   * freezes get two different numbers.
   */
  async addDatasetVersion<M>(
    name: string,
    build: (version: number) => {
      manifest: M;
      manifestSha256: string;
      episodeCount: number;
      frameCount: number;
    },
  ): Promise<DatasetVersionRow<M>> {
    const n = parse(datasetNameSchema, name, 'dataset name');
    const row = await this.#run(`freezing dataset ${n}`, (db) =>
      db.transaction(async (tx) => {
        const def = await tx.query('SELECT name FROM dataset_definitions WHERE name = $1 FOR UPDATE', [n]);
        if (def.length === 0) throw new TgError('NOT_FOUND', `no dataset named ${n}`);
        const last = await tx.query<{ v: unknown }>(
          'SELECT coalesce(max(version), 0) AS v FROM dataset_versions WHERE dataset_name = $1',
          [n],
        );
        const version = Number(last[0]?.v ?? 0) + 1;
        const v = build(version);
        const inserted = await tx.query<Record<string, unknown>>(
          `INSERT INTO dataset_versions (dataset_name, version, manifest, manifest_sha256, episode_count, frame_count)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6)
           RETURNING dataset_name, version, manifest, manifest_sha256, episode_count, frame_count, created_at`,
          [n, version, JSON.stringify(v.manifest), v.manifestSha256, v.episodeCount, v.frameCount],
        );
        return inserted[0]!;
      }),
    );
    return toVersionRow<M>(row);
  }

  /** One frozen version; NOT_FOUND when the dataset or the version does not exist. */
  async getDatasetVersion<M = unknown>(name: string, version: number): Promise<DatasetVersionRow<M>> {
    const n = parse(datasetNameSchema, name, 'dataset name');
    const v = parse(
      z
        .number()
        .int()
        .min(1)
        .max(2 ** 31 - 1),
      version,
      'dataset version',
    );
    const rows = await this.#run(`reading dataset ${n} version ${v}`, (db) =>
      db.query<Record<string, unknown>>(
        `SELECT dataset_name, version, manifest, manifest_sha256, episode_count, frame_count, created_at
         FROM dataset_versions WHERE dataset_name = $1 AND version = $2`,
        [n, v],
      ),
    );
    if (!rows[0]) {
      await this.getDatasetDefinition(n);
      throw new TgError('NOT_FOUND', `dataset ${n} has no version ${v}`);
    }
    return toVersionRow<M>(rows[0]);
  }

  async close(): Promise<void> {
    await this.#analyzing;
    await this.#episodeModel?.close();
    await this.#db.close();
  }

  async #selectRobots(where: string, params: unknown[]): Promise<RobotRow[]> {
    const rows = await this.#run('listing robots', (db) =>
      db.query<Record<string, unknown>>(
        `SELECT r.id, r.name, r.embodiment, r.embodiment_hash, r.vendor, r.field_id, r.created_at, r.updated_at,
                coalesce(c.episodes, 0) AS episode_count
         FROM robots r LEFT JOIN episode_counts c ON c.robot_id = r.id ${where}
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

/**
 * One INSERT per chunk with one array parameter per column (unnest): a few parameters however many rows,
 * which PGlite and PostgreSQL parse and bind about twice as fast as a VALUES list of rows x columns.
 */
/** `items` in runs of at most `size`, in order. */
function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * The one statement that adds episodes (the read model is told what it inserted; any other write naming
 * the episodes table makes the model read the table again).
 */
const EPISODE_INSERT_SQL = `INSERT INTO episodes (id, dataset_name, robot_id, episode_index, task, instruction, source, phase, success,
                           seed, length, duration_sec, recorded_at, blob_sha256, blob_bytes,
                           quality_verdict, quality_failed)
     SELECT id, dataset_name, robot_id, episode_index, task, instruction, source, phase, success,
            seed, length, duration_sec, recorded_at, blob_sha256, blob_bytes,
            quality_verdict, string_to_array(quality_failed, ',')
     FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::boolean[], $10::bigint[], $11::integer[], $12::double precision[],
                 $13::timestamptz[], $14::text[], $15::bigint[], $16::text[], $17::text[])
       AS r(id, dataset_name, robot_id, episode_index, task, instruction, source, phase, success,
            seed, length, duration_sec, recorded_at, blob_sha256, blob_bytes, quality_verdict, quality_failed)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`;

/** Inserts `rows` (ids already present are skipped); returns the ids it inserted. */
async function insertEpisodeChunk(
  tx: SqlExecutor,
  rows: ReadonlyArray<{ dataset: string; row: ParsedEpisode }>,
): Promise<Set<string>> {
  const column = <T>(pick: (e: ParsedEpisode) => T) => rows.map(({ row }) => pick(row));
  const inserted = await tx.query<{ id: string }>(EPISODE_INSERT_SQL, [
    column((e) => e.id),
    rows.map((r) => r.dataset),
    column((e) => e.robotId),
    column((e) => e.episodeIndex),
    column((e) => e.task),
    column((e) => e.instruction),
    column((e) => e.source),
    column((e) => e.phase),
    column((e) => e.success),
    column((e) => e.seed),
    column((e) => e.length),
    column((e) => e.durationSec),
    column((e) => e.recordedAt.toISOString()),
    column((e) => e.blobSha256 ?? null),
    column((e) => e.blobBytes ?? null),
    column((e) => e.qualityVerdict ?? null),
    // A list per row cannot be an element of an array parameter (unnest would flatten a 2-D array):
    // it goes as one comma-separated text ('' for none), split back by string_to_array.
    column((e) => (e.qualityVerdict === undefined ? null : (e.qualityFailed ?? []).join(','))),
  ]);
  return new Set(inserted.map((r) => String(r.id)));
}

/** The row the catalog answers for an episode it just inserted (what `selectEpisodeRows` would read). */
function insertedRow(dataset: string, e: ParsedEpisode): EpisodeRow {
  return toEpisodeRow({
    id: e.id,
    dataset_name: dataset,
    robot_id: e.robotId,
    episode_index: e.episodeIndex,
    task: e.task,
    instruction: e.instruction,
    source: e.source,
    phase: e.phase,
    success: e.success,
    seed: e.seed,
    length: e.length,
    duration_sec: e.durationSec,
    recorded_at: e.recordedAt,
    blob_sha256: e.blobSha256 ?? null,
    blob_bytes: e.blobBytes ?? null,
  });
}

const NEWEST_FIRST = 'recorded_at DESC, episode_index DESC, id';

/**
 * Episode rows of `sql` (which selects `EPISODE_COLUMNS`), aggregated to one JSON text by the database and
 * parsed here in one go (in `order`, when given). Decoding a row per value costs the database driver
 * about twice as much (PGlite decodes them in JavaScript on the catalog's thread, then they are copied to
 * the caller's as objects), and those are the API's most frequent reads.
 */
async function selectEpisodeRows(
  db: SqlExecutor,
  sql: string,
  params: unknown[],
  order?: string,
): Promise<EpisodeRow[]> {
  const rows = await db.query<{ j: string | null }>(
    `SELECT json_agg(p${order ? ` ORDER BY ${order}` : ''})::text AS j FROM (${sql}) p`,
    params,
  );
  const text = rows[0]?.j;
  return text ? (JSON.parse(text) as Record<string, unknown>[]).map(toEpisodeRow) : [];
}

const EPISODE_COLUMNS = `id, dataset_name, robot_id, episode_index, task, instruction, source, phase, success,
  seed, length, duration_sec, recorded_at, blob_sha256, blob_bytes`;

function toDatasetRow(row: Record<string, unknown>): DatasetRow {
  return {
    name: String(row.name),
    path: String(row.path),
    fps: Number(row.fps),
    robotType: String(row.robot_type),
    storage: row.storage as DatasetRow['storage'],
    createdAt: iso(row.created_at),
  };
}

function toEpisodeRow(row: Record<string, unknown>): EpisodeRow {
  const blob =
    row.blob_sha256 == null ? {} : { blobSha256: String(row.blob_sha256), blobBytes: Number(row.blob_bytes) };
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
    ...blob,
  };
}

function toDefinitionRow(row: Record<string, unknown>): DatasetDefinitionRow {
  return {
    name: String(row.name),
    query: jsonValue(row.query) as EpisodeFilter,
    createdAt: iso(row.created_at),
    versions: Number(row.versions ?? 0),
  };
}

function toVersionRow<M>(row: Record<string, unknown>): DatasetVersionRow<M> {
  return {
    name: String(row.dataset_name),
    version: Number(row.version),
    manifestSha256: String(row.manifest_sha256),
    episodeCount: Number(row.episode_count),
    frameCount: Number(row.frame_count),
    createdAt: iso(row.created_at),
    manifest: jsonValue(row.manifest) as M,
  };
}

/** A text[] value: an array from both drivers; the literal '{a,b}' is parsed in case one hands it over raw. */
function textArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  const s = String(v ?? '');
  return s === '{}' || s === '' ? [] : s.replace(/^\{|\}$/g, '').split(',');
}

/** jsonb arrives parsed from both drivers; text is parsed here in case a driver hands it over raw. */
function jsonValue(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
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
