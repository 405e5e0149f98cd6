/**
 * What the embedded catalog keeps in memory about its episodes, so that its hottest reads need no
 * statement: which ids it may hold (./episode-id-filter.ts: a field's resume check for an episode not
 * uploaded yet, an ingest's check that a batch is new) and its newest rows (./newest-episodes.ts: the
 * console's episode pages). On PGlite every statement waits for the one running, an ingest's insert most
 * of the time, so these answers would otherwise queue behind the writes they race.
 *
 * Sound only where this process is the database's one writer (PGlite). The catalog tells the model of
 * its own inserts (`willInsert` before the statement, `inserted` once committed) and of any other write
 * that touches the episodes table (`invalidate`: raw SQL through `Catalog.database`), after which the
 * model answers nothing until it has read the table again. Both parts are read in the background after
 * opening; until then every read goes to the database.
 */
import { EpisodeIdFilter } from './episode-id-filter.ts';
import { NewestEpisodes, type NewestPage } from './newest-episodes.ts';
import type { EpisodeRow } from './types.ts';

/** Newest episodes kept (about 0.5 KB each): the console's first pages of 50, and every robot's first. */
export const NEWEST_EPISODES_KEPT = 10_000;
/** Ids read per statement when the filter is filled (see `#load`). */
const ID_LOAD_PAGE = 20_000;

export interface EpisodeSource {
  /** Up to `limit` stored episode ids greater than `after`, ascending. */
  idsAfter(after: string, limit: number): Promise<string[]>;
  /** The table's first `limit` rows in listing order. */
  newest(limit: number): Promise<EpisodeRow[]>;
}

export class EpisodeReadModel {
  #filter = new EpisodeIdFilter();
  #newest: NewestEpisodes | null = null;
  #filterReady = false;
  /** Whether the newest rows are being read: rows committed meanwhile wait in `#pending`. */
  #reading = true;
  /** Rows committed while the newest rows are being read (added once they are; duplicates are ignored). */
  #pending: EpisodeRow[] = [];
  /** Bumped by each invalidation: a load that began before it is discarded. */
  #epoch = 0;
  #loading: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly source: EpisodeSource,
    private readonly newestKept = NEWEST_EPISODES_KEPT,
  ) {
    this.#loading = this.#load(this.#epoch);
  }

  /** False: the catalog certainly lacks the episode. True: it may have it. Null: ask the database. */
  mayHave(id: string): boolean | null {
    return this.#filterReady ? this.#filter.mayHave(id) : null;
  }

  /** A page of the listing, or null to ask the database. */
  page(opts: NewestPage): EpisodeRow[] | null {
    return this.#newest?.page(opts) ?? null;
  }

  /** Before the catalog inserts episodes: a lookup issued once the insert ended must not be told "no". */
  willInsert(ids: Iterable<string>): void {
    for (const id of ids) this.#filter.add(id);
  }

  /** Rows the catalog just committed, before it answers the writer. */
  inserted(rows: readonly EpisodeRow[]): void {
    if (this.#newest) this.#newest.add(rows);
    else if (this.#reading) this.#pending.push(...rows);
  }

  /** Another write changed the episodes table: forget everything and read it again. */
  invalidate(): void {
    this.#epoch++;
    this.#filter = new EpisodeIdFilter();
    this.#filterReady = false;
    this.#newest = null;
    this.#pending = [];
    this.#reading = true;
    const epoch = this.#epoch;
    this.#loading = this.#loading.then(() => this.#load(epoch));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#loading;
  }

  async #load(epoch: number): Promise<void> {
    const current = () => epoch === this.#epoch && !this.#closed;
    try {
      if (!current()) return;
      const rows = await this.source.newest(this.newestKept + 1);
      if (!current()) return;
      const newest = new NewestEpisodes(this.newestKept, rows, rows.length <= this.newestKept);
      newest.add(this.#pending);
      this.#pending = [];
      this.#reading = false;
      this.#newest = newest;
      const filter = this.#filter;
      for (let after = ''; ; ) {
        const ids = await this.source.idsAfter(after, ID_LOAD_PAGE);
        if (!current()) return;
        for (const id of ids) filter.add(id);
        if (ids.length < ID_LOAD_PAGE) break;
        after = ids[ids.length - 1]!;
      }
      this.#filterReady = true;
    } catch {
      // Closed meanwhile, or unreadable: reads keep going to the database.
    } finally {
      if (current() || this.#closed) {
        this.#reading = false;
        this.#pending = [];
      }
    }
  }
}
