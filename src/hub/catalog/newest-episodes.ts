/**
 * The newest episodes of the catalog, in listing order (recorded_at DESC, episode_index DESC, id): what the
 * console pages through while fields stream episodes in. Holds the exact first `capacity` rows of that
 * order, or every row when the table has no more (`complete`), so a page inside it is the page the
 * database would answer.
 */
import type { EpisodeRow } from './types.ts';

export interface NewestPage {
  limit: number;
  offset: number;
  robotId?: string;
}

interface Entry {
  row: EpisodeRow;
  /** recorded_at in ms (an ISO text does not sort by time past year 9999). */
  at: number;
}

export class NewestEpisodes {
  readonly #entries: Entry[] = [];
  readonly #ids = new Set<string>();
  #complete: boolean;

  /** `rows`: the table's first rows in listing order; `complete`: the table has no others. */
  constructor(
    readonly capacity: number,
    rows: readonly EpisodeRow[],
    complete: boolean,
  ) {
    this.#complete = complete && rows.length <= capacity;
    for (const row of rows.slice(0, capacity)) {
      this.#entries.push(entryOf(row));
      this.#ids.add(row.id);
    }
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Takes rows just committed to the table (rows it holds already are ignored). */
  add(rows: readonly EpisodeRow[]): void {
    for (const row of rows) {
      if (this.#ids.has(row.id)) continue;
      const entry = entryOf(row);
      let lo = 0;
      let hi = this.#entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compare(this.#entries[mid]!, entry) < 0) lo = mid + 1;
        else hi = mid;
      }
      // Past the end of a window that is not the whole table: rows the window lacks may come first.
      if (lo === this.#entries.length && !this.#complete) continue;
      this.#entries.splice(lo, 0, entry);
      this.#ids.add(row.id);
      if (this.#entries.length > this.capacity) {
        this.#ids.delete(this.#entries.pop()!.row.id);
        this.#complete = false;
      }
    }
  }

  /** The page, or null when the window cannot tell it (it reaches past the window's end). */
  page({ limit, offset, robotId }: NewestPage): EpisodeRow[] | null {
    if (robotId === undefined) {
      if (offset + limit > this.#entries.length && !this.#complete) return null;
      return this.#entries.slice(offset, offset + limit).map((e) => e.row);
    }
    const out: EpisodeRow[] = [];
    let skip = offset;
    for (const { row } of this.#entries) {
      if (row.robotId !== robotId) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(row);
      if (out.length === limit) return out;
    }
    return this.#complete ? out : null;
  }
}

function entryOf(row: EpisodeRow): Entry {
  return { row: Object.freeze({ ...row }), at: Date.parse(row.recordedAt) };
}

/** Listing order: newer first, then the larger episode index, then id in byte order (the catalog's C collation). */
function compare(a: Entry, b: Entry): number {
  if (a.at !== b.at) return b.at - a.at;
  if (a.row.episodeIndex !== b.row.episodeIndex) return b.row.episodeIndex - a.row.episodeIndex;
  return Buffer.compare(Buffer.from(a.row.id), Buffer.from(b.row.id));
}
