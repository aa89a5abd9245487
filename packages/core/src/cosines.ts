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
 * Row-wise L2 normalisation x / max(‖x‖, eps) (= x / √max(‖x‖², eps²)), without overflow or
 * underflow for every finite float32 input: each row is first divided by m = max(max|x|, eps)
 * (held constant for the gradient: the result does not depend on it), so y = x/m has entries in
 * [−1, 1] and ‖y‖² cannot overflow; then x̂ = y / max(‖y‖, 1). Where max|x| ≥ eps, ‖y‖ ≥ 1 and
 * this is x/‖x‖; where it is below eps, it is x/max(‖x‖, eps). Every constant is a plain float
 * (no subnormal or 2⁻¹²⁶ floor), so WebGL's highp range (2⁻⁶² … 2⁶²) holds it too. Also returns the
 * norms max(‖x‖, eps) [B, 1] = m·max(‖y‖, 1): exact to float32 rounding wherever ‖x‖ is a float32
 * number, and +Infinity only where ‖x‖ itself exceeds the float32 maximum ≈ 3.4e38; the unit rows
 * and cosines stay finite even then.
 */
function normalizeRows<T>(ops: Ops<T>, x: T, eps: number): { readonly unit: T; readonly norm: T } {
  // There is no abs op: |x| = max(x, −x).
  const m = ops.stopGradient(ops.maximum(ops.max(ops.maximum(x, ops.neg(x)), 1, true), ops.scalar(eps)));
  const y = ops.div(x, m);
  const ny = ops.sqrt(ops.maximum(ops.sum(ops.mul(y, y), 1, true), ops.scalar(1)));
  // y·(1/ny) rather than y/ny: the reciprocal is taken on [rows, 1] (ny ∈ [1, √D], so 1/ny is a
  // plain float), and a product's gradient costs two passes over [rows, D] where a quotient's
  // costs four (dy/ny, and dy·y/ny² for the divisor).
  return { unit: ops.mul(y, ops.div(ops.scalar(1), ny)), norm: ops.mul(m, ny) };
}

/** Cosines [B, C] (max over sub-centres) and embedding norms [B, 1]. @internal */
export function cosines<T>(r: Resolved<T>, embeddings: T, centers: T, subCenters = 1): { readonly cos: T; readonly norm: T } {
  const { ops } = r;
  const x = normalizeRows(ops, embeddings, r.normEpsilon);
  const w = normalizeRows(ops, centers, r.normEpsilon);
  const all = ops.matmul(x.unit, w.unit, { transposeB: true });
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
