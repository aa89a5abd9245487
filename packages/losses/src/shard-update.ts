// A shard's SGD-momentum update of its centres: dense (every row of a chunk) and sparse (the rows
// Partial FC sampled), both through one rule so that a sample of every class updates to the bit.

import { InternalError } from '@marginkit/core';
import type { ShardOptimizer } from './shard-messages.js';

/**
 * SGD with momentum as PyTorch has it (no dampening), in place over `length` values:
 * v ← μ·v + g, w ← w − η·v, with `centers` and `velocity` read and written from `at` and the
 * gradient read from `from`. The one rule of both of a shard's updates.
 * @internal
 */
export function momentumUpdate(
  optimizer: ShardOptimizer,
  centers: Float32Array,
  velocity: Float32Array,
  at: number,
  gradient: Float32Array,
  from: number,
  length: number,
): void {
  const { momentum, learningRate } = optimizer;
  for (let i = 0; i < length; i++) {
    const v = momentum * velocity[at + i]! + gradient[from + i]!;
    velocity[at + i] = v;
    centers[at + i]! -= learningRate * v;
  }
}

/**
 * The sparse update of chunk `chunk` of a sampled shard: `gradient` holds the rows of the sample's
 * classes [chunk·classChunk, …) (`perRow` = K·D values per class), and each goes to its class's
 * rows of `centers` and `velocity` by {@link momentumUpdate}. Rows of classes not sampled are not
 * touched: their centres and velocity keep their bits (no momentum decay), as in `PartialFCLoss`.
 * @internal
 */
export function sampledUpdate(
  optimizer: ShardOptimizer,
  sampled: Int32Array,
  chunk: { readonly index: number; readonly classChunk: number; readonly perRow: number },
  gradient: Float32Array,
  centers: Float32Array,
  velocity: Float32Array,
): void {
  const { index, classChunk, perRow } = chunk;
  const first = index * classChunk;
  const last = Math.min(first + classChunk, sampled.length);
  if (gradient.length !== (last - first) * perRow) {
    throw new InternalError(`shard: chunk ${index}'s centre gradient has ${gradient.length} values, expected ${(last - first) * perRow}`);
  }
  for (let j = first; j < last; j++) momentumUpdate(optimizer, centers, velocity, sampled[j]! * perRow, gradient, (j - first) * perRow, perRow);
}
