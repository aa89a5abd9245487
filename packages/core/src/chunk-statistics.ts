/**
 * The softmax statistics of a slice of the classes, per row, their exact merge, and the row losses
 * and softmax weights they give: the host-side algebra of {@link chunkedMarginSoftmaxStep}, plain
 * float64 arithmetic over [B]-sized arrays, so that shards in other threads can return statistics
 * and one thread merge them.
 *
 * @packageDocumentation
 */
import { ShapeError } from './errors.js';
import { checkNumber } from './input-checks.js';

/**
 * The softmax statistics of one row-batch over a slice of the classes, one value per row b, where
 * z_bj = s_b·l_bj is the scaled logit of class j (its cosine, or the margin's class-local logit)
 * and y_b the row's label (for an ignored row, class 0, as the unchunked loss does):
 * - `max`: M_b = max of z_bj over the slice's classes j ≠ y_b; −Infinity when the slice has none.
 * - `sumExp`: E_b = Σ exp(z_bj − M_b) over the same classes; 0 when it has none.
 * - `cosTarget`: c_{b,y_b} when the slice holds y_b, else 0.
 * - `slope`: E_b·∂(M_b + ln E_b)/∂c_{b,y_b}, the sensitivity of the slice's non-target log-sum-exp
 *   to the target cosine, scaled by E_b so that it merges like E_b. Zero for margins whose
 *   non-target logits do not depend on the target cosine; present only when gradients are taken.
 */
export interface ChunkStatistics {
  /** M_b, per row. */
  readonly max: Float64Array;
  /** E_b, per row. */
  readonly sumExp: Float64Array;
  /** The target cosine where the slice holds the label, else 0, per row. */
  readonly cosTarget: Float64Array;
  /** E_b·∂ lse_b/∂c_y, per row; absent when not computed. */
  readonly slope?: Float64Array;
}

/**
 * The statistics of no classes at all: the identity of {@link mergeChunkStatistics}.
 *
 * @param batch - B, the number of rows.
 * @param withSlope - include a zero `slope`.
 * @returns M = −∞, E = 0, target cosine 0 (and slope 0) for every row.
 *
 * @example
 * ```ts
 * import { emptyChunkStatistics } from '@marginkit/core';
 * const none = emptyChunkStatistics(2);
 * console.log(none.max[0] === -Infinity, none.sumExp[0], none.cosTarget.length); // true 0 2
 * ```
 */
export function emptyChunkStatistics(batch: number, withSlope = false): ChunkStatistics {
  checkNumber('batch', batch, { min: 0, integer: true });
  const max = new Float64Array(batch).fill(Number.NEGATIVE_INFINITY);
  return { max, sumExp: new Float64Array(batch), cosTarget: new Float64Array(batch), ...(withSlope ? { slope: new Float64Array(batch) } : {}) };
}

/**
 * Merges the statistics of two disjoint slices of the classes into those of their union:
 * M = max(M_a, M_b), E = E_a·e^{M_a − M} + E_b·e^{M_b − M}, the target cosines add (at most one
 * slice holds a row's label) and the slopes merge like E. Exact in real arithmetic and, in float64,
 * to a few units of rounding; commutative and associative (up to that rounding), with
 * {@link emptyChunkStatistics} as identity: chunks and shards may be merged in any order and
 * grouping. Each weight e^{M_a − M} is at most 1, so nothing overflows.
 *
 * @param a - one slice's statistics.
 * @param b - another slice's, same batch.
 * @returns the statistics of both slices together (new arrays).
 *
 * @example
 * ```ts
 * import { mergeChunkStatistics } from '@marginkit/core';
 * // Row logits z = [0, 1 | 2, 3] with the label on class 0, split into two slices of two classes.
 * const a = { max: Float64Array.of(1), sumExp: Float64Array.of(1), cosTarget: Float64Array.of(0.5) };
 * const b = { max: Float64Array.of(3), sumExp: Float64Array.of(1 + Math.exp(-1)), cosTarget: Float64Array.of(0) };
 * const m = mergeChunkStatistics(a, b);
 * console.log(m.max[0], m.sumExp[0]!.toFixed(4), m.cosTarget[0]); // 3 '1.5032' 0.5
 * ```
 */
export function mergeChunkStatistics(a: ChunkStatistics, b: ChunkStatistics): ChunkStatistics {
  const n = a.max.length;
  for (const [name, s] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (const key of ['max', 'sumExp', 'cosTarget'] as const) {
      if (s[key].length !== n) throw new ShapeError(`${name}.${key}`, `has ${s[key].length} rows, expected ${n} (as a.max)`);
    }
    if (s.slope !== undefined && s.slope.length !== n) throw new ShapeError(`${name}.slope`, `has ${s.slope.length} rows, expected ${n} (as a.max)`);
  }
  const withSlope = a.slope !== undefined || b.slope !== undefined;
  const out = emptyChunkStatistics(n, withSlope);
  const max = out.max;
  const sumExp = out.sumExp;
  for (let i = 0; i < n; i++) {
    const m = Math.max(a.max[i]!, b.max[i]!);
    const wa = a.sumExp[i]! === 0 ? 0 : Math.exp(a.max[i]! - m);
    const wb = b.sumExp[i]! === 0 ? 0 : Math.exp(b.max[i]! - m);
    max[i] = m;
    sumExp[i] = a.sumExp[i]! * wa + b.sumExp[i]! * wb;
    out.cosTarget[i] = a.cosTarget[i]! + b.cosTarget[i]!;
    if (out.slope !== undefined) out.slope[i] = (a.slope?.[i] ?? 0) * wa + (b.slope?.[i] ?? 0) * wb;
  }
  return out;
}

/** What the merged statistics and the target logits give, per row (see {@link softmaxRows}). */
export interface SoftmaxRows {
  /** The cross-entropy ℓ_b = log(1 + Σ_{j≠y} e^{z_j − z_y}) = softplus(d_b), d_b = M_b + ln E_b − z_y. */
  readonly loss: Float64Array;
  /** The full log-sum-exp lse_b = log Σ_j e^{z_bj} = z_y + ℓ_b: p_bj = e^{z_bj − lse_b}. */
  readonly logSumExp: Float64Array;
  /** 1 − p_{b,y} = σ(d_b), computed without cancellation: minus the gradient of ℓ_b with respect to z_y. */
  readonly notTarget: Float64Array;
}

/**
 * The per-row cross-entropy and softmax weights from merged statistics (over all classes) and the
 * scaled target logits z_y = s·t. With d = M + ln E − z_y (the non-target log-sum-exp relative to
 * the target), ℓ = softplus(d) = max(d, 0) + log1p(e^{−|d|}) and 1 − p_y = σ(d), both in float64
 * without overflow or cancellation: a well-classified row (d ≪ 0) keeps full relative precision
 * (log1p of e^{d}, where the op set's cross-entropy needs a series), a badly classified one
 * (d ≫ 0) gets d + log1p(e^{−d}). A row without non-target classes (E = 0) has ℓ = 0, p_y = 1.
 *
 * @param stats - the statistics merged over every class.
 * @param targetLogits - z_y per row, scaled.
 * @returns per-row loss, log-sum-exp and 1 − p_y.
 *
 * @example
 * ```ts
 * import { softmaxRows } from '@marginkit/core';
 * // Logits [2, 0, 0] with the label on class 0: ℓ = log(1 + 2e⁻²).
 * const rows = softmaxRows({ max: Float64Array.of(0), sumExp: Float64Array.of(2), cosTarget: Float64Array.of(1) }, [2]);
 * console.log(rows.loss[0]!.toFixed(6), Math.log(1 + 2 * Math.exp(-2)).toFixed(6)); // '0.239545' '0.239545'
 * ```
 */
export function softmaxRows(stats: ChunkStatistics, targetLogits: ArrayLike<number>): SoftmaxRows {
  const n = stats.max.length;
  if (targetLogits.length !== n) throw new ShapeError('targetLogits', `has ${targetLogits.length} rows, expected ${n} (as stats.max)`);
  const loss = new Float64Array(n);
  const logSumExp = new Float64Array(n);
  const notTarget = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const zy = targetLogits[i]!;
    const e = stats.sumExp[i]!;
    if (e === 0) {
      logSumExp[i] = zy;
      continue;
    }
    const d = stats.max[i]! + Math.log(e) - zy;
    const l = Math.max(d, 0) + Math.log1p(Math.exp(-Math.abs(d)));
    loss[i] = l;
    logSumExp[i] = zy + l;
    notTarget[i] = d >= 0 ? 1 / (1 + Math.exp(-d)) : Math.exp(d) / (1 + Math.exp(d));
  }
  return { loss, logSumExp, notTarget };
}
