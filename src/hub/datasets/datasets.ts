/**
 * Datasets: named, saved queries over the catalog's episodes, frozen into immutable numbered versions and
 * exported as LeRobot v3.0 datasets. The episodes themselves stay in their source datasets; a version is a
 * manifest (./manifest.ts) naming them by content hash.
 */
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import type { Catalog, EpisodeFilterInput } from '../catalog/index.ts';
import type { DatasetDefinitionRow, DatasetVersionRow } from '../catalog/types.ts';
import { type ExportResult, exportManifest } from './export.ts';
import { buildManifest, type DatasetManifest, DEFAULT_VAL_FRACTION, manifestSha256 } from './manifest.ts';

export interface FreezeOptions {
  /** Share of episodes for the val split, 0..1 (default 0.1). */
  valFraction?: number;
}

/** A version as listed: everything but the (possibly large) manifest. */
export type DatasetVersionSummary = Omit<DatasetVersionRow, 'manifest'>;

const valFractionSchema = z.number().min(0).max(1);

export class Datasets {
  readonly #catalog: Catalog;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  list(): Promise<DatasetDefinitionRow[]> {
    return this.#catalog.listDatasetDefinitions();
  }

  get(name: string): Promise<DatasetDefinitionRow> {
    return this.#catalog.getDatasetDefinition(name);
  }

  /** Saves `query` under `name` (validated; a taken name is INPUT_INVALID). */
  create(name: string, query: EpisodeFilterInput = {}): Promise<DatasetDefinitionRow> {
    return this.#catalog.createDatasetDefinition(name, query);
  }

  /**
   * Runs the dataset's query now and records the result as the next version. A query matching no episode
   * is refused (INPUT_INVALID): an empty version could not be exported or trained on.
   */
  async freeze(name: string, opts: FreezeOptions = {}): Promise<DatasetVersionRow<DatasetManifest>> {
    const parsed = valFractionSchema.safeParse(opts.valFraction ?? DEFAULT_VAL_FRACTION);
    if (!parsed.success) throw new TgError('INPUT_INVALID', 'valFraction must be a number from 0 to 1');
    const valFraction = parsed.data;
    const def = await this.#catalog.getDatasetDefinition(name);
    const facts = await this.#catalog.selectEpisodes(def.query);
    if (facts.length === 0) {
      throw new TgError('INPUT_INVALID', `dataset ${def.name} matches no episodes; nothing to freeze`);
    }
    return this.#catalog.addDatasetVersion(def.name, (version) => {
      const manifest = buildManifest(def.name, version, def.query, valFraction, facts);
      return {
        manifest,
        manifestSha256: manifestSha256(manifest),
        episodeCount: manifest.counts.episodes,
        frameCount: manifest.counts.frames,
      };
    });
  }

  /** One version with its manifest; the newest when `version` is omitted (NOT_FOUND if none). */
  async version(name: string, version?: number): Promise<DatasetVersionRow<DatasetManifest>> {
    let v = version;
    if (v === undefined) {
      const def = await this.#catalog.getDatasetDefinition(name);
      if (def.versions === 0) throw new TgError('NOT_FOUND', `dataset ${def.name} has no frozen version yet`);
      v = def.versions;
    }
    const row = await this.#catalog.getDatasetVersion<DatasetManifest>(name, v);
    if (manifestSha256(row.manifest) !== row.manifestSha256) {
      throw new TgError(
        'STORAGE_FAILED',
        `dataset ${name} v${v}: manifest does not match its recorded sha256`,
      );
    }
    return row;
  }

  /** Writes version `version` (default: newest) as a LeRobot v3.0 dataset at `outDir`, which must not exist. */
  async export(name: string, version: number | undefined, outDir: string): Promise<ExportResult> {
    const row = await this.version(name, version);
    const sources = new Map((await this.#catalog.listDatasets()).map((d) => [d.name, d]));
    return exportManifest(row.manifest, outDir, (dataset) => sources.get(dataset));
  }
}
