/**
 * A small seeded PRNG (mulberry32) with normal and uniform draws, so tests and fixtures are
 * reproducible without global state.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

/**
 * Creates a seeded random source.
 *
 * @param seed - any 32-bit integer.
 * @returns an independent generator.
 *
 * @example
 * ```ts
 * import { seededRandom } from '@marginkit/core/testing';
 * const rng = seededRandom(42);
 * console.log(rng.int(10) === seededRandom(42).int(10)); // true
 * ```
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int: (n) => Math.floor(next() * n),
  };
}
