import { type Margin, type MarginContext, type MarginResult, arcface, readNumber, readOptions } from '@marginkit/core';

/** Options of {@link curricularface}. */
export interface CurricularFaceOptions {
  /** The additive angular margin m, radians, in [0, π/2). Default 0.5. */
  readonly m?: number;
  /** The EMA rate of t, in [0, 1]. Default 0.01. */
  readonly momentum?: number;
}

/**
 * CurricularFace (Huang et al., CVPR 2020): ArcFace's target cos(θ_y + m) (insightface's `'linear'`
 * fallback), and each hard negative — a class j with c_j > cos(θ_y + m) — reweighted to
 * c_j·(t + c_j), where t, the EMA of the mean target cosine (state `t`, initially 0, updated with
 * `momentum` on training steps before it is used, detached; a batch with no counted row keeps it), moves the emphasis from easy to hard
 * samples as training proceeds. Returns the whole logit matrix.
 *
 * Reference code: HuangYG123/CurricularFace `head/metrics.py` (`CurricularFace`), checked at
 * 68c8727fb7cd2243ecbfd7e09c35efc87c6e2de4.
 *
 * @param options - `m` and `momentum`; see {@link CurricularFaceOptions}.
 * @returns the margin (with state `t`).
 *
 * @example
 * ```ts
 * import { curricularface } from '@marginkit/losses';
 * console.log(curricularface().config); // { type: 'curricularface', m: 0.5, momentum: 0.01 }
 * ```
 */
export function curricularface(options?: CurricularFaceOptions): Margin {
  return curricularfaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function curricularfaceFrom(options: unknown): Margin {
  const o = readOptions('curricularface', options, ['m', 'momentum']);
  const m = readNumber('curricularface.m', o['m'], 0.5, { min: 0, max: Math.PI / 2, maxOpen: true, text: '[0, π/2)', radians: true });
  const momentum = readNumber('curricularface.momentum', o['momentum'], 0.01, { min: 0, max: 1, text: '[0, 1]' });
  const target = arcface({ m, fallback: 'linear' }).targetLogit!;
  const raw = arcface({ m, fallback: 'none' }).targetLogit!;
  return {
    type: 'curricularface',
    config: { type: 'curricularface', m, momentum },
    featureScale: 'fixed',
    // A hard negative's logit c_j·(t + c_j) depends on c_j, c_y and t only: it runs over class chunks (chunkedMarginSoftmaxStep).
    classLocal: true,
    state: { t: { shape: [], initial: () => [0] } },
    transform<T>(context: MarginContext<T>): MarginResult<T> {
      const { ops, cosines, cosTarget, valid, state, training } = context;
      let t: T = state['t']!;
      if (training) {
        const n = ops.sum(valid, 0);
        const mean = ops.div(ops.sum(ops.mul(cosTarget, valid), 0), ops.maximum(n, ops.scalar(1)));
        const next = ops.add(ops.mul(mean, ops.scalar(momentum)), ops.mul(t, ops.scalar(1 - momentum)));
        t = ops.stopGradient(ops.where(ops.greater(n, ops.scalar(0.5)), next, t)); // no counted row: keep t
      }
      const hard = ops.greater(cosines, ops.reshape(raw(cosTarget, context), [-1, 1]));
      const logits = ops.where(hard, ops.mul(cosines, ops.add(t, cosines)), cosines);
      return { target: target(cosTarget, context), logits, state: { t } };
    },
  };
}
