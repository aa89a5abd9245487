/**
 * Row normalisation and the cosines x̂·Ŵⱼ between embeddings and class centres, and
 * {@link cosineLogits}, the inference logits.
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import type { Ops } from './create-ops.js';
import { checkPair } from './loss-inputs.js';
import { LOGITS_KEYS, type Resolved, readSubCenters, resolveBase } from './loss-options.js';
import type { CosineLogitsOptions } from './loss-types.js';
import { readOptions } from './margin-options.js';

/**
 * The overflow-safe pieces of a row-wise L2 norm: each row is divided by m = max(max|x|, eps)
 * (held constant for the gradient: what is built from y and m does not depend on it), so y = x/m
 * has entries in [−1, 1] and ‖y‖² cannot overflow; ny = max(‖y‖, 1) ∈ [1, √D]. Then x/(m·ny) is
 * x/max(‖x‖, eps): where max|x| ≥ eps, ‖y‖ ≥ 1 and m·ny = ‖x‖; where it is below eps, m·ny =
 * max(‖x‖, eps). Every constant is a plain float (no subnormal or 2⁻¹²⁶ floor), so WebGL's highp
 * range (2⁻⁶² … 2⁶²) holds it too.
 */
function scaledRows<T>(ops: Ops<T>, x: T, eps: number): { readonly y: T; readonly m: T; readonly ny: T } {
  // There is no abs op: max|x| = max(max x, max −x), two reductions, rather than the reduction of
  // maximum(x, −x): a full-size maximum is a slow kernel on tfjs-backend-wasm (60 ms on [10000,
  // 512], 15x its multiply), and ONNX Runtime reads max(−x) as −ReduceMin(x), writing nothing.
  const top = ops.maximum(ops.max(x, 1, true), ops.max(ops.neg(x), 1, true));
  const m = ops.stopGradient(ops.maximum(top, ops.scalar(eps)));
  const y = ops.div(x, m);
  const ny = ops.sqrt(ops.maximum(ops.sum(ops.mul(y, y), 1, true), ops.scalar(1)));
  return { y, m, ny };
}

/**
 * Row-wise L2 normalisation x / max(‖x‖, eps) (= x / √max(‖x‖², eps²)), without overflow or
 * underflow for every finite float32 input: x̂ = y / ny with y = x/m and ny = max(‖y‖, 1) from
 * {@link scaledRows}. Also returns the norms max(‖x‖, eps) [B, 1] = m·ny: exact to float32
 * rounding wherever ‖x‖ is a float32 number, and +Infinity only where ‖x‖ itself exceeds the
 * float32 maximum ≈ 3.4e38; the unit rows and cosines stay finite even then.
 */
function normalizeRows<T>(ops: Ops<T>, x: T, eps: number): { readonly unit: T; readonly norm: T } {
  const { y, m, ny } = scaledRows(ops, x, eps);
  // y·(1/ny) rather than y/ny: the reciprocal is taken on [rows, 1] (ny ∈ [1, √D], so 1/ny is a
  // plain float), and a product's gradient costs two passes over [rows, D] where a quotient's
  // costs four (dy/ny, and dy·y/ny² for the divisor).
  return { unit: ops.mul(y, ops.div(ops.scalar(1), ny)), norm: ops.mul(m, ny) };
}

/**
 * The unit rows of `embeddings` and their norms, as {@link cosines} takes them (the overflow-safe
 * norm with `r.normEpsilon`): for graphs that form the product with the centres themselves.
 * @internal
 */
export function unitRows<T>(r: Resolved<T>, embeddings: T): { readonly unit: T; readonly norm: T } {
  return normalizeRows(r.ops, embeddings, r.normEpsilon);
}

/**
 * Cosines [B, C] (max over sub-centres) and embedding norms [B, 1]. The embeddings are normalised
 * ({@link normalizeRows}); the unit centres Ŵ are never written: with y = w/m and ny from
 * {@link scaledRows} (the same overflow-safe pieces, on [C, 1]), cos = (x̂·yᵀ) ⊙ (1/ny)ᵀ, the
 * reciprocal norms applied to the columns of the [B, C] product. |x̂·y_j| ≤ ‖y_j‖ ≤ √D and
 * 1/ny ∈ [1/√D, 1], so the cosines stay finite for every finite input, and a zero centre (y = 0)
 * has cosines 0. Over the [C, D] centres this leaves max|w|, y and ‖y‖² forward, and backward the
 * matmul's gradient, the term of ‖y‖² (a product, and its addition) and the division by m. The
 * column scale and its gradient (g ⊙ (1/ny)ᵀ, and Σ_i g_ij·(x̂_i·y_j) for the scale) are passes
 * over [B, C] instead, which has fewer elements than [C, D] when the batch B is below the
 * embedding size D. `reciprocalNorms` [1, C·K], when given, are 1/max(‖w_j‖, eps) computed
 * elsewhere (the host, for chunks in host memory): no pass over [C, D] then but the product. @internal
 */
export function cosines<T>(r: Resolved<T>, embeddings: T, centers: T, subCenters = 1, reciprocalNorms?: T): { readonly cos: T; readonly norm: T } {
  const { ops } = r;
  const x = normalizeRows(ops, embeddings, r.normEpsilon);
  let all: T;
  if (reciprocalNorms === undefined) {
    const w = scaledRows(ops, centers, r.normEpsilon);
    const columns = ops.reshape(ops.div(ops.scalar(1), w.ny), [1, -1]);
    all = ops.mul(ops.matmul(x.unit, w.y, { transposeB: true }), columns);
  } else {
    // Norms taken on the host (chunk-norms.ts): the raw centres go into the product, [1, C·K] scales its columns.
    all = ops.mul(ops.matmul(x.unit, centers, { transposeB: true }), reciprocalNorms);
  }
  if (subCenters === 1) return { cos: all, norm: x.norm };
  const classes = ops.shape(centers)[0]! / subCenters;
  return { cos: ops.max(ops.reshape(all, [-1, classes, subCenters]), 2), norm: x.norm };
}

/**
 * Inference logits: the cosines x̂·Ŵⱼ [B, C] between L2-normalised embeddings and centres.
 *
 * @param backend - a marginkit backend.
 * @param options - normalisation eps, validation level and sub-centres per class.
 * @returns `(embeddings [B, D], centers [C·K, D]) => cosines [B, C]`.
 *
 * @example
 * ```ts
 * import { cosineLogits } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const logits = cosineLogits(tfjsBackend(tf));
 * const cos = logits(tf.tensor2d([[3, 4]]), tf.tensor2d([[1, 0], [0, 2]]));
 * console.log(Array.from(cos.dataSync()).map((v) => v.toFixed(2))); // ['0.60', '0.80']
 * ```
 */
export function cosineLogits<T>(backend: Backend<T>, options?: CosineLogitsOptions): (embeddings: T, centers: T) => T {
  const o = readOptions('cosineLogits', options, [...LOGITS_KEYS, 'subCenters']);
  const r = resolveBase('cosineLogits', backend, o);
  const k = readSubCenters('cosineLogits.subCenters', o['subCenters']);
  return (embeddings, centers) => {
    checkPair(r, embeddings, centers, k);
    return cosines(r, embeddings, centers, k).cos;
  };
}
