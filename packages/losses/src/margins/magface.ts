import { MarginDomainError, type Margin, type MarginContext, type MarginResult, readChoice, readNumber, readOptions } from '@marginkit/core';

/** Options of {@link magface}. */
export interface MagFaceOptions {
  /** l_a, the lowest norm the margin adapts to (norms are clipped to [l_a, u_a]). Default 10. */
  readonly lowerNorm?: number;
  /** u_a, the highest norm the margin adapts to. Default 110. */
  readonly upperNorm?: number;
  /** l_m, the angular margin (radians) at norm l_a. Default 0.45. */
  readonly lowerMargin?: number;
  /** u_m, the angular margin (radians) at norm u_a. Default 0.8. */
  readonly upperMargin?: number;
  /** λ_g ≥ 0, the weight of the norm regulariser g(a) = a/u_a² + 1/a. Default 35. */
  readonly lambdaG?: number;
  /** `'easy'` (default, the margin only where c_y > 0, as the reference trains) or `'linear'` (c_y − m·sin m past θ_y > π − m). */
  readonly fallback?: 'linear' | 'easy';
}

/**
 * MagFace (Meng et al., CVPR 2021): an ArcFace margin that grows linearly with the embedding norm,
 * m(a) = l_m + (u_m − l_m)·(a − l_a)/(u_a − l_a) with a = clip(‖x‖, l_a, u_a) (differentiable), and
 * a regulariser λ_g·g(a), g(a) = a/u_a² + 1/a, added to each row's loss (the auxiliary loss). The
 * norm then measures quality. Target logit cos(θ_y + m(a)), with the reference's easy margin
 * (`MagLinear`'s default `easy_margin=True`; its threshold branch is never used in training).
 * The regulariser is strictly convex and the norm's optimum unique only for λ_g at least
 * {@link magfaceLambdaBound} (22.59 for the defaults at s = 64): every loss built with this margin checks it against its scale.
 *
 * Reference code: IrvingMeng/MagFace `models/magface.py` (`MagLinear`) and `MagLoss`, checked at
 * 99bae614ac2643b9694bf18e0c5645272ff6acfa (the λ_g check is in `run/trainer.py`).
 *
 * @param options - norm range, margin range, λ_g and fallback; see {@link MagFaceOptions}.
 * @returns the margin (an auxiliary loss, no state).
 *
 * @example
 * ```ts
 * import { magface } from '@marginkit/losses';
 * console.log(magface().config.lambdaG); // 35
 * ```
 */
export function magface(options?: MagFaceOptions): Margin {
  return magfaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function magfaceFrom(options: unknown): Margin {
  const o = readOptions('magface', options, ['lowerNorm', 'upperNorm', 'lowerMargin', 'upperMargin', 'lambdaG', 'fallback']);
  // u_a² enters g(a) = a/u_a² + 1/a: norms up to 1e18 keep it finite in float32.
  const positive = { min: Number.MIN_VALUE, max: 1e18, text: '(0, 1e18] (u_a² must stay finite in float32)' };
  const angle = { min: 0, max: Math.PI / 2, maxOpen: true, text: '[0, π/2)', radians: true };
  const la = readNumber('magface.lowerNorm', o['lowerNorm'], 10, positive);
  const ua = readNumber('magface.upperNorm', o['upperNorm'], 110, positive);
  const lm = readNumber('magface.lowerMargin', o['lowerMargin'], 0.45, angle);
  const um = readNumber('magface.upperMargin', o['upperMargin'], 0.8, angle);
  const lambdaG = readNumber('magface.lambdaG', o['lambdaG'], 35, { min: 0, max: 1e30, text: '[0, 1e30] (λ_g·g(a) must stay finite in float32)' });
  const fallback = readChoice('magface.fallback', o['fallback'], 'easy', ['linear', 'easy']);
  if (ua <= la) throw new MarginDomainError('magface.upperNorm', `must be greater than lowerNorm (${la}), got ${ua}`);
  if (um < lm) throw new MarginDomainError('magface.upperMargin', `must be at least lowerMargin (${lm}), got ${um}`);
  const p = { la, ua, lm, um, lambdaG, fallback };
  return {
    type: 'magface',
    config: { type: 'magface', lowerNorm: la, upperNorm: ua, lowerMargin: lm, upperMargin: um, lambdaG, fallback },
    featureScale: 'fixed',
    checkLossOptions: ({ scale }) => {
      const bound = lambdaBound(p, scale);
      if (lambdaG < bound) {
        throw new MarginDomainError(
          'magface.lambdaG',
          `must be at least ${bound.toFixed(3)} = s·k·u_a²·l_a²/(u_a² − l_a²) at scale ${scale} for a unique optimal norm, got ${lambdaG}`,
        );
      }
    },
    transform: <T>(context: MarginContext<T>): MarginResult<T> => magfaceTransform(context, p),
  };
}

function magfaceTransform<T>(
  { ops, cosTarget, norms, epsilon }: MarginContext<T>,
  { la, ua, lm, um, lambdaG, fallback }: { la: number; ua: number; lm: number; um: number; lambdaG: number; fallback: 'linear' | 'easy' },
): MarginResult<T> {
  const s = (v: number) => ops.scalar(v);
  const a = ops.clip(ops.reshape(norms, [-1]), la, ua);
  const m = ops.add(ops.mul(ops.sub(a, s(la)), s((um - lm) / (ua - la))), s(lm));
  const c = ops.clip(cosTarget, -1 + epsilon, 1 - epsilon);
  const sin = ops.sqrt(ops.sub(s(1), ops.mul(c, c)));
  const arc = ops.sub(ops.mul(c, ops.cos(m)), ops.mul(sin, ops.sin(m)));
  const target =
    fallback === 'easy'
      ? ops.where(ops.greater(cosTarget, s(0)), arc, cosTarget)
      : ops.where(ops.greater(cosTarget, ops.neg(ops.cos(m))), arc, ops.sub(cosTarget, ops.mul(m, ops.sin(m))));
  const g = ops.add(ops.div(a, s(ua * ua)), ops.div(s(1), a));
  return { target, auxiliaryLoss: ops.mul(g, s(lambdaG)) };
}

/**
 * The smallest λ_g for which MagFace's per-sample objective has a unique optimal norm between
 * l_a and u_a: λ_g ≥ s·k·u_a²·l_a² / (u_a² − l_a²) with k = (u_m − l_m)/(u_a − l_a), the slope of the
 * margin — the check of the reference's `run/trainer.py` (where s is fixed at 64).
 *
 * @param options - the MagFace options (defaults as {@link magface}).
 * @param scale - the loss's scale s.
 * @returns the bound.
 *
 * @example
 * ```ts
 * import { magfaceLambdaBound } from '@marginkit/losses';
 * console.log(magfaceLambdaBound({}, 64).toFixed(3)); // '22.587'
 * ```
 */
export function magfaceLambdaBound(options: MagFaceOptions, scale: number): number {
  const c = magfaceFrom(options).config;
  const [la, ua, lm, um] = [c['lowerNorm'], c['upperNorm'], c['lowerMargin'], c['upperMargin']] as number[];
  return lambdaBound({ la: la!, ua: ua!, lm: lm!, um: um! }, scale);
}

function lambdaBound({ la, ua, lm, um }: { la: number; ua: number; lm: number; um: number }, scale: number): number {
  return (scale * ((um - lm) / (ua - la)) * ua * ua * la * la) / (ua * ua - la * la);
}
