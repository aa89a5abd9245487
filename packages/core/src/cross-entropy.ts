/**
 * The cross-entropy of the margin losses, computed relative to the target logit (with a series
 * for well-classified rows), and the reductions.
 *
 * @packageDocumentation
 */
import type { Ops } from './create-ops.js';
import type { MarginResolved } from './loss-options.js';
import type { Reduction } from './loss-types.js';
import type { MarginParts } from './margin-parts.js';

/** Below this Σ_{j≠y} exp(z_j − z_y), the loss log(1 + S) is computed by its series. */
const SERIES_BELOW = 1e-2;

/**
 * Per-sample cross-entropy, computed relative to the target logit:
 * d_j = s·(b_j − t) for j ≠ y and d_y = 0 exactly, loss = log Σ_j exp(d_j) with the max
 * subtracted (and held constant for the gradient: the value does not depend on it).
 * For a well-classified sample S = Σ_{j≠y} exp(d_j) is small and log(1 + S) would round 1 + S;
 * there the series S − S²/2 + S³/3 (error < S⁴/4 < 3e-9·S) keeps full float32 relative precision,
 * which `logSumExp(z) − z_y` (and float32 PyTorch cross_entropy) lose to cancellation.
 */
export function perSampleCrossEntropy<T>(ops: Ops<T>, { base, target, oneHot, scale }: MarginParts<T>): T {
  const others = ops.sub(ops.scalar(1), oneHot);
  const d = ops.mul(ops.mul(ops.sub(base, ops.reshape(target, [-1, 1])), others), scale);
  const m = ops.stopGradient(ops.max(d, 1, true));
  const e = ops.exp(ops.sub(d, m));
  const lse = ops.add(ops.reshape(m, [-1]), ops.log(ops.sum(e, 1)));
  const sum = ops.sum(ops.mul(e, others), 1);
  const sq = ops.mul(sum, sum);
  const series = ops.add(ops.sub(sum, ops.mul(sq, ops.scalar(0.5))), ops.mul(ops.mul(sq, sum), ops.scalar(1 / 3)));
  // S < 1e-2 implies max d = d_y = 0 (any d_j > 0 would put exp(0) = 1 into S), so e = exp(d).
  return ops.where(ops.less(sum, ops.scalar(SERIES_BELOW)), series, lse);
}

/** Reduces per-sample losses; `'mean'` averages over the rows that count. @internal */
export function reduce<T>(r: MarginResolved<T>, reduction: Reduction, perSample: T, valid: T): T {
  const { ops } = r;
  if (reduction === 'none') return perSample;
  if (reduction === 'sum') return ops.sum(perSample, 0);
  if (r.ignoreIndex === undefined) return ops.mean(perSample, 0);
  return ops.div(ops.sum(perSample, 0), ops.maximum(ops.sum(valid, 0), ops.scalar(1)));
}
