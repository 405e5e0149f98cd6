/**
 * Which episode ids the embedded catalog may hold: a Bloom filter that answers "certainly not" without a
 * statement. On PGlite every statement waits for the one running (an ingest's insert), and a field's
 * resume check for an episode the hub does not have yet, or an ingest's check that a batch is new, are
 * answered "no" almost every time. Sound only where this process is the catalog's one writer and adds
 * every id before inserting it: a false "maybe" costs a statement, a false "no" would lose an answer.
 *
 * Grows as it fills: a full stage is kept and a stage four times larger is added, so memory follows the
 * catalog (about 1.2 bytes per episode) and the false "maybe" rate stays near `FALSE_MAYBE_RATE` per stage.
 */

/** Ids the first stage holds before the next is added. */
const FIRST_STAGE_CAPACITY = 1 << 16;
const FALSE_MAYBE_RATE = 0.005;

class Stage {
  readonly bits: Uint32Array;
  readonly mask: number;
  readonly hashes: number;
  count = 0;

  constructor(readonly capacity: number) {
    // m = -n ln p / (ln 2)^2 bits, rounded up to a power of two (positions are masked, not divided).
    const wanted = Math.ceil((-capacity * Math.log(FALSE_MAYBE_RATE)) / Math.LN2 ** 2);
    const bits = 2 ** Math.ceil(Math.log2(Math.max(wanted, 32)));
    this.bits = new Uint32Array(bits / 32);
    this.mask = bits - 1;
    this.hashes = Math.max(1, Math.round((bits / capacity) * Math.LN2));
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < this.hashes; i++) {
      const at = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[at >>> 5]! |= 1 << (at & 31);
    }
    this.count++;
  }

  mayHave(h1: number, h2: number): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const at = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.bits[at >>> 5]! & (1 << (at & 31))) === 0) return false;
    }
    return true;
  }
}

export class EpisodeIdFilter {
  readonly #stages: Stage[] = [new Stage(FIRST_STAGE_CAPACITY)];

  /** Ids added so far (an id added twice counts twice). */
  get size(): number {
    return this.#stages.reduce((n, s) => n + s.count, 0);
  }

  add(id: string): void {
    let stage = this.#stages[this.#stages.length - 1]!;
    if (stage.count >= stage.capacity) {
      stage = new Stage(stage.capacity * 4);
      this.#stages.push(stage);
    }
    const [h1, h2] = hashPair(id);
    stage.add(h1, h2);
  }

  /** False: the id was never added. True: it probably was. */
  mayHave(id: string): boolean {
    const [h1, h2] = hashPair(id);
    return this.#stages.some((s) => s.mayHave(h1, h2));
  }
}

/**
 * Two independent 32-bit FNV-1a hashes of the id's UTF-16 code units (different offset bases), the second
 * forced odd so that its multiples reach every position (Kirsch and Mitzenmacher's double hashing).
 */
function hashPair(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  // Final mixing (murmur3's), so that ids differing only in their last characters spread over all bits.
  return [fmix(a) >>> 0, (fmix(b) | 1) >>> 0];
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
