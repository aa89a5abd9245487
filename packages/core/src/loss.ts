/**
 * The margin losses: {@link marginLogits}, {@link marginSoftmaxLoss} and the stateful
 * {@link marginSoftmaxStep}, assembled from the option readers, the margin parts and the
 * cross-entropy.
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import { perSampleCrossEntropy, reduce } from './cross-entropy.js';
import { readStepOptions, resolveMargin, statelessOnly } from './loss-options.js';
import type { Labels, MarginLogitsOptions, MarginLoss, MarginSoftmaxLossOptions, MarginStep, MarginStepOptions, MarginStepResult } from './loss-types.js';
import { readChoice } from './margin-options.js';
import { initialStateOf, marginParts } from './margin-parts.js';

/**
 * The scaled logits with the margin applied to each row's target class, [B, C], for users who
 * bring their own cross-entropy. For margins that return whole-row logits (CurricularFace) the
 * non-target entries are theirs. Margins with state or per-step inputs need {@link marginSoftmaxStep}.
 *
 * @param backend - a marginkit backend.
 * @param options - the margin, scale s and numerics; see {@link MarginLogitsOptions}.
 * @returns `(embeddings [B, D], centers [C, D], labels [B]) => logits [B, C]`.
 *
 * @example
 * ```ts
 * import { arcface, marginLogits } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const logits = marginLogits(tfjsBackend(tf), { margin: arcface({ m: 0.5 }), scale: 1 });
 * const out = logits(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0], [0, 1]]), [0]);
 * console.log(Array.from(out.dataSync()).map((v) => v.toFixed(3))); // ['0.877', '0.000'] (c = 1 is clamped to 1 − ε)
 * ```
 */
export function marginLogits<T>(backend: Backend<T>, options: MarginLogitsOptions): MarginLoss<T> {
  const { r } = resolveMargin('marginLogits', backend, options, []);
  statelessOnly('marginLogits', r.margin);
  const { ops } = r;
  return (embeddings, centers, labels) => {
    const { base, target, oneHot, scale } = marginParts(r, embeddings, centers, labels);
    const others = ops.mul(base, ops.sub(ops.scalar(1), oneHot));
    return ops.mul(ops.add(others, ops.mul(oneHot, ops.reshape(target, [-1, 1]))), scale);
  };
}

/**
 * The margin softmax loss: cross-entropy over s·logits where the target logit carries the
 * margin. Per row it is computed relative to the target, log(1 + Σ_{j≠y} exp(s·(c_j − t))), with
 * the max subtracted, and by its series where that sum is below 1e-2, so that well-classified
 * samples keep full float32 relative precision (the usual logSumExp(z) − z_y loses it to
 * cancellation). A margin's auxiliary loss (MagFace) is added per row. Then reduced. Traceable by
 * symbolic backends: it reads no tensor values (except for `validate: 'full'` checks on eager
 * backends) and has no value-dependent control flow. Margins with state or per-step inputs
 * (AdaFace, CurricularFace, AdaCos, ElasticFace) need {@link marginSoftmaxStep}.
 *
 * @param backend - a marginkit backend, e.g. `tfjsBackend(tf)`.
 * @param options - margin, scale (default 64), reduction (default `'mean'`), sub-centres, ignored label and numerics.
 * @returns `(embeddings [B, D], centers [C, D], labels int32 [B]) => loss` (scalar, or [B] for `'none'`).
 *
 * @example
 * ```ts
 * import { arcface, marginSoftmaxLoss } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs'; // the union package registers the gradients
 * const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin: arcface(), scale: 16 });
 * const embeddings = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
 * const centers = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 2));
 * const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
 * const { value, grads } = tf.variableGrads(() => loss(embeddings, centers, labels) as tf.Scalar);
 * console.log(value.dataSync()[0]! > 0, grads[centers.name]!.shape); // true [3, 4]
 * ```
 */
export function marginSoftmaxLoss<T>(backend: Backend<T>, options: MarginSoftmaxLossOptions): MarginLoss<T> {
  return marginSoftmaxLossFrom(backend, options);
}

/** The loss from unchecked options (a parsed config). @internal */
export function marginSoftmaxLossFrom<T>(backend: Backend<T>, options: unknown): MarginLoss<T> {
  const step = marginSoftmaxStepFrom(backend, options, 'marginSoftmaxLoss');
  statelessOnly('marginSoftmaxLoss', step.margin);
  return (embeddings, centers, labels) => step(embeddings, centers, labels).loss;
}

/**
 * The margin softmax loss with the margin's state and per-step inputs: state in, state out. Use it
 * for AdaFace, CurricularFace, AdaCos and ElasticFace (or any margin of your own with state);
 * `@marginkit/losses` heads call it and keep the state for you. For stateless margins it computes
 * what {@link marginSoftmaxLoss} does.
 *
 * @param backend - a marginkit backend.
 * @param options - as {@link marginSoftmaxLoss}.
 * @returns a {@link MarginStep}.
 *
 * @example
 * ```ts
 * import { defineMargin, marginSoftmaxStep } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs';
 * // A margin that keeps a running mean of the target cosine and subtracts a margin scaled by it.
 * const running = defineMargin({
 *   type: 'running-cosface',
 *   params: { m: 0.3 },
 *   state: { mean: { shape: [], initial: () => [0] } },
 *   transform: ({ ops, cosTarget, state, training }, { m }) => {
 *     const batchMean = ops.stopGradient(ops.mean(cosTarget, 0));
 *     const mean = training ? ops.add(ops.mul(state['mean']!, ops.scalar(0.9)), ops.mul(batchMean, ops.scalar(0.1))) : state['mean']!;
 *     return { target: ops.sub(cosTarget, ops.mul(ops.scalar(m), ops.add(ops.scalar(1), mean))), state: { mean } };
 *   },
 * });
 * const step = marginSoftmaxStep(tfjsBackend(tf), { margin: running, scale: 16 });
 * const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
 * const w = tf.randomNormal([3, 4], 0, 1, 'float32', 2);
 * const first = step(x, w, [0, 1, 2, 0, 1, 2]);
 * const second = step(x, w, [0, 1, 2, 0, 1, 2], { state: first.state });
 * console.log(first.state['mean']!.shape, second.loss.shape); // [] []
 * ```
 */
export function marginSoftmaxStep<T>(backend: Backend<T>, options: MarginSoftmaxLossOptions): MarginStep<T> {
  return marginSoftmaxStepFrom(backend, options, 'marginSoftmaxStep');
}

/** The step from unchecked options (a parsed config). @internal */
export function marginSoftmaxStepFrom<T>(backend: Backend<T>, options: unknown, owner = 'marginSoftmaxStep'): MarginStep<T> {
  const { r, o } = resolveMargin(owner, backend, options, ['reduction']);
  const reduction = readChoice(`${owner}.reduction`, o['reduction'], 'mean', ['mean', 'sum', 'none']);
  const { ops, margin } = r;
  const step = (embeddings: T, centers: T, labels: Labels<T>, stepOptions: MarginStepOptions<T> = {}): MarginStepResult<T> => {
    const parts = marginParts(r, embeddings, centers, labels, readStepOptions(stepOptions));
    const masked = (x: T): T => (r.ignoreIndex === undefined ? x : ops.mul(x, parts.valid));
    let perSample = perSampleCrossEntropy(ops, parts);
    const aux = parts.result.auxiliaryLoss;
    if (aux !== undefined) perSample = ops.add(perSample, aux);
    perSample = masked(perSample);
    const next: Record<string, T> = {};
    for (const key of Object.keys(margin.state ?? {})) next[key] = parts.result.state?.[key] ?? parts.state[key]!;
    return {
      loss: reduce(r, reduction, perSample, parts.valid),
      perSample,
      ...(aux === undefined ? {} : { auxiliaryLoss: reduce(r, reduction, masked(aux), parts.valid) }),
      state: next,
    };
  };
  return Object.assign(step, {
    margin,
    subCenters: r.subCenters,
    ignoreIndex: r.ignoreIndex,
    reduction,
    initialState: (classes: number) => initialStateOf(margin, classes),
  });
}
