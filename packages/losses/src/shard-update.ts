// A shard's SGD-momentum update of its centres: dense (every row of a chunk) and sparse (the rows
// Partial FC sampled), both through one rule so that a sample of every class updates to the bit.
// The rule is ChunkedHeadTrainer's (dense-update.ts): it also folds in the norm's term of the
// gradient (core's `normTerm: 'defer'`) and measures each updated row's norm (core's `centerNorms`
// of the next step), in one pass over the rows.

import { InternalError } from '@marginkit/core';
import { denseUpdate } from './dense-update.js';
import type { ShardOptimizer } from './shard-messages.js';

/** Where one update reads and writes, in rows of D values. @internal */
export interface RowSpan {
  /** The first row of the shard's `centers`, `velocity` and `norms` to update. */
  readonly at: number;
  /** The first row of the gradient (and of its coefficients) to read. */
  readonly from: number;
  /** How many rows. */
  readonly rows: number;
}

/** A chunk's gradient as core hands it out: g, and c per row when the norm's term was deferred (the gradient is g − c·w). @internal */
export interface ShardGradient {
  readonly g: Float32Array;
  readonly coefficients: Float64Array | undefined;
}

/** The shard's state the update writes: centres, velocity (row-major, D per row) and each row's norm. @internal */
export interface ShardRows {
  readonly centers: Float32Array;
  readonly velocity: Float32Array;
  readonly norms: Float64Array;
  readonly dim: number;
}

/**
 * SGD with momentum as PyTorch has it (no dampening), in place over `span.rows` rows, by
 * `ChunkedHeadTrainer`'s own rule ({@link denseUpdate}, float32 rounding as torch.optim.SGD):
 * g′ = g − c·w, v ← μ·v + g′, w ← w − η·v, and ‖w‖ of each updated row into `norms`. The one rule
 * of both of a shard's updates.
 * @internal
 */
export function momentumUpdate(optimizer: ShardOptimizer, state: ShardRows, grad: ShardGradient, span: RowSpan): void {
  const { centers, velocity, norms, dim } = state;
  const rows = (a: Float32Array, first: number) => a.subarray(first * dim, (first + span.rows) * dim);
  const sgd = { kind: 'sgd', learningRate: optimizer.learningRate, momentum: optimizer.momentum, weightDecay: 0 } as const;
  const chunk = {
    g: rows(grad.g, span.from),
    coefficients: grad.coefficients?.subarray(span.from, span.from + span.rows),
    dim,
    norms: norms.subarray(span.at, span.at + span.rows),
  };
  denseUpdate(sgd, optimizer.learningRate, 1, chunk, rows(centers, span.at), { momentumBuffer: rows(velocity, span.at) });
}

/**
 * The sparse update of chunk `chunk` of a sampled shard: `grad` holds the rows of the sample's
 * classes [chunk·classChunk, …) (K rows per class), and each goes to its class's rows of the
 * shard by {@link momentumUpdate}. Rows of classes not sampled are not touched: their centres and
 * velocity keep their bits (no momentum decay), as in `PartialFCLoss`.
 * @internal
 */
export function sampledUpdate(
  optimizer: ShardOptimizer,
  sampled: Int32Array,
  chunk: { readonly index: number; readonly classChunk: number; readonly subCenters: number },
  grad: ShardGradient,
  state: ShardRows,
): void {
  const { index, classChunk, subCenters: k } = chunk;
  const first = index * classChunk;
  const last = Math.min(first + classChunk, sampled.length);
  if (grad.g.length !== (last - first) * k * state.dim) {
    throw new InternalError(`shard: chunk ${index}'s centre gradient has ${grad.g.length} values, expected ${(last - first) * k * state.dim}`);
  }
  for (let j = first; j < last; j++) momentumUpdate(optimizer, state, grad, { at: sampled[j]! * k, from: (j - first) * k, rows: k });
}
