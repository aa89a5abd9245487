/**
 * What a margin is, as types: its config, its policies, the context its transform sees and what
 * it returns. The maths is in angular-margin.ts, the built-in margins in builtin-margins.ts.
 *
 * @packageDocumentation
 */
import type { Ops } from './create-ops.js';

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
  /**
   * Declares that the margin runs exactly over class chunks ({@link chunkedMarginSoftmaxStep})
   * although its transform reads `cosines` or `oneHot` or returns `logits` or `scale`: the logit
   * it gives class j depends only on c_j, oneHot_j and row-level values (cosTarget, norms, labels,
   * valid, state, inputs), elementwise, never on other classes' cosines; and its target, scale
   * (a scalar or [B, 1]), auxiliary loss and next state depend on row-level values only.
   * CurricularFace (c_j·(t + c_j) for hard negatives) and AdaFace (clipped cosines) declare it;
   * AdaCos, whose scale needs Σ over every class of exp(s·c_j), cannot. Margins whose transform
   * uses neither the cosines nor the one-hot and returns only a target (every one-line margin,
   * MagFace, ElasticFace) need no declaration.
   */
  readonly classLocal?: boolean;
  /** One-line margins only: maps the target cosines c_y [B] to target logits [B]. */
  readonly targetLogit?: <T>(cosTarget: T, context: TargetContext<T>) => T;
}
