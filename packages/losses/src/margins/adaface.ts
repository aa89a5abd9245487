import { type Margin, type MarginContext, type MarginResult, readNumber, readOptions } from '@marginkit/core';

/** Options of {@link adaface}. */
export interface AdaFaceOptions {
  /** The margin m (radians on the angle, unitless on the cosine), in [0, π/2). Default 0.4. */
  readonly m?: number;
  /** h, how far the norm moves the margin (the norm's z-score is multiplied by h, then clipped to [−1, 1]), in [0, ∞). Default 0.333. */
  readonly h?: number;
  /** t_α in [0, 1], the EMA rate of the batch norm statistics (1 uses only the current batch). Default 0.01 (the paper's training config). */
  readonly tAlpha?: number;
  /** AdaFace's own eps: cosines are clamped to [−1 + eps, 1 − eps], θ to [eps, π − eps], and it is added to σ. Default 1e-3. */
  readonly epsilon?: number;
}

const HALF_PI = { min: 0, max: Math.PI / 2, maxOpen: true, text: '[0, π/2)', radians: true } as const;

/**
 * AdaFace (Kim, Jain & Liu, CVPR 2022): a margin that adapts to image quality through the
 * embedding norm. With the norm's batch z-score ẑ = clip(h·(‖x‖ − μ)/(σ + eps), −1, 1) (norms
 * clipped to [0.001, 100] and detached; μ, σ the EMA of the batch mean and unbiased std), the
 * target logit is cos(clip(θ_y − m·ẑ, eps, π − eps)) − (m + m·ẑ): ẑ = −1 (a low norm, a poor
 * image) gives ArcFace's cos(θ_y + m), ẑ = 0 CosFace's c_y − m, and ẑ = +1 (a high norm, a good
 * image) cos(θ_y − m) − 2m, which weighs hard samples more. All cosines are clamped to
 * [−1 + eps, 1 − eps], as the reference does. State: `batchMean` (μ, initially 20) and `batchStd`
 * (σ, initially 100), updated on training steps before they are used; statistics use only the
 * rows that count (not label −1); with one such row σ of the batch is 0 (the reference's
 * unbiased std is NaN there, and stays NaN), and a batch with none keeps the state.
 *
 * Reference code: mk-minchul/AdaFace `head.py` (class `AdaFace`), checked at commit
 * c60eaa786a42c03444f3df7096dbaf9d57ae010d (`head.py` last changed in 7f0dbbf2ba0ec68e48005151434d1926da70b11c); the paper's training uses m 0.4, h 0.333, t_α 0.01, s 64.
 *
 * @param options - `m`, `h`, `tAlpha`, `epsilon`; see {@link AdaFaceOptions}.
 * @returns the margin (with state `batchMean`, `batchStd`).
 *
 * @example
 * ```ts
 * import { adaface } from '@marginkit/losses';
 * const margin = adaface({ m: 0.4, h: 0.333 });
 * console.log(margin.config, Object.keys(margin.state!)); // { type: 'adaface', m: 0.4, h: 0.333, tAlpha: 0.01, epsilon: 0.001 } ['batchMean', 'batchStd']
 * ```
 */
export function adaface(options?: AdaFaceOptions): Margin {
  return adafaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function adafaceFrom(options: unknown): Margin {
  const o = readOptions('adaface', options, ['m', 'h', 'tAlpha', 'epsilon']);
  const m = readNumber('adaface.m', o['m'], 0.4, HALF_PI);
  const h = readNumber('adaface.h', o['h'], 0.333, { min: 0, max: Number.MAX_VALUE, text: '[0, ∞)' });
  const tAlpha = readNumber('adaface.tAlpha', o['tAlpha'], 0.01, { min: 0, max: 1, text: '[0, 1]' });
  const eps = readNumber('adaface.epsilon', o['epsilon'], 1e-3, { min: Number.MIN_VALUE, max: 0.1, text: '(0, 0.1]' });
  return {
    type: 'adaface',
    config: { type: 'adaface', m, h, tAlpha, epsilon: eps },
    featureScale: 'fixed',
    // Its logits are the clipped cosines, class by class: it runs over class chunks (chunkedMarginSoftmaxStep).
    classLocal: true,
    state: {
      batchMean: { shape: [], initial: () => [20] },
      batchStd: { shape: [], initial: () => [100] },
    },
    transform: <T>(context: MarginContext<T>): MarginResult<T> => adafaceTransform(context, { m, h, tAlpha, eps }),
  };
}

function adafaceTransform<T>(
  { ops, cosines, cosTarget, norms, valid, state, training }: MarginContext<T>,
  { m, h, tAlpha, eps }: { m: number; h: number; tAlpha: number; eps: number },
): MarginResult<T> {
  const s = (v: number) => ops.scalar(v);
  const safe = ops.stopGradient(ops.clip(ops.reshape(norms, [-1]), 0.001, 100));
  let mean: T = state['batchMean']!;
  let std: T = state['batchStd']!;
  if (training) {
    const n = ops.sum(valid, 0);
    const batchMean = ops.div(ops.sum(ops.mul(safe, valid), 0), ops.maximum(n, s(1)));
    const dev = ops.mul(ops.sub(safe, batchMean), valid);
    const batchStd = ops.sqrt(ops.div(ops.sum(ops.mul(dev, dev), 0), ops.maximum(ops.sub(n, s(1)), s(1))));
    // A batch with no counted row (all labels −1) keeps the state.
    const any = ops.greater(n, s(0.5));
    mean = ops.where(any, ops.add(ops.mul(batchMean, s(tAlpha)), ops.mul(mean, s(1 - tAlpha))), mean);
    std = ops.where(any, ops.add(ops.mul(batchStd, s(tAlpha)), ops.mul(std, s(1 - tAlpha))), std);
  }
  const z = ops.clip(ops.mul(ops.div(ops.sub(safe, mean), ops.add(std, s(eps))), s(h)), -1, 1);
  const theta = ops.acos(ops.clip(cosTarget, -1 + eps, 1 - eps));
  const angular = ops.cos(ops.clip(ops.sub(theta, ops.mul(z, s(m))), eps, Math.PI - eps));
  const target = ops.sub(angular, ops.add(ops.mul(z, s(m)), s(m)));
  return { target, logits: ops.clip(cosines, -1 + eps, 1 - eps), state: { batchMean: mean, batchStd: std } };
}
