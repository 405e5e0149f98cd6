/** A source of uniform numbers in [0, 1). Randomness in the simulator flows only from one of these. */
export interface Rng {
  next(): number;
}

/** splitmix32: small, fast, and the same sequence on every platform for a given seed. */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  return {
    next() {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      z = (z ^ (z >>> 16)) >>> 0;
      return z / 4294967296;
    },
  };
}
