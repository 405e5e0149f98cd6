export {
  Catalog,
  type CatalogOpenOptions,
  DATASET_NAME_PATTERN,
  datasetNameSchema,
  type EpisodeFilterInput,
  episodeFilterSchema,
} from './catalog.ts';
export type { SqlDatabase, SqlExecutor } from './database.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { openPgDatabase, type PgDatabaseOptions } from './pg-database.ts';
export * from './types.ts';
