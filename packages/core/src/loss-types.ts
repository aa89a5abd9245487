/**
 * The types of the losses' options and results: what {@link marginSoftmaxLoss},
 * {@link marginSoftmaxStep}, {@link marginLogits} and {@link cosineLogits} take and return.
 *
 * @packageDocumentation
 */
import type { Margin } from './margin-types.js';

/** How per-sample losses are reduced: `'mean'` over the batch, `'sum'`, or `'none'` ([B]). */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * How much of the input is checked on every call.
 * - `'full'` (default): shapes and dtypes, and, where the backend can read values synchronously
 *   (`supports.eagerValues`), that labels are in range and embeddings and centres are finite.
 *   On GPU backends that read costs a download per step.
 * - `'shapes'`: shapes and dtypes only.
 */
export type Validation = 'full' | 'shapes';

/**
 * The default acos clamp ε = 2⁻²³ ≈ 1.19e-7 (float32 machine epsilon). Not 1e-7: 1 − 1e-7 is not
 * a float32 number, so float32 backends would clamp at 1 − 2⁻²³ anyway while a float64
 * reference clamped at 1 − 1e-7; with 2⁻²³ every backend and the reference clamp at the same point.
 *
 * @example
 * ```ts
 * import { DEFAULT_EPSILON } from '@marginkit/core';
 * console.log(DEFAULT_EPSILON === 2 ** -23); // true
 * ```
 */
export const DEFAULT_EPSILON = 2 ** -23;

/** Labels: an int32 tensor [B], or plain integers (converted to an int32 constant). */
export type Labels<T> = T | readonly number[] | Int32Array;

/** Options shared by the logits functions. */
export interface NormalizeOptions {
  /**
   * L2 normalisation uses x / sqrt(max(‖x‖², eps²)) (computed without overflow: rows are scaled by
   * their largest entry first); default eps 1e-12, so a zero vector maps to 0. In [2⁻⁶³ ≈ 1.08e-19,
   * 1e-3]: eps² must be a normal float32.
   */
  readonly normEpsilon?: number;
  /** What to check on each call; default `'full'`. */
  readonly validate?: Validation;
}

/** Options of {@link cosineLogits}. */
export interface CosineLogitsOptions extends NormalizeOptions {
  /** K sub-centres per class: centres [C·K, D], the cosine of a class is the max over its K rows. Default 1. */
  readonly subCenters?: number;
}

/** Options of {@link marginLogits}. */
export interface MarginLogitsOptions extends NormalizeOptions {
  /** The margin applied to the target logit. */
  readonly margin: Margin;
  /**
   * The scale s > 0 the logits are multiplied by, at most 1e6 (float32: s·cos must stay finite and
   * precise). Default 64. Ignored by margins with `featureScale: 'norm'`, which scale by ‖x‖ (+Infinity,
   * and a non-finite loss, only for a row whose norm exceeds the float32 maximum ≈ 3.4e38).
   */
  readonly scale?: number;
  /**
   * Cosines are clamped to [−1 + ε, 1 − ε] before `acos`. Default {@link DEFAULT_EPSILON}
   * = 2⁻²³ ≈ 1.19e-7, the float32 machine epsilon.
   */
  readonly epsilon?: number;
  /**
   * K, the sub-centres per class (sub-center ArcFace): centres have C·K rows, row c·K + k being
   * sub-centre k of class c, and the cosine of class c is the max over its K rows. Default 1.
   */
  readonly subCenters?: number;
  /**
   * A label value whose rows are ignored (insightface's Partial FC convention): their loss and
   * gradients are zero, and `'mean'` averages over the other rows. Only −1 is accepted. Default:
   * none (every label must be a class index).
   */
  readonly ignoreIndex?: -1;
}

/** Options of {@link marginSoftmaxLoss}. */
export interface MarginSoftmaxLossOptions extends MarginLogitsOptions {
  /** Default `'mean'`. */
  readonly reduction?: Reduction;
}

/** A loss: `(embeddings [B, D], centers [C, D], labels int32 [B]) => loss`. */
export type MarginLoss<T> = (embeddings: T, centers: T, labels: Labels<T>) => T;

/** Per-call options of a {@link MarginStep}. */
export interface MarginStepOptions<T> {
  /** The margin's state, one tensor per entry of `margin.state`; missing entries start from their initial values. */
  readonly state?: Readonly<Record<string, T>>;
  /** The margin's per-step inputs, one [B] tensor per entry of `margin.inputs` (required when it has any). */
  readonly inputs?: Readonly<Record<string, T>>;
  /** A training step (the state advances); default true. */
  readonly training?: boolean;
}

/** What a {@link MarginStep} returns. */
export interface MarginStepResult<T> {
  /** The reduced loss (cross-entropy plus any auxiliary loss); [B] for `reduction: 'none'`. */
  readonly loss: T;
  /** Per-sample losses [B] (zero for ignored rows). */
  readonly perSample: T;
  /** The auxiliary loss alone, reduced like `loss` (MagFace's regulariser), when the margin has one. */
  readonly auxiliaryLoss?: T;
  /** The margin's next state (equal to the input state for stateless margins: `{}`). */
  readonly state: Readonly<Record<string, T>>;
}

/**
 * The stateful loss: `(embeddings [B, D], centers [C·K, D], labels [B], { state, inputs, training })
 * => { loss, perSample, auxiliaryLoss, state }`. Pure: the state goes in and the next state comes
 * out, so a symbolic backend carries it as graph inputs and outputs.
 */
export interface MarginStep<T> {
  /** Computes the loss and the margin's next state. */
  (embeddings: T, centers: T, labels: Labels<T>, options?: MarginStepOptions<T>): MarginStepResult<T>;
  /** The margin the step applies. */
  readonly margin: Margin;
  /** K, the sub-centres per class. */
  readonly subCenters: number;
  /** The ignored label value, if any. */
  readonly ignoreIndex: -1 | undefined;
  /** The reduction of `loss`. */
  readonly reduction: Reduction;
  /** The initial state of the margin for `classes` classes, as plain values (shape and row-major data). */
  initialState(classes: number): Record<
    string,
    {
      /** The entry's dimensions. */
      readonly shape: readonly number[];
      /** Its initial values, row-major. */
      readonly data: Float32Array;
    }
  >;
}
