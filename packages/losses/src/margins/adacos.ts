import { MarginDomainError, type Margin, type MarginContext, type MarginResult, readOptions } from '@marginkit/core';
import { rankCounts } from './rank.js';

/**
 * AdaCos (Zhang et al., CVPR 2019): no margin, and a scale that adapts itself. State `s`, initially
 * √2·ln(C − 1); on a training step, with the cosines and angles detached,
 * B_avg = (1/n)·Σ_i Σ_{j≠y_i} exp(s·c_ij) over the n rows that count and θ_med the (lower) median
 * of their θ_y, the new s = ln(B_avg) / cos(min(π/4, θ_med)) scales this step's logits and is kept.
 * The loss's own `scale` is not used. Needs C ≥ 3. A step with no counted rows keeps s.
 *
 * Reference code: there is no code by the authors; checked against 4uiiurz1/pytorch-adacos
 * `metrics.py` (`AdaCos`) at 35c086cc07087657595e1d10eaddefb3b3a46f35, which follows the paper's Algorithm 1.
 *
 * @returns the margin (with state `s`).
 *
 * @example
 * ```ts
 * import { adacos } from '@marginkit/losses';
 * console.log(adacos().state!['s']!.initial(1001)); // [9.76...] = √2·ln 1000
 * ```
 */
export function adacos(): Margin {
  return adacosFrom(undefined);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function adacosFrom(options: unknown): Margin {
  readOptions('adacos', options, []);
  return {
    type: 'adacos',
    config: { type: 'adacos' },
    featureScale: 'fixed',
    state: {
      s: {
        shape: [],
        initial: (classes) => {
          if (classes < 3) throw new MarginDomainError('adacos', `needs at least 3 classes (s₀ = √2·ln(C − 1)), got ${classes}`);
          return [Math.SQRT2 * Math.log(classes - 1)];
        },
      },
    },
    transform: <T>(context: MarginContext<T>): MarginResult<T> => {
      const { cosTarget, state, training } = context;
      const s = training ? adaptScale(context, state['s']!) : state['s']!;
      return { target: cosTarget, scale: s, state: { s } };
    },
  };
}

function adaptScale<T>({ ops, cosines, cosTarget, oneHot, valid, epsilon }: MarginContext<T>, s: T): T {
  const one = ops.scalar(1);
  const c = ops.stopGradient(cosines);
  const n = ops.sum(valid, 0);
  const others = ops.sum(ops.mul(ops.exp(ops.mul(c, s)), ops.sub(one, oneHot)), 1);
  const bAvg = ops.div(ops.sum(ops.mul(others, valid), 0), ops.maximum(n, one));
  const theta = ops.acos(ops.clip(ops.stopGradient(cosTarget), -1 + epsilon, 1 - epsilon));
  // Lower median: the θ_i (of a counted row) with #{θ_j < θ_i} ≤ k < #{θ_j ≤ θ_i}, k = ⌊(n − 1)/2⌋.
  const { below, above } = rankCounts(ops, theta, valid);
  const k = ops.floor(ops.div(ops.sub(n, one), ops.scalar(2)));
  const atMost = ops.sub(n, above); // #{θ_j ≤ θ_i}
  const isMedian = ops.mul(
    valid,
    ops.mul(ops.cast(ops.less(below, ops.add(k, ops.scalar(0.5))), 'float32'), ops.cast(ops.greater(atMost, ops.add(k, ops.scalar(0.5))), 'float32')),
  );
  const median = ops.max(ops.sub(ops.mul(ops.add(theta, one), isMedian), one), 0); // θ where selected, −1 elsewhere
  const next = ops.div(ops.log(bAvg), ops.cos(ops.minimum(median, ops.scalar(Math.PI / 4))));
  return ops.where(ops.greater(n, ops.scalar(0.5)), next, s);
}
