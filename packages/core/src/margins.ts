import { InvalidArgumentError, MarginDomainError } from './errors.js';
import { FLOAT32_LIMITS } from './float32.js';
import {
  type FallbackPolicy,
  type FeatureScale,
  type GradientPolicy,
  type JsonValue,
  type Margin,
  type MarginConfig,
  type MarginContext,
  type MarginInputSpec,
  type MarginResult,
  type MarginStateSpec,
  type TargetContext,
  angularTarget,
  applyGradientPolicy,
  readChoice,
  readNumber,
  readOptions,
} from './margin.js';

const GRADIENTS: readonly GradientPolicy[] = ['exact', 'straight-through'];
const PI_OPEN = { min: 0, max: Math.PI, maxOpen: true, text: '[0, π)' } as const;
const COS_SHIFT = { min: 0, max: 2, text: '[0, 2]' } as const;
const ANGULAR = FLOAT32_LIMITS.angularMultiplier;
const AT_LEAST_ONE = { min: 1, max: ANGULAR.max, text: `[1, ${ANGULAR.max}]`, why: ANGULAR.why } as const;
const POSITIVE = { min: Number.MIN_VALUE, max: ANGULAR.max, text: `(0, ${ANGULAR.max}]`, why: ANGULAR.why } as const;
const LAMBDA = { min: 0, max: FLOAT32_LIMITS.lambda.max, text: `[0, ${FLOAT32_LIMITS.lambda.max}]`, why: FLOAT32_LIMITS.lambda.why } as const;

/**
 * A margin from a function of the target cosine: `transform` applies it to `cosTarget` and
 * `targetLogit` exposes it for plots and composition. @internal
 */
export function oneLineMargin(
  type: string,
  config: MarginConfig,
  featureScale: FeatureScale,
  targetLogit: <T>(cosTarget: T, context: TargetContext<T>) => T,
): Margin {
  return {
    type,
    config,
    featureScale,
    targetLogit,
    transform: <T>(context: MarginContext<T>): MarginResult<T> => ({ target: targetLogit(context.cosTarget, context) }),
  };
}

/** Options of {@link arcface}. */
export interface ArcFaceOptions {
  /** Additive angular margin m, in radians, in [0, π). Default 0.5. Use {@link degrees} for degrees. */
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
  /** Additive angular margin m2 in [0, π), radians. Default 0.3. */
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

/** What {@link defineMargin} takes: a one-line `targetLogit`, or the wide `transform` (exactly one). */
export interface MarginDefinition<P extends Readonly<Record<string, JsonValue>>> {
  /** The margin's name (used as the config `type`). */
  readonly type: string;
  /** Its parameters, JSON-serialisable (they are stored in the config). */
  readonly params: P;
  /** The one-line form: maps target cosines c_y [B] to target logits [B], with the op set. */
  readonly targetLogit?: <T>(cosTarget: T, context: TargetContext<T>, params: P) => T;
  /** The wide form: sees the whole {@link MarginContext} and returns a {@link MarginResult}. */
  readonly transform?: <T>(context: MarginContext<T>, params: P) => MarginResult<T>;
  /** State carried from step to step (wide form only), e.g. `{ t: { shape: [], initial: () => [0] } }`. */
  readonly state?: Readonly<Record<string, MarginStateSpec>>;
  /** Per-step inputs the caller samples (wide form only). */
  readonly inputs?: Readonly<Record<string, MarginInputSpec>>;
  /** `'norm'` to scale logits by ‖x‖; default `'fixed'`. */
  readonly featureScale?: FeatureScale;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a state or inputs declaration: identifier keys, each entry of the right shape. @internal */
export function checkDeclarations(argument: string, entries: unknown, kind: 'state' | 'inputs'): void {
  if (entries === undefined) return;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new InvalidArgumentError(argument, `must be an object of ${kind} entries, got ${entries === null ? 'null' : typeof entries}`);
  }
  for (const [key, spec] of Object.entries(entries)) {
    if (!KEY.test(key) || FORBIDDEN.has(key)) throw new InvalidArgumentError(`${argument}.${key}`, 'must be an identifier name (letters, digits, _)');
    const s = spec as Partial<MarginStateSpec & MarginInputSpec> | null;
    if (kind === 'state') {
      if (
        typeof s !== 'object' ||
        s === null ||
        !Array.isArray(s.shape) ||
        !s.shape.every((d) => Number.isInteger(d) && d >= 0) ||
        typeof s.initial !== 'function'
      ) {
        throw new InvalidArgumentError(`${argument}.${key}`, 'expected { shape: number[], initial(classes) => number[] }');
      }
    } else if (typeof s !== 'object' || s === null || typeof s.sample !== 'function') {
      throw new InvalidArgumentError(`${argument}.${key}`, 'expected { sample(batch, random) => Float32Array }');
    }
  }
}

const FORBIDDEN: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Defines your own margin, written with the op set: either the one-line form, a function of the
 * target cosine (`targetLogit`), or the wide form (`transform`), which sees the cosines of the
 * whole row, the labels, the embedding norms, its state and the training flag, and may return the
 * whole logit matrix, an auxiliary loss and its next state. Register a factory for it on a
 * registry to build it from JSON configs.
 *
 * @param definition - the type name, parameters, and `targetLogit` or `transform` (with `state`
 *   and `inputs` when it has them).
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { defineMargin } from '@marginkit/core';
 * // One line: a "soft" additive cosine margin that shrinks for hard samples: c − m·(1 + c)/2.
 * const soft = defineMargin({
 *   type: 'soft-cosface',
 *   params: { m: 0.4 },
 *   targetLogit: (c, { ops }, { m }) => ops.sub(c, ops.mul(ops.scalar(m / 2), ops.add(ops.scalar(1), c))),
 * });
 * console.log(soft.config); // { type: 'soft-cosface', m: 0.4 }
 * // Wide: an additive margin that grows with the embedding norm, m·min(‖x‖ / 10, 1).
 * const normAware = defineMargin({
 *   type: 'norm-cosface',
 *   params: { m: 0.4 },
 *   transform: ({ ops, cosTarget, norms }, { m }) => {
 *     const grow = ops.minimum(ops.div(ops.stopGradient(ops.reshape(norms, [-1])), ops.scalar(10)), ops.scalar(1));
 *     return { target: ops.sub(cosTarget, ops.mul(grow, ops.scalar(m))) };
 *   },
 * });
 * console.log(normAware.type); // 'norm-cosface'
 * ```
 */
export function defineMargin<P extends Readonly<Record<string, JsonValue>>>(definition: MarginDefinition<P>): Margin {
  if (typeof definition !== 'object' || definition === null) {
    throw new InvalidArgumentError('definition', 'must be an object with type, params and targetLogit or transform');
  }
  const { type, params, targetLogit, transform } = definition;
  if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError('definition.type', 'must be a non-empty string');
  if ((targetLogit === undefined) === (transform === undefined)) {
    throw new InvalidArgumentError('definition.targetLogit', 'give exactly one of targetLogit (c_y → target) and transform (the wide hook)');
  }
  if (targetLogit !== undefined && typeof targetLogit !== 'function') {
    throw new InvalidArgumentError('definition.targetLogit', 'must be a function (cosTarget, context, params) => target');
  }
  if (transform !== undefined && typeof transform !== 'function') {
    throw new InvalidArgumentError('definition.transform', 'must be a function (context, params) => { target } | { logits }');
  }
  if (targetLogit !== undefined && (definition.state !== undefined || definition.inputs !== undefined)) {
    throw new InvalidArgumentError('definition.state', 'state and inputs need the wide form: use transform instead of targetLogit');
  }
  const p = readOptions(`${type}.params`, params, Object.keys(params ?? {}));
  if ('type' in p) throw new InvalidArgumentError(`${type}.params.type`, "is reserved for the margin's name");
  for (const [key, value] of Object.entries(p)) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new InvalidArgumentError(`${type}.params.${key}`, `must be finite, got ${value}`);
  }
  checkDeclarations(`${type}.state`, definition.state, 'state');
  checkDeclarations(`${type}.inputs`, definition.inputs, 'inputs');
  const featureScale = readChoice(`${type}.featureScale`, definition.featureScale, 'fixed', ['fixed', 'norm']);
  const config: MarginConfig = { type, ...params };
  if (targetLogit !== undefined) {
    return oneLineMargin(type, config, featureScale, <T>(c: T, context: TargetContext<T>): T => targetLogit(c, context, params));
  }
  const wide = transform!;
  return {
    type,
    config,
    featureScale,
    ...(definition.state === undefined ? {} : { state: definition.state }),
    ...(definition.inputs === undefined ? {} : { inputs: definition.inputs }),
    transform: <T>(context: MarginContext<T>): MarginResult<T> => wide(context, params),
  };
}

/**
 * Composes margins, first to last. Each sees the previous one's output as its input: the target
 * logit as `cosTarget` and, when the previous one returned a whole logit matrix, that matrix as
 * `cosines`. So ArcFace then CosFace is cos(θ_y + m2) − m3, the combined margin. Each margin keeps its
 * own gradient policy and its own state entries (names must not collide); auxiliary losses add up;
 * a later scale replaces an earlier one. The composition scales by ‖x‖ if any part does.
 *
 * @param margins - one or more margins, applied first to last.
 * @returns the composed margin, whose config is `{ type: 'compose', margins: [...] }`.
 *
 * @example
 * ```ts
 * import { arcface, composeMargins, cosface } from '@marginkit/core';
 * const margin = composeMargins(arcface({ m: 0.3 }), cosface({ m: 0.2 }));
 * console.log(margin.config.type); // 'compose'
 * ```
 */
export function composeMargins(...margins: readonly Margin[]): Margin {
  if (margins.length === 0) throw new InvalidArgumentError('margins', 'composeMargins needs at least one margin');
  margins.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.transform !== 'function' || typeof m.config !== 'object') {
      throw new InvalidArgumentError(`margins[${i}]`, 'is not a margin (expected an object from arcface(), defineMargin(), ...)');
    }
  });
  // Bounded like registry configs, so that no composition overflows the stack when it runs.
  const depth = 1 + margins.reduce((d, m) => Math.max(d, COMPOSED.get(m)?.depth ?? 0), 0);
  const size = margins.reduce((n, m) => n + (COMPOSED.get(m)?.size ?? 1), 1);
  if (depth > MAX_COMPOSE_DEPTH) {
    throw new InvalidArgumentError('margins', `compositions nest deeper than ${MAX_COMPOSE_DEPTH} levels (composeMargins inside composeMargins); flatten them`);
  }
  if (size > MAX_COMPOSE_SIZE) throw new InvalidArgumentError('margins', `the composition holds ${size} margins in all; at most ${MAX_COMPOSE_SIZE}`);
  const state = mergeDeclarations(margins, (m) => m.state, 'state');
  const inputs = mergeDeclarations(margins, (m) => m.inputs, 'inputs');
  const targets = margins.map((m) => m.targetLogit);
  const oneLine = targets.every((t) => t !== undefined);
  const checks = margins.flatMap((m) => (m.checkLossOptions ? [m.checkLossOptions] : []));
  const composed: Margin = {
    type: 'compose',
    ...(checks.length === 0
      ? {}
      : {
          checkLossOptions: (options: { readonly scale: number }) => {
            for (const check of checks) check(options);
          },
        }),
    config: { type: 'compose', margins: margins.map((m) => m.config) },
    featureScale: margins.some((m) => m.featureScale === 'norm') ? 'norm' : 'fixed',
    ...(state === undefined ? {} : { state }),
    ...(inputs === undefined ? {} : { inputs }),
    transform: <T>(context: MarginContext<T>): MarginResult<T> => composeTransforms(margins, context),
  };
  const out: Margin = oneLine
    ? { ...composed, targetLogit: <T>(c: T, context: TargetContext<T>): T => targets.reduce<T>((t, f) => f!(t, context), c) }
    : composed;
  COMPOSED.set(out, { depth, size });
  return out;
}

/** How deeply compositions may nest and how many margins they may hold (as registry configs). */
const MAX_COMPOSE_DEPTH = 32;
const MAX_COMPOSE_SIZE = 1000;
/** The nesting depth and size of each composition made here. */
const COMPOSED = new WeakMap<Margin, { readonly depth: number; readonly size: number }>();

function mergeDeclarations<S>(
  margins: readonly Margin[],
  pick: (m: Margin) => Readonly<Record<string, S>> | undefined,
  kind: string,
): Record<string, S> | undefined {
  const out: Record<string, S> = {};
  let any = false;
  margins.forEach((m, i) => {
    for (const [key, spec] of Object.entries(pick(m) ?? {})) {
      if (key in out) throw new InvalidArgumentError(`margins[${i}].${kind}.${key}`, `collides with an earlier margin's ${kind} entry of the same name`);
      out[key] = spec;
      any = true;
    }
  });
  return any ? out : undefined;
}

function composeTransforms<T>(margins: readonly Margin[], context: MarginContext<T>): MarginResult<T> {
  const { ops } = context;
  let cosines = context.cosines;
  let cosTarget = context.cosTarget;
  let logits: T | undefined;
  let scale: T | undefined;
  let auxiliaryLoss: T | undefined;
  const state: Record<string, T> = {};
  for (const m of margins) {
    const r = m.transform({ ...context, cosines, cosTarget });
    if (r.logits !== undefined) cosines = logits = r.logits;
    cosTarget = r.target ?? ops.gatherPerRow(r.logits!, context.labels);
    if (r.scale !== undefined) scale = r.scale;
    if (r.auxiliaryLoss !== undefined) auxiliaryLoss = auxiliaryLoss === undefined ? r.auxiliaryLoss : ops.add(auxiliaryLoss, r.auxiliaryLoss);
    Object.assign(state, r.state ?? {});
  }
  return {
    target: cosTarget,
    ...(logits === undefined ? {} : { logits }),
    ...(scale === undefined ? {} : { scale }),
    ...(auxiliaryLoss === undefined ? {} : { auxiliaryLoss }),
    ...(Object.keys(state).length === 0 ? {} : { state }),
  };
}
