export { Datasets, type DatasetVersionSummary, type FreezeOptions } from './datasets.ts';
export { type ExportResult, MANIFEST_EXPORT_PATH } from './export.ts';
export {
  type DatasetManifest,
  DEFAULT_VAL_FRACTION,
  MANIFEST_FORMAT,
  type ManifestEpisode,
  SPLITS,
  type SplitName,
  splitOf,
} from './manifest.ts';
