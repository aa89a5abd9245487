import { InvalidArgumentError, readNumber, readOptions } from '@marginkit/core';
import type { SeededGenerator } from './random.js';

/**
 * How a head initialises its centres, from its seeded generator.
 * - `{ kind: 'normal', std }`: N(0, std²) per entry; std default 0.01 (insightface's Partial FC).
 * - `{ kind: 'xavier' }`: Glorot uniform, U(−b, b) with b = √(6 / (D + rows)) (PyTorch's
 *   `xavier_uniform_` for a [rows, D] weight). pytorch-metric-learning initialises with N(0, 1):
 *   `{ kind: 'normal', std: 1 }`.
 */
export type CenterInit =
  | {
      /** Normal initialisation. */
      readonly kind: 'normal';
      /** The standard deviation, > 0; default 0.01. */
      readonly std?: number;
    }
  | {
      /** Glorot (Xavier) uniform initialisation. */
      readonly kind: 'xavier';
    };

/** Reads a {@link CenterInit}; the default is normal with std 0.01. @internal */
export function readInit(argument: string, value: unknown): CenterInit {
  if (value === undefined) return { kind: 'normal', std: 0.01 };
  const o = readOptions(argument, value, ['kind', 'std']);
  if (o['kind'] === 'xavier') {
    if (o['std'] !== undefined) throw new InvalidArgumentError(`${argument}.std`, "applies to kind 'normal' only");
    return { kind: 'xavier' };
  }
  if (o['kind'] !== 'normal') throw new InvalidArgumentError(`${argument}.kind`, `must be 'normal' or 'xavier', got ${JSON.stringify(o['kind'])}`);
  return { kind: 'normal', std: readNumber(`${argument}.std`, o['std'], 0.01, { min: Number.MIN_VALUE, max: Number.MAX_VALUE, text: '(0, ∞)' }) };
}

/**
 * Draws [rows, dim] centres, row-major. `fanRows` is the row count of the whole matrix when these
 * rows are one chunk of it (Xavier's bound depends on it); drawing the chunks in order gives the
 * same values as drawing the whole matrix at once. @internal
 */
export function initialCenters(init: CenterInit, rows: number, dim: number, random: SeededGenerator, fanRows = rows): Float32Array {
  const out = new Float32Array(rows * dim);
  if (init.kind === 'normal') {
    const std = init.std ?? 0.01;
    for (let i = 0; i < out.length; i++) out[i] = std * random.normal();
  } else {
    const bound = Math.sqrt(6 / (dim + fanRows));
    for (let i = 0; i < out.length; i++) out[i] = bound * (2 * random.uniform() - 1);
  }
  return out;
}
