import { InvalidArgumentError, type RandomSource } from '@marginkit/core';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/** A seeded generator whose whole state can be saved and restored (see {@link seededGenerator}). */
export interface SeededGenerator extends RandomSource {
  /** The generator's state: four 32-bit integers (xoroshiro128+), JSON-serialisable. */
  state(): number[];
}

/**
 * A seeded random source for heads: pure-rand's xoroshiro128+, with normals by Box–Muller (one
 * normal per pair of uniforms, so the state alone says where the sequence is). Deterministic for a
 * seed on every platform, and resumable exactly from {@link SeededGenerator.state}.
 *
 * @param seed - an integer seed in [−2³¹, 2³²) (seeds are 32-bit; larger ones are rejected, not
 *   folded), or a saved state (four integers) to continue from.
 * @param argument - the argument name for errors; default `'seed'`.
 * @returns the generator.
 *
 * @example
 * ```ts
 * import { seededGenerator } from '@marginkit/losses';
 * const a = seededGenerator(7);
 * a.normal();
 * const b = seededGenerator(a.state());
 * console.log(a.normal() === b.normal()); // true
 * ```
 */
export function seededGenerator(seed: number | readonly number[], argument = 'seed'): SeededGenerator {
  let rng: JumpableRandomGenerator;
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
      throw new InvalidArgumentError(argument, `must be an integer in [−2³¹, 2³²), got ${seed}`);
    }
    rng = xoroshiro128plus(seed | 0);
  } else {
    if (!Array.isArray(seed) || seed.length !== 4 || !seed.every((v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32)) {
      throw new InvalidArgumentError(argument, 'a saved generator state must be four 32-bit integers');
    }
    rng = xoroshiro128plusFromState(seed);
  }
  const uniform = (): number => uniformFloat64(rng);
  return {
    uniform,
    normal: () => {
      const u = 1 - uniform(); // (0, 1]
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    },
    state: () => [...rng.getState()],
  };
}

/**
 * Independent streams for `count` consumers from one saved generator state (xoroshiro128+, as
 * {@link seededGenerator} keeps it): stream r is the state jumped r times, and `next` is the state
 * jumped `count` times, where the following call starts. A jump moves 2⁶⁴ draws ahead, so streams
 * handed out by successive calls are disjoint stretches of one sequence and never overlap in any
 * realistic use, however `count` changes from call to call. Each stream is a state to give
 * {@link seededGenerator}.
 *
 * @param state - a generator state, four 32-bit integers (checked by the caller).
 * @param count - the number of streams, ≥ 1.
 * @returns the streams and the next state.
 * @internal
 */
export function jumpedStreams(state: readonly number[], count: number): { streams: number[][]; next: number[] } {
  const rng = xoroshiro128plusFromState(state);
  const streams: number[][] = [];
  for (let r = 0; r < count; r++) {
    streams.push([...rng.getState()]);
    rng.jump();
  }
  return { streams, next: [...rng.getState()] };
}
