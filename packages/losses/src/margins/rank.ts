import type { Ops } from '@marginkit/core';

/**
 * For x [B] and weights w [B] (1 for rows that count, 0 for the others), the counts
 * below_i = #{j counted : x_j < x_i} and above_i = #{j counted : x_j > x_i}, as [B] float32,
 * from [B, B] comparisons (the op set has no sort; B is a batch, so B² is small).
 */
export function rankCounts<T>(ops: Ops<T>, x: T, w: T): { readonly below: T; readonly above: T } {
  const row = ops.reshape(x, [-1, 1]);
  const col = ops.reshape(x, [1, -1]);
  const wc = ops.reshape(w, [1, -1]);
  const count = (cmp: T): T => ops.sum(ops.mul(ops.cast(cmp, 'float32'), wc), 1);
  return { below: count(ops.less(col, row)), above: count(ops.greater(col, row)) };
}
