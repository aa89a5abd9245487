/**
 * The built-in margins of the family: ArcFace, CosFace, SphereFace, the combined margin and no
 * margin, each an option reader over the shared angular target (angular-margin.ts).
 *
 * @packageDocumentation
 */
import { MarginDomainError } from './errors.js';
import { FLOAT32_LIMITS } from './float32.js';
import { angularTarget, applyGradientPolicy } from './angular-margin.js';
import { oneLineMargin } from './define-margin.js';
import { readChoice, readNumber, readOptions } from './margin-options.js';
import type { FallbackPolicy, FeatureScale, GradientPolicy, JsonValue, Margin, MarginConfig, TargetContext } from './margin-types.js';

const GRADIENTS: readonly GradientPolicy[] = ['exact', 'straight-through'];
const PI_OPEN = { min: 0, max: Math.PI, maxOpen: true, text: '[0, π)', radians: true } as const;
const COS_SHIFT = { min: 0, max: 2, text: '[0, 2]' } as const;
const ANGULAR = FLOAT32_LIMITS.angularMultiplier;
const AT_LEAST_ONE = { min: 1, max: ANGULAR.max, text: `[1, ${ANGULAR.max}]`, why: ANGULAR.why } as const;
const POSITIVE = { min: Number.MIN_VALUE, max: ANGULAR.max, text: `(0, ${ANGULAR.max}]`, why: ANGULAR.why } as const;
const LAMBDA = { min: 0, max: FLOAT32_LIMITS.lambda.max, text: `[0, ${FLOAT32_LIMITS.lambda.max}]`, why: FLOAT32_LIMITS.lambda.why } as const;

/** Options of {@link arcface}. */
export interface ArcFaceOptions {
  /**
   * Additive angular margin m, in radians, in [0, π) (at m ≥ π, θ + m is past π for every θ and the
   * target no longer falls as θ grows). Default 0.5. Use {@link degrees} for degrees: a value ≥ π
   * is rejected with an error that gives the conversion.
   */
  readonly m?: number;
  /** What happens where θ_y + m > π. Default `'linear'`. */
  readonly fallback?: FallbackPolicy;
  /** How gradients flow. Default `'exact'`. */
  readonly gradient?: GradientPolicy;
}

/**
 * ArcFace (Deng et al., CVPR 2019): target logit cos(θ_y + m).
 *
 * Reference code: insightface `arcface_torch/losses.py` (`CombinedMarginLoss` with m1 = 1, m3 = 0).
 *
 * @param options - `m`: additive angular margin in radians, [0, π), default 0.5 (use {@link degrees}
 *   for degrees); `fallback`: `'linear'` (default), `'psi'`, `'easy'` or `'none'`; `gradient`:
 *   `'exact'` (default) or `'straight-through'`. See {@link ArcFaceOptions}.
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { arcface } from '@marginkit/core';
 * const margin = arcface({ m: 0.5, fallback: 'psi' });
 * console.log(margin.config); // { type: 'arcface', m: 0.5, fallback: 'psi', gradient: 'exact' }
 * ```
 */
export function arcface(options?: ArcFaceOptions): Margin {
  return arcfaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function arcfaceFrom(options: unknown): Margin {
  const o = readOptions('arcface', options, ['m', 'fallback', 'gradient']);
  const m = readNumber('arcface.m', o['m'], 0.5, PI_OPEN);
  const fallback = readChoice('arcface.fallback', o['fallback'], 'linear', ['linear', 'psi', 'easy', 'none']);
  const gradient = readChoice('arcface.gradient', o['gradient'], 'exact', GRADIENTS);
  return angularMargin({ type: 'arcface', m }, { m1: 1, m2: m, m3: 0, fallback }, gradient);
}

/** Options of {@link cosface}. */
export interface CosFaceOptions {
  /** Additive cosine margin m (unitless, on the cosine), in [0, 2]. Default 0.35. */
  readonly m?: number;
  /** `'none'` (default; c_y − m is monotone) or `'easy'` (the margin only where c_y > 0). */
  readonly fallback?: 'none' | 'easy';
  /** How gradients flow. Default `'exact'`. */
  readonly gradient?: GradientPolicy;
}

/**
 * CosFace / AM-Softmax (Wang et al., CVPR 2018): target logit c_y − m.
 *
 * Reference code: insightface `arcface_torch/losses.py` (`CosFace`).
 *
 * @param options - `m`: additive cosine margin (unitless), [0, 2], default 0.35; `fallback`: `'none'`
 *   (default) or `'easy'`; `gradient`: `'exact'` (default) or `'straight-through'`. See {@link CosFaceOptions}.
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { cosface } from '@marginkit/core';
 * console.log(cosface().config.m); // 0.35
 * ```
 */
export function cosface(options?: CosFaceOptions): Margin {
  return cosfaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function cosfaceFrom(options: unknown): Margin {
  const o = readOptions('cosface', options, ['m', 'fallback', 'gradient']);
  const m = readNumber('cosface.m', o['m'], 0.35, COS_SHIFT);
  const fallback = readChoice('cosface.fallback', o['fallback'], 'none', ['none', 'easy']);
  const gradient = readChoice('cosface.gradient', o['gradient'], 'exact', GRADIENTS);
  return angularMargin({ type: 'cosface', m }, { m1: 1, m2: 0, m3: m, fallback }, gradient);
}

/** Options of {@link sphereface}. */
export interface SphereFaceOptions {
  /** Multiplicative angular margin m (unitless), any real m in [1, 1e4] (float32: m·θ must stay precise). Default 4. */
  readonly m?: number;
  /** `'psi'` (default), `'easy'` or `'none'`; `'linear'` is defined for m = 1 only. */
  readonly fallback?: FallbackPolicy;
  /** How gradients flow. Default `'exact'`. */
  readonly gradient?: GradientPolicy;
  /** A-Softmax annealing λ in [0, 1e30] (float32: λ·c and 1 + λ must stay finite): target (λ·c_y + ψ(mθ_y)) / (1 + λ). Default 0 (no blend). */
  readonly lambda?: number;
  /** `'norm'` scales logits by ‖x‖ as the original did; `'fixed'` (default) by the loss's scale. */
  readonly featureScale?: FeatureScale;
}

/**
 * SphereFace / A-Softmax (Liu et al., CVPR 2017): target logit ψ(m·θ_y), with the original's
 * λ annealing blend and ‖x‖ feature scale as options.
 *
 * Reference code: wy1iu/sphereface (`margin_inner_product_layer`) and
 * insightface `CombinedMarginLoss` (m1).
 *
 * @param options - `m`: multiplicative angular margin (unitless), any real in [1, 1e4], default 4;
 *   `fallback`: `'psi'` (default), `'easy'` or `'none'`; `lambda`: annealing blend in [0, 1e30], default 0;
 *   `featureScale`: `'fixed'` (default) or `'norm'`; `gradient`. See {@link SphereFaceOptions}.
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { sphereface } from '@marginkit/core';
 * const margin = sphereface({ m: 1.35, lambda: 5 });
 * console.log(margin.config.fallback); // 'psi'
 * ```
 */
export function sphereface(options?: SphereFaceOptions): Margin {
  return spherefaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function spherefaceFrom(options: unknown): Margin {
  const o = readOptions('sphereface', options, ['m', 'fallback', 'gradient', 'lambda', 'featureScale']);
  const m = readNumber('sphereface.m', o['m'], 4, AT_LEAST_ONE);
  const fallback = readChoice('sphereface.fallback', o['fallback'], 'psi', ['linear', 'psi', 'easy', 'none']);
  const gradient = readChoice('sphereface.gradient', o['gradient'], 'exact', GRADIENTS);
  const lambda = readNumber('sphereface.lambda', o['lambda'], 0, LAMBDA);
  const featureScale = readChoice('sphereface.featureScale', o['featureScale'], 'fixed', ['fixed', 'norm']);
  if (fallback === 'linear' && m !== 1) {
    throw new MarginDomainError('sphereface.fallback', `'linear' is defined for m = 1 only, got m = ${m}; use 'psi'`);
  }
  const base = angularMargin({ type: 'sphereface', m, lambda, featureScale }, { m1: m, m2: 0, m3: 0, fallback }, 'exact', featureScale);
  if (lambda === 0 && gradient === 'exact') return base;
  const baseTarget = base.targetLogit!;
  return oneLineMargin(base.type, { ...base.config, gradient }, featureScale, <T>(c: T, context: TargetContext<T>): T => {
    const { ops } = context;
    let target = baseTarget(c, context);
    if (lambda !== 0) target = ops.div(ops.add(ops.mul(ops.scalar(lambda), c), target), ops.scalar(1 + lambda));
    return applyGradientPolicy(ops, c, target, gradient);
  });
}

/** Options of {@link combinedMargin}. */
export interface CombinedMarginOptions {
  /** Multiplicative angular margin m1 in (0, 1e4] (unitless; float32: m1·θ must stay precise); the ArcFace paper's CM2 uses 0.9. Default 1. */
  readonly m1?: number;
  /** Additive angular margin m2 in [0, π), radians (a value ≥ π is rejected, pointing to {@link degrees}). Default 0.3. */
  readonly m2?: number;
  /** Additive cosine margin m3 in [0, 2] (unitless). Default 0.2. */
  readonly m3?: number;
  /** Default `'psi'`; `'linear'` needs m1 = 1. */
  readonly fallback?: FallbackPolicy;
  /** How gradients flow. Default `'exact'`. */
  readonly gradient?: GradientPolicy;
}

/**
 * InsightFace's combined margin: target logit cos(m1·θ_y + m2) − m3, which contains SphereFace
 * (m1), ArcFace (m2) and CosFace (m3) as special cases.
 *
 * Reference code: insightface `recognition/arcface_mxnet` (`combined` loss) and
 * `arcface_torch/losses.py` (`CombinedMarginLoss`).
 *
 * With m1 < 1 the angular part cos(m1·θ_y + m2) exceeds cos θ_y past θ_y = m2/(1 − m1), where the
 * margin turns negative unless m3 makes up for it: for the paper's CM2 (0.9, 0.4, 0.15) that angle
 * is 4 rad, beyond π, so CM2's target stays below c_y everywhere; (0.8, 0.3, 0) crosses at 1.5 rad.
 *
 * @param options - `m1` in (0, 1e4] (multiplicative, unitless, default 1), `m2` in [0, π) (additive angular,
 *   radians, default 0.3), `m3` in [0, 2] (additive cosine, default 0.2); `fallback`: `'psi'` (default),
 *   `'linear'` (m1 = 1 only), `'easy'` or `'none'`; `gradient`. See {@link CombinedMarginOptions}.
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { combinedMargin } from '@marginkit/core';
 * const margin = combinedMargin({ m1: 1, m2: 0.3, m3: 0.2 });
 * console.log(margin.type); // 'combined'
 * ```
 */
export function combinedMargin(options?: CombinedMarginOptions): Margin {
  return combinedMarginFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function combinedMarginFrom(options: unknown): Margin {
  const o = readOptions('combinedMargin', options, ['m1', 'm2', 'm3', 'fallback', 'gradient']);
  const m1 = readNumber('combinedMargin.m1', o['m1'], 1, POSITIVE);
  const m2 = readNumber('combinedMargin.m2', o['m2'], 0.3, PI_OPEN);
  const m3 = readNumber('combinedMargin.m3', o['m3'], 0.2, COS_SHIFT);
  const fallback = readChoice('combinedMargin.fallback', o['fallback'], 'psi', ['linear', 'psi', 'easy', 'none']);
  const gradient = readChoice('combinedMargin.gradient', o['gradient'], 'exact', GRADIENTS);
  if (fallback === 'linear' && m1 !== 1) {
    throw new MarginDomainError('combinedMargin.fallback', `'linear' is defined for m1 = 1 only, got m1 = ${m1}; use 'psi'`);
  }
  return angularMargin({ type: 'combined', m1, m2, m3 }, { m1, m2, m3, fallback }, gradient);
}

/**
 * No margin: the target logit is c_y (NormFace / normalised softmax). The baseline.
 *
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { noMargin } from '@marginkit/core';
 * console.log(noMargin().config); // { type: 'none' }
 * ```
 */
export function noMargin(): Margin {
  return oneLineMargin('none', { type: 'none' }, 'fixed', (c) => c);
}

function angularMargin(
  config: Record<string, JsonValue> & { readonly type: string },
  params: { m1: number; m2: number; m3: number; fallback: FallbackPolicy },
  gradient: GradientPolicy,
  featureScale: FeatureScale = 'fixed',
): Margin {
  const full: MarginConfig = { ...config, fallback: params.fallback, gradient };
  return oneLineMargin(
    config.type,
    full,
    featureScale,
    <T>(c: T, context: TargetContext<T>): T => applyGradientPolicy(context.ops, c, angularTarget(c, context, params), gradient),
  );
}
