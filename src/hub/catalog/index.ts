export {
  Catalog,
  type CatalogOpenOptions,
  DATASET_NAME_PATTERN,
  datasetNameSchema,
  type EpisodeFilterInput,
  episodeFilterSchema,
} from './catalog.ts';
export type { SqlDatabase, SqlExecutor } from './database.ts';
export {
  type AckOutcome,
  DRILL_JOB_STATES,
  type DrillJobLease,
  type DrillJobRow,
  type DrillJobState,
  DrillJobTable,
} from './drill-jobs.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { openPgDatabase, type PgDatabaseOptions } from './pg-database.ts';
export * from './types.ts';
