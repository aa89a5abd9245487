import type { Ops } from './create-ops.js';
import { InvalidArgumentError, MarginDomainError, NonFiniteError, shorten } from './errors.js';

/** A JSON value, for margin configs that can be stored as JSON. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A margin's config: its registry `type` and its parameters, JSON-serialisable. */
export interface MarginConfig {
  /** The registry name of the margin, e.g. `'arcface'`. */
  readonly type: string;
  /** Parameters as the margin's factory takes them. */
  readonly [parameter: string]: JsonValue;
}

/**
 * What happens where θ_y + m passes π (where cos stops decreasing).
 * - `'linear'`: c_y − m·sin m where θ_y > π − m (insightface, pytorch-metric-learning); m1 = 1 only.
 * - `'psi'`: cos(u) replaced by ψ(u) = (−1)ᵏcos(u) − 2k, k = ⌊u/π⌋: monotone and continuous.
 * - `'easy'`: the margin only where c_y > 0 (insightface's easy_margin).
 * - `'none'`: the raw formula.
 */
export type FallbackPolicy = 'linear' | 'psi' | 'easy' | 'none';

/**
 * How gradients flow through the margin.
 * - `'exact'`: the derivative of the margin formula.
 * - `'straight-through'`: the forward value has the margin, the gradient is that of c_y
 *   (`c_y + stopGradient(target − c_y)`), as insightface does since 2022.
 */
export type GradientPolicy = 'exact' | 'straight-through';

/** How logits are scaled: by the loss's fixed `scale`, or by each embedding's norm ‖x‖. */
export type FeatureScale = 'fixed' | 'norm';

/**
 * What a one-line margin's `targetLogit` receives besides the target cosine: the op set and the
 * acos clamp. Every {@link MarginContext} is one, so a one-line margin also runs inside the wide hook.
 */
export interface TargetContext<T> {
  /** The validated op set to write the margin with. */
  readonly ops: Ops<T>;
  /** Cosines are clamped to [−1 + ε, 1 − ε] before `acos`; 2⁻²³ ≈ 1.19e-7 by default (float32 eps). */
  readonly epsilon: number;
}

/**
 * What a margin's {@link Margin.transform} sees: everything the losses of the last five years need,
 * not only the target cosine. All tensors are of the loss's backend; nothing here is read back
 * into JavaScript, so the same margin traces into a graph on a symbolic backend (ONNX Runtime).
 *
 * Rows whose label is the loss's `ignoreIndex` (−1, insightface's Partial FC convention) carry
 * label 0 in `labels` and `oneHot` and 0 in `valid`; their loss is zero, and batch statistics
 * should be weighted by `valid`.
 */
export interface MarginContext<T> extends TargetContext<T> {
  /** Cosines x̂·Ŵⱼ [B, C] (with sub-centres, the max over each class's K centres). */
  readonly cosines: T;
  /** The target cosines c_y [B]. */
  readonly cosTarget: T;
  /** The labels, int32 [B] (ignored rows hold 0). */
  readonly labels: T;
  /** The one-hot of the labels, float32 [B, C]. */
  readonly oneHot: T;
  /** 1 for rows that count, 0 for ignored rows (label −1), float32 [B]. */
  readonly valid: T;
  /** The embedding norms ‖x‖ [B, 1], differentiable (wrap in `ops.stopGradient` to detach). */
  readonly norms: T;
  /** C, the number of classes. */
  readonly classes: number;
  /** The margin's state, one tensor per entry of {@link Margin.state}. */
  readonly state: Readonly<Record<string, T>>;
  /** The per-step inputs, one tensor per entry of {@link Margin.inputs}. */
  readonly inputs: Readonly<Record<string, T>>;
  /** True on a training step: a stateful margin updates its state only then. */
  readonly training: boolean;
}

/**
 * What a margin's {@link Margin.transform} returns. At least one of `target` and `logits`.
 * Values are before scaling: the loss multiplies by the scale.
 */
export interface MarginResult<T> {
  /** The target logit [B]; when absent, it is read from `logits` at the label. */
  readonly target?: T;
  /**
   * The whole logit matrix [B, C] (e.g. CurricularFace's reweighted hard negatives). Its
   * non-target entries replace the cosines; its target column is replaced by `target` when given.
   */
  readonly logits?: T;
  /** A scale that replaces the loss's `scale`: a scalar or [B, 1] (AdaCos's dynamic s). */
  readonly scale?: T;
  /** A per-sample auxiliary loss [B], added to each row's cross-entropy (MagFace's regulariser). */
  readonly auxiliaryLoss?: T;
  /** The next state, one tensor per entry of {@link Margin.state} (omit to keep the state). */
  readonly state?: Readonly<Record<string, T>>;
}

/** One entry of a margin's state: a float32 tensor carried from step to step. */
export interface MarginStateSpec {
  /** Its dimensions ([] for a scalar). */
  readonly shape: readonly number[];
  /** Its initial values, row-major, for a loss over `classes` classes. */
  initial(classes: number): readonly number[];
}

/** A seeded source of random numbers, owned by whoever calls the loss (a head in `@marginkit/losses`). */
export interface RandomSource {
  /** A uniform number in [0, 1). */
  uniform(): number;
  /** A standard normal number. */
  normal(): number;
}

/** One per-step input of a margin: a float32 tensor [B] the caller supplies on every call. */
export interface MarginInputSpec {
  /** Draws the input for a batch of `batch` rows (ElasticFace's random margins). */
  sample(batch: number, random: RandomSource): Float32Array;
}

/**
 * A margin: a name, its parameters, and a pure transform written with the op set — context in,
 * target logit (or whole logit matrix), optional auxiliary loss and next state out — so that every
 * backend, eager or symbolic, runs it. One-line margins (a function of c_y) also expose it as
 * `targetLogit`.
 */
export interface Margin {
  /** The registry name. */
  readonly type: string;
  /** The JSON config that rebuilds this margin through a registry. */
  readonly config: MarginConfig;
  /** `'norm'` scales the logits by ‖x‖ instead of the loss's `scale` (original SphereFace). */
  readonly featureScale: FeatureScale;
  /** The state the margin carries from step to step (AdaFace's μ/σ, CurricularFace's t); none when absent. */
  readonly state?: Readonly<Record<string, MarginStateSpec>>;
  /** The per-step inputs the margin needs (ElasticFace's sampled margins); none when absent. */
  readonly inputs?: Readonly<Record<string, MarginInputSpec>>;
  /** The wide hook: see {@link MarginContext} and {@link MarginResult}. */
  transform<T>(context: MarginContext<T>): MarginResult<T>;
  /**
   * Checks the loss options a margin depends on, when a loss is built with it (MagFace's λ_g
   * bound depends on the scale s); throws a typed error naming the margin's parameter.
   */
  readonly checkLossOptions?: (options: { readonly scale: number }) => void;
  /** One-line margins only: maps the target cosines c_y [B] to target logits [B]. */
  readonly targetLogit?: <T>(cosTarget: T, context: TargetContext<T>) => T;
}

/** Keys no options object or config may carry (prototype pollution and lookups). @internal */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']);

/**
 * Reads a plain options object, rejecting unknown and prototype keys with an
 * {@link InvalidArgumentError} that names the key: for margin factories of your own.
 *
 * @param owner - the name used in errors, e.g. `'myMargin'`.
 * @param options - the object to read (`undefined` reads as `{}`).
 * @param allowed - the option names accepted.
 * @returns a prototype-free copy of the options.
 *
 * @example
 * ```ts
 * import { readOptions } from '@marginkit/core';
 * try {
 *   readOptions('myMargin', { mm: 1 }, ['m']);
 * } catch (e) {
 *   console.log((e as Error).message); // myMargin.mm: unknown option; expected one of: m
 * }
 * ```
 */
export function readOptions(owner: string, options: unknown, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(owner, `options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(options)) {
    if (FORBIDDEN_KEYS.has(key)) throw new InvalidArgumentError(`${owner}.${key}`, 'is a forbidden key');
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(`${owner}.${shorten(key)}`, `unknown option; expected one of: ${allowed.join(', ') || '(none)'}`);
    }
    out[key] = (options as Record<string, unknown>)[key];
  }
  return out;
}

/**
 * Reads a finite number within [min, max] (or [min, max) with `maxOpen`), or returns the default
 * when it is `undefined`; throws a typed error naming `argument` otherwise.
 *
 * @param argument - the name used in errors, e.g. `'myMargin.m'`.
 * @param value - the value to read.
 * @param fallback - the default.
 * @param domain - the bounds and their text for messages, e.g. `{ min: 0, max: 1, text: '[0, 1]' }`, and
 *   optionally `why` the bounds are what they are (e.g. a float32 limit), appended to the message.
 * @returns the number.
 *
 * @example
 * ```ts
 * import { readNumber } from '@marginkit/core';
 * console.log(readNumber('myMargin.m', undefined, 0.3, { min: 0, max: 1, text: '[0, 1]' })); // 0.3
 * ```
 */
export function readNumber(
  argument: string,
  value: unknown,
  fallback: number,
  domain: { readonly min: number; readonly max: number; readonly maxOpen?: boolean; readonly text: string; readonly why?: string },
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new InvalidArgumentError(argument, `must be a number, got ${typeof value}`);
  if (!Number.isFinite(value)) throw new NonFiniteError(argument, `must be finite, got ${value}`);
  if (value < domain.min || value > domain.max || (domain.maxOpen === true && value === domain.max)) {
    throw new MarginDomainError(argument, `must be in ${domain.text}, got ${value}${domain.why === undefined ? '' : `: ${domain.why}`}`);
  }
  return value;
}

/**
 * Reads one of a fixed set of strings, or returns the default when it is `undefined`.
 *
 * @param argument - the name used in errors.
 * @param value - the value to read.
 * @param fallback - the default.
 * @param choices - the accepted strings.
 * @returns the choice.
 *
 * @example
 * ```ts
 * import { readChoice } from '@marginkit/core';
 * console.log(readChoice('myMargin.fallback', 'easy', 'none', ['none', 'easy'])); // 'easy'
 * ```
 */
export function readChoice<C extends string>(argument: string, value: unknown, fallback: C, choices: readonly C[]): C {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, `must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${shorten(JSON.stringify(value))}`);
  }
  return value as C;
}

/**
 * Applies a gradient policy: `'exact'` returns `target`; `'straight-through'` returns
 * `c + stopGradient(target − c)` (the value of `target`, the gradient of `c`).
 *
 * @example
 * ```ts
 * import { applyGradientPolicy, createOps } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const ops = createOps(tfjsBackend(tf));
 * const c = ops.constant([0.5], [1]);
 * const t = applyGradientPolicy(ops, c, ops.sub(c, ops.scalar(0.35)), 'straight-through');
 * ```
 */
export function applyGradientPolicy<T>(ops: Ops<T>, cosTarget: T, target: T, policy: GradientPolicy): T {
  return policy === 'exact' ? target : ops.add(cosTarget, ops.stopGradient(ops.sub(target, cosTarget)));
}

/**
 * ψ(u) = (−1)ᵏ cos(u) − 2k with k = ⌊u/π⌋: SphereFace's monotone extension of cos past π,
 * continuous and decreasing on [0, ∞). Equal to cos(u) on [0, π].
 *
 * @example
 * ```ts
 * import { psi, createOps } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const ops = createOps(tfjsBackend(tf));
 * const y = psi(ops, ops.constant([0, Math.PI, 1.5 * Math.PI], [3]));
 * console.log(Array.from((y as tf.Tensor).dataSync()).map((v) => v.toFixed(3))); // ['1.000', '-1.000', '-2.000']
 * ```
 */
export function psi<T>(ops: Ops<T>, u: T): T {
  const k = ops.floor(ops.div(u, ops.scalar(Math.PI)));
  const parity = ops.sub(k, ops.mul(ops.scalar(2), ops.floor(ops.div(k, ops.scalar(2))))); // k mod 2
  const sign = ops.sub(ops.scalar(1), ops.mul(ops.scalar(2), parity));
  return ops.sub(ops.mul(sign, ops.cos(u)), ops.mul(ops.scalar(2), k));
}

/** The parameters of the shared angular margin cos(m1·θ + m2) − m3. @internal */
export interface AngularParams {
  readonly m1: number;
  readonly m2: number;
  readonly m3: number;
  readonly fallback: FallbackPolicy;
}

/**
 * The shared base of the built-in margins: cos(m1·θ_y + m2) − m3 with a fallback policy.
 * CosFace (m1 = 1, m2 = 0) needs no angle and is computed as c_y − m3 directly; integer m1
 * (ArcFace, SphereFace m = 4, …) uses Chebyshev polynomials; other m1 use acos and cos.
 * @internal
 */
export function angularTarget<T>(cosTarget: T, { ops, epsilon }: TargetContext<T>, p: AngularParams): T {
  const { m1, m2, m3, fallback } = p;
  const c = cosTarget;
  let target: T;
  if (m1 === 1 && m2 === 0) {
    target = ops.sub(c, ops.scalar(m3));
  } else if (Number.isInteger(m1) && m1 <= MAX_POLYNOMIAL_M1) {
    target = polynomialAngular(ops, c, epsilon, p);
  } else {
    // Non-integer m1 (no 'linear' here: the factories allow it for m1 = 1 only).
    const theta = ops.acos(ops.clip(c, -1 + epsilon, 1 - epsilon));
    const u = ops.add(ops.mul(ops.scalar(m1), theta), ops.scalar(m2));
    const angular = fallback === 'psi' ? psi(ops, u) : ops.cos(u);
    target = m3 === 0 ? angular : ops.sub(angular, ops.scalar(m3));
  }
  if (fallback === 'easy') target = ops.where(ops.greater(c, ops.scalar(0)), target, c);
  return target;
}

/** Integer m1 up to this use the Chebyshev path of {@link angularTarget}. */
const MAX_POLYNOMIAL_M1 = 16;

/**
 * cos(m1·θ + m2) − m3 (and its ψ extension) for integer m1 without acos or cos on tensors:
 * cos(m1θ) = T_m1(c) and sin(m1θ) = sin θ·U_{m1−1}(c) (Chebyshev polynomials, sin θ = √(1 − c²)),
 * so cos(m1θ + m2) = T·cos m2 − sin θ·U·sin m2; for ψ, k = ⌊(m1θ + m2)/π⌋ counts the j with
 * θ ≥ (jπ − m2)/m1, i.e. comparisons of c with fixed cosines. Same values and derivatives as
 * the trigonometric form (the original SphereFace computed cos(mθ) this way), exact to float32
 * rounding on every backend (WebGL's GLSL acos/cos are not), and cheaper.
 */
function polynomialAngular<T>(ops: Ops<T>, c: T, epsilon: number, { m1, m2, m3, fallback }: AngularParams): T {
  const cc = ops.clip(c, -1 + epsilon, 1 - epsilon);
  const one = ops.scalar(1);
  const twoC = ops.mul(ops.scalar(2), cc);
  let [tPrev, t] = [one, cc]; // T0, T1
  let [uPrev, u] = [ops.scalar(0), one]; // U−1, U0
  for (let n = 1; n < m1; n++) {
    [tPrev, t] = [t, ops.sub(ops.mul(twoC, t), tPrev)];
    [uPrev, u] = [u, ops.sub(ops.mul(twoC, u), uPrev)];
  }
  let angular = t;
  if (m2 !== 0) {
    const sinTheta = ops.sqrt(ops.sub(one, ops.mul(cc, cc)));
    angular = ops.sub(ops.mul(t, ops.scalar(Math.cos(m2))), ops.mul(ops.mul(sinTheta, u), ops.scalar(Math.sin(m2))));
  }
  if (fallback === 'psi') {
    // k = #{j ≥ 1 : θ ≥ (jπ − m2)/m1}, θ ∈ [0, π]: always for (jπ − m2)/m1 ≤ 0, never past π.
    let always = 0;
    let k: T | undefined;
    for (let j = 1; (j * Math.PI - m2) / m1 <= Math.PI; j++) {
      const phi = (j * Math.PI - m2) / m1;
      if (phi <= 0) always++;
      else {
        const step = ops.cast(ops.less(cc, ops.scalar(Math.cos(phi))), 'float32');
        k = k === undefined ? step : ops.add(k, step);
      }
    }
    if (k !== undefined || always > 0) {
      const kk = k === undefined ? ops.scalar(always) : always > 0 ? ops.add(k, ops.scalar(always)) : k;
      const parity = ops.sub(kk, ops.mul(ops.scalar(2), ops.floor(ops.div(kk, ops.scalar(2)))));
      angular = ops.sub(ops.mul(ops.sub(one, ops.mul(ops.scalar(2), parity)), angular), ops.mul(ops.scalar(2), kk));
    }
  }
  let target = m3 === 0 ? angular : ops.sub(angular, ops.scalar(m3));
  if (fallback === 'linear') {
    // Past θ > π − m2, continue linearly: c − m2·sin(m2) − m3 (insightface's th / mm).
    const linear = ops.sub(c, ops.scalar(m2 * Math.sin(m2) + m3));
    target = ops.where(ops.greater(c, ops.scalar(Math.cos(Math.PI - m2))), target, linear);
  }
  return target;
}

/**
 * Converts degrees to radians, for people coming from pytorch-metric-learning, whose ArcFace
 * takes its margin in degrees (28.6° ≈ 0.5 rad).
 *
 * @param value - an angle in degrees.
 * @returns the angle in radians.
 *
 * @example
 * ```ts
 * import { arcface, degrees } from '@marginkit/core';
 * const margin = arcface({ m: degrees(28.6) });
 * console.log(margin.config.m); // 0.4991641660703783
 * ```
 */
export function degrees(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new NonFiniteError('degrees.value', `must be a finite number, got ${String(value)}`);
  return (value * Math.PI) / 180;
}
