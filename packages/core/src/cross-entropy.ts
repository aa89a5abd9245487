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
 * d_j = s·(b_j − t) for j ≠ y and d_y = 0 exactly, loss = log Σ_j exp(d_j) = log(1 + S) with
 * S = Σ_{j≠y} exp(d_j). With M = max_j d_j = max(0, max_{j≠y} d_j) subtracted (and held constant
 * for the gradient: the value does not depend on it) and E = Σ_{j≠y} exp(d_j − M), it is
 * M + log(exp(−M) + E). For a well-classified sample S is small and log(1 + S) would round 1 + S;
 * there the series S − S²/2 + S³/3 (error < S⁴/4 < 3e-9·S) keeps full float32 relative precision,
 * which `logSumExp(z) − z_y` (and float32 PyTorch cross_entropy) lose to cancellation.
 *
 * The mask 1 − onehot is applied twice, multiplied into the scale (s·(1 − onehot), from labels and
 * scale alone, so d_y is 0 exactly for any finite scale, a scalar or [B, 1]) and onto exp(d − M),
 * so that E is a plain row sum of the j ≠ y terms, never 1 + S less the target's term. Passes over
 * [B, C], forward: the mask and its scaled copy, b − t, d, the row max, d − M, exp, the masked
 * exp and its sum; backward: the mask, exp's product, d's one product with the scaled mask (the
 * scale is not a second factor of d) and the row sum for t.
 */
export function perSampleCrossEntropy<T>(ops: Ops<T>, { base, target, oneHot, scale }: MarginParts<T>): T {
  const others = ops.sub(ops.scalar(1), oneHot);
  // s·(1 − onehot): 0 at the target for any finite scale (a scalar or [B, 1]), so d_y = 0 exactly.
  const scaled = ops.mul(others, scale);
  const d = ops.mul(ops.sub(base, ops.reshape(target, [-1, 1])), scaled);
  const m = ops.stopGradient(ops.max(d, 1, true));
  const sum = ops.sum(ops.mul(ops.exp(ops.sub(d, m)), others), 1);
  const top = ops.reshape(m, [-1]);
  const lse = ops.add(top, ops.log(ops.add(ops.exp(ops.neg(top)), sum)));
  const sq = ops.mul(sum, sum);
  const series = ops.add(ops.sub(sum, ops.mul(sq, ops.scalar(0.5))), ops.mul(ops.mul(sq, sum), ops.scalar(1 / 3)));
  // E < 1e-2 implies M = 0 (a d_j = M > 0 would put exp(0) = 1 into E), so E = S there.
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
