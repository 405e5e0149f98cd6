/**
 * Catalog schema as numbered migrations. Each migration runs once, in order, inside the transaction that
 * `Catalog.open` starts; its version is recorded in `schema_migrations`. Never edit a released migration:
 * add the next number instead.
 *
 * The SQL is plain PostgreSQL (no PGlite-only features) so the same files run against a PostgreSQL server
 * through `pg` at scale.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Table that records which migrations ran. Created before any migration, so it is not one itself. */
export const MIGRATIONS_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     integer PRIMARY KEY,
  name        text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
);`;

/** Key of the PostgreSQL advisory lock held while migrating (any fixed bigint works; this is "tgcat" in ASCII). */
export const MIGRATIONS_LOCK_KEY = 0x74_6763_6174;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'fields, robots, datasets, episodes',
    sql: `
CREATE TABLE fields (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE robots (
  id               text PRIMARY KEY,
  name             text NOT NULL,
  embodiment       text NOT NULL,
  embodiment_hash  text NOT NULL,
  vendor           text NOT NULL,
  field_id         text NOT NULL REFERENCES fields (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX robots_field_id_idx ON robots (field_id);

CREATE TABLE datasets (
  name        text PRIMARY KEY,
  path        text NOT NULL,
  fps         integer NOT NULL CHECK (fps > 0),
  robot_type  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- id is the episode's content hash, so re-sending an episode is idempotent rather than a duplicate.
CREATE TABLE episodes (
  id             text PRIMARY KEY,
  dataset_name   text NOT NULL REFERENCES datasets (name),
  robot_id       text NOT NULL REFERENCES robots (id),
  episode_index  integer NOT NULL CHECK (episode_index >= 0),
  task           text NOT NULL,
  instruction    text NOT NULL,
  source         text NOT NULL CHECK (source IN ('teleop', 'mocap', 'policy', 'scripted')),
  phase          text NOT NULL CHECK (phase IN ('orientation', 'drill', 'autonomy')),
  success        boolean NOT NULL,
  seed           bigint NOT NULL,
  length         integer NOT NULL CHECK (length >= 0),
  duration_sec   double precision NOT NULL CHECK (duration_sec >= 0),
  recorded_at    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX episodes_robot_id_idx ON episodes (robot_id);
CREATE INDEX episodes_dataset_name_idx ON episodes (dataset_name, episode_index);
CREATE INDEX episodes_recorded_at_idx ON episodes (recorded_at DESC, id);
`,
  },
  {
    version: 2,
    name: 'dataset definitions and frozen versions',
    sql: `
-- A dataset is a saved query over the catalog's episodes (the source datasets' episodes stay where they are).
CREATE TABLE dataset_definitions (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$' AND position('..' in name) = 0),
  query       jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Freezing a dataset records the exact episodes it matched as numbered version 1, 2, ...; a version never
-- changes afterwards (the trigger refuses UPDATE and DELETE), so "dataset v3" names the same data forever.
CREATE TABLE dataset_versions (
  dataset_name     text NOT NULL REFERENCES dataset_definitions (name),
  version          integer NOT NULL CHECK (version >= 1),
  manifest         jsonb NOT NULL,
  manifest_sha256  text NOT NULL,
  episode_count    integer NOT NULL CHECK (episode_count >= 0),
  frame_count      bigint NOT NULL CHECK (frame_count >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset_name, version)
);

CREATE FUNCTION dataset_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'dataset versions are immutable' USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER dataset_versions_immutable BEFORE UPDATE OR DELETE ON dataset_versions
  FOR EACH ROW EXECUTE FUNCTION dataset_versions_immutable();
`,
  },
  {
    version: 3,
    name: 'drill jobs with leases',
    sql: `
-- Drill jobs the hub hands to fields over HTTP (with NATS they live on the JOBS work-queue stream). A job is
-- leased to one taker at a time: lease_token names the lease, lease_expires_at ends it unless renewed. The
-- taker acknowledges the job once every episode is recorded (state done); a lease that runs out (its taker
-- died) makes the job available again, and a token from an earlier lease can neither renew nor acknowledge.
-- Finished jobs stay as the job history.
CREATE TABLE drill_jobs (
  id                text PRIMARY KEY,
  field_id          text NOT NULL,
  spec              jsonb NOT NULL,
  state             text NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'cancelled')),
  lease_token       text,
  lease_expires_at  timestamptz,
  leases            integer NOT NULL DEFAULT 0 CHECK (leases >= 0),
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (state <> 'leased' OR (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);
CREATE INDEX drill_jobs_open_idx ON drill_jobs (field_id, created_at, id) WHERE state IN ('queued', 'leased');
`,
  },
  {
    version: 4,
    name: 'episodes in the blob store',
    sql: `
-- Episodes that fields upload live in the hub's content-addressed blob store as transfer bundles
-- (src/field/transfer/bundle.ts): blob_sha256 names an episode's bundle and blob_bytes is its size. A dataset
-- with storage 'blobs' keeps its episodes there (its path is the blob store's root) and is materialized as
-- LeRobot v3 when exported; a 'lerobot' dataset is a LeRobot v3 directory at its path, as before.
ALTER TABLE datasets ADD COLUMN storage text NOT NULL DEFAULT 'lerobot' CHECK (storage IN ('lerobot', 'blobs'));
ALTER TABLE episodes ADD COLUMN blob_sha256 text CHECK (blob_sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE episodes ADD COLUMN blob_bytes bigint CHECK (blob_bytes > 0);
ALTER TABLE episodes ADD CONSTRAINT episodes_blob_complete CHECK ((blob_sha256 IS NULL) = (blob_bytes IS NULL));
`,
  },
  {
    version: 5,
    name: 'episode listing indexes and per-robot episode counts',
    sql: `
-- A page of episodes, newest first (all of them or one robot's), reads an index in page order and stops
-- after the page, instead of sorting every matching row.
DROP INDEX episodes_recorded_at_idx;
CREATE INDEX episodes_newest_idx ON episodes (recorded_at DESC, episode_index DESC, id);
DROP INDEX episodes_robot_id_idx;
CREATE INDEX episodes_robot_newest_idx ON episodes (robot_id, recorded_at DESC, episode_index DESC, id);

-- Episode and success counts per robot, kept by the triggers below in the transaction that changes the
-- episodes, so totals (the catalog's, each robot's) read a row per robot instead of counting episodes.
CREATE TABLE episode_counts (
  robot_id   text PRIMARY KEY,
  episodes   bigint NOT NULL CHECK (episodes >= 0),
  successes  bigint NOT NULL CHECK (successes >= 0 AND successes <= episodes)
);
INSERT INTO episode_counts (robot_id, episodes, successes)
  SELECT robot_id, count(*), count(*) FILTER (WHERE success) FROM episodes GROUP BY robot_id;

-- Each change adds what new_rows has and takes away what old_rows had, robot by robot in id order
-- (concurrent writers lock the counters in the same order).
CREATE FUNCTION episode_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO episode_counts AS c (robot_id, episodes, successes)
    SELECT robot_id, count(*), count(*) FILTER (WHERE success) FROM new_rows GROUP BY robot_id ORDER BY robot_id
  ON CONFLICT (robot_id) DO UPDATE
    SET episodes = c.episodes + EXCLUDED.episodes, successes = c.successes + EXCLUDED.successes;
  RETURN NULL;
END
$$;
CREATE FUNCTION episode_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE episode_counts c SET episodes = c.episodes - d.n, successes = c.successes - d.s
    FROM (SELECT robot_id, count(*) AS n, count(*) FILTER (WHERE success) AS s
          FROM old_rows GROUP BY robot_id ORDER BY robot_id) d
    WHERE c.robot_id = d.robot_id;
  RETURN NULL;
END
$$;
CREATE FUNCTION episode_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO episode_counts (robot_id, episodes, successes)
    SELECT DISTINCT robot_id, 0, 0 FROM new_rows ORDER BY robot_id
  ON CONFLICT (robot_id) DO NOTHING;
  UPDATE episode_counts c SET episodes = c.episodes + d.n, successes = c.successes + d.s
    FROM (SELECT robot_id, sum(n) AS n, sum(s) AS s FROM (
            SELECT robot_id, 1 AS n, success::int AS s FROM new_rows
            UNION ALL SELECT robot_id, -1, -(success::int) FROM old_rows) u
          GROUP BY robot_id ORDER BY robot_id) d
    WHERE c.robot_id = d.robot_id;
  RETURN NULL;
END
$$;
CREATE TRIGGER episode_counts_insert AFTER INSERT ON episodes
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION episode_counts_insert();
CREATE TRIGGER episode_counts_delete AFTER DELETE ON episodes
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION episode_counts_delete();
CREATE TRIGGER episode_counts_update AFTER UPDATE ON episodes
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION episode_counts_update();
`,
  },
  {
    version: 6,
    name: 'quality verdicts of ingested episodes',
    sql: `
-- The quality verdict of an episode the hub ingested as a bundle, computed when the bundle was verified
-- (src/hub/ingest/quality.ts), and the names of the checks that failed. Analytics derive data yield from
-- it; NULL for episodes of LeRobot datasets (their verdicts come from the dataset on disk) and for episodes
-- stored before this migration (not checked).
ALTER TABLE episodes ADD COLUMN quality_verdict text CHECK (quality_verdict IN ('pass', 'warn', 'fail'));
ALTER TABLE episodes ADD COLUMN quality_failed text[];
ALTER TABLE episodes ADD CONSTRAINT episodes_quality_complete
  CHECK ((quality_verdict IS NULL) = (quality_failed IS NULL));
`,
  },
];
