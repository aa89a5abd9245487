import { type Backend, assertBackend } from './backend.js';
import { type Ops, checkTensor, createOps, dtypeOfTensor } from './create-ops.js';
import { InvalidArgumentError, ShapeError } from './errors.js';
import { FLOAT32_LIMITS } from './float32.js';
import {
  type Dims,
  type PairShape,
  checkDType,
  checkEmbeddingsAndCenters,
  checkFinite,
  checkLabelValues,
  checkLabelsShape,
  checkNumber,
  describe,
} from './input-checks.js';
import { readChoice, readOptions } from './margin-options.js';
import type { Margin, MarginContext, MarginResult } from './margin-types.js';

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

interface Resolved<T> {
  readonly ops: Ops<T>;
  readonly normEpsilon: number;
  readonly validate: Validation;
}

const LOGITS_KEYS = ['normEpsilon', 'validate'] as const;
const MARGIN_KEYS = [...LOGITS_KEYS, 'margin', 'scale', 'epsilon', 'subCenters', 'ignoreIndex'] as const;
/** The option names {@link marginSoftmaxLoss} accepts. @internal */
export const LOSS_OPTION_KEYS: readonly string[] = [...MARGIN_KEYS, 'reduction'];

function resolveBase<T>(owner: string, backend: Backend<T>, o: Readonly<Record<string, unknown>>): Resolved<T> {
  assertBackend<T>(backend);
  const normEpsilon = positive(`${owner}.normEpsilon`, o['normEpsilon'], 1e-12, 1e-3, FLOAT32_LIMITS.normEpsilon);
  const validate = readChoice(`${owner}.validate`, o['validate'], 'full', ['full', 'shapes']);
  return { ops: createOps(backend), normEpsilon, validate };
}

/**
 * A number in (0, max] (or > 0 without `max`), or the default; `limit` adds a float32 bound (a
 * minimum and/or a maximum) and the reason for it, from {@link FLOAT32_LIMITS}.
 */
function positive(
  argument: string,
  value: unknown,
  fallback: number,
  max = Number.POSITIVE_INFINITY,
  limit: { readonly min?: number; readonly max?: number; readonly why: string } | undefined = undefined,
): number {
  if (value === undefined) return fallback;
  const v = checkNumber(argument, value, { min: 0, minOpen: true, max });
  return limit === undefined ? v : checkNumber(argument, v, limit);
}

/** Checks that `x` is a live float32 tensor and returns its shape. */
function checkFloatTensor<T>(r: Resolved<T>, argument: string, x: T, what: string): Dims {
  const { backend } = r.ops;
  checkTensor(backend, argument, x, ` ${what}`);
  checkDType(argument, dtypeOfTensor(backend, argument, x, 'float32'), 'float32');
  return backend.shape(x);
}

/** With `validate: 'full'` on a backend that reads values synchronously, checks that `x` is finite. */
function checkFiniteValues<T>(r: Resolved<T>, argument: string, x: T, shape: Dims): void {
  const { backend } = r.ops;
  if (r.validate === 'full' && backend.supports.eagerValues && backend.readSync) checkFinite(argument, backend.readSync(x), shape);
}

/** Validates embeddings [B, D] and centres [C·K, D]; returns B and C. */
function checkPair<T>(r: Resolved<T>, embeddings: T, centers: T, subCenters = 1): PairShape {
  const se = checkFloatTensor(r, 'embeddings', embeddings, '[B, D]');
  const sc = checkFloatTensor(r, 'centers', centers, subCenters === 1 ? '[C, D]' : '[C·K, D]');
  const pair = checkEmbeddingsAndCenters(se, sc, subCenters);
  checkFiniteValues(r, 'embeddings', embeddings, se);
  checkFiniteValues(r, 'centers', centers, sc);
  return pair;
}

/** Validates embeddings, centres and labels and returns the labels as an int32 tensor. */
function checkInputs<T>(r: MarginResolved<T>, embeddings: T, centers: T, labels: Labels<T>): T {
  const { ops } = r;
  const { backend } = ops;
  const { batch, classes } = checkPair(r, embeddings, centers, r.subCenters);
  const valueOptions = { classesFrom: 'centers', ...(r.ignoreIndex === undefined ? {} : { ignoreIndex: r.ignoreIndex }) };
  if (backend.isTensor(labels)) {
    checkTensor(backend, 'labels', labels);
    checkDType('labels', dtypeOfTensor(backend, 'labels', labels, 'int32 class indices'), 'int32', 'int32 class indices');
    checkLabelsShape('labels', backend.shape(labels), batch);
    if (r.validate === 'full' && backend.supports.eagerValues && backend.readSync) checkLabelValues('labels', backend.readSync(labels), classes, valueOptions);
    return labels;
  }
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new InvalidArgumentError('labels', `expected an int32 tensor, an Int32Array or an array of integers, got ${describe(labels)}`);
  }
  checkLabelsShape('labels', [labels.length], batch);
  checkLabelValues('labels', labels, classes, valueOptions);
  return ops.constant(Int32Array.from(labels), [labels.length], 'int32');
}

/**
 * Row-wise L2 normalisation x / max(‖x‖, eps) (= x / √max(‖x‖², eps²)), without overflow or
 * underflow for every finite float32 input: each row is first divided by m = max(max|x|, eps)
 * (held constant for the gradient: the result does not depend on it), so y = x/m has entries in
 * [−1, 1] and ‖y‖² cannot overflow; then x̂ = y / max(‖y‖, 1). Where max|x| ≥ eps, ‖y‖ ≥ 1 and
 * this is x/‖x‖; where it is below eps, it is x/max(‖x‖, eps). Every constant is a plain float
 * (no subnormal or 2⁻¹²⁶ floor), so WebGL's highp range (2⁻⁶² … 2⁶²) holds it too. Also returns the
 * norms max(‖x‖, eps) [B, 1] = m·max(‖y‖, 1): exact to float32 rounding wherever ‖x‖ is a float32
 * number, and +Infinity only where ‖x‖ itself exceeds the float32 maximum ≈ 3.4e38; the unit rows
 * and cosines stay finite even then.
 */
function normalizeRows<T>(ops: Ops<T>, x: T, eps: number): { readonly unit: T; readonly norm: T } {
  // There is no abs op: |x| = max(x, −x).
  const m = ops.stopGradient(ops.maximum(ops.max(ops.maximum(x, ops.neg(x)), 1, true), ops.scalar(eps)));
  const y = ops.div(x, m);
  const ny = ops.sqrt(ops.maximum(ops.sum(ops.mul(y, y), 1, true), ops.scalar(1)));
  return { unit: ops.div(y, ny), norm: ops.mul(m, ny) };
}

function cosines<T>(r: Resolved<T>, embeddings: T, centers: T, subCenters = 1): { readonly cos: T; readonly norm: T } {
  const { ops } = r;
  const x = normalizeRows(ops, embeddings, r.normEpsilon);
  const w = normalizeRows(ops, centers, r.normEpsilon);
  const all = ops.matmul(x.unit, w.unit, { transposeB: true });
  if (subCenters === 1) return { cos: all, norm: x.norm };
  const classes = ops.shape(centers)[0]! / subCenters;
  return { cos: ops.max(ops.reshape(all, [-1, classes, subCenters]), 2), norm: x.norm };
}

/**
 * Inference logits: the cosines x̂·Ŵⱼ [B, C] between L2-normalised embeddings and centres.
 *
 * @param backend - a marginkit backend.
 * @param options - normalisation eps, validation level and sub-centres per class.
 * @returns `(embeddings [B, D], centers [C·K, D]) => cosines [B, C]`.
 *
 * @example
 * ```ts
 * import { cosineLogits } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const logits = cosineLogits(tfjsBackend(tf));
 * const cos = logits(tf.tensor2d([[3, 4]]), tf.tensor2d([[1, 0], [0, 2]]));
 * console.log(Array.from(cos.dataSync()).map((v) => v.toFixed(2))); // ['0.60', '0.80']
 * ```
 */
export function cosineLogits<T>(backend: Backend<T>, options?: CosineLogitsOptions): (embeddings: T, centers: T) => T {
  const o = readOptions('cosineLogits', options, [...LOGITS_KEYS, 'subCenters']);
  const r = resolveBase('cosineLogits', backend, o);
  const k = readSubCenters('cosineLogits.subCenters', o['subCenters']);
  return (embeddings, centers) => {
    checkPair(r, embeddings, centers, k);
    return cosines(r, embeddings, centers, k).cos;
  };
}

interface MarginResolved<T> extends Resolved<T> {
  readonly margin: Margin;
  readonly scale: number;
  readonly epsilon: number;
  readonly subCenters: number;
  readonly ignoreIndex: -1 | undefined;
}

function resolveMargin<T>(
  owner: string,
  backend: Backend<T>,
  options: unknown,
  extra: readonly string[],
): { r: MarginResolved<T>; o: Readonly<Record<string, unknown>> } {
  if (options === undefined) throw new InvalidArgumentError(`${owner}.options`, 'are required: at least { margin }');
  const o = readOptions(owner, options, [...MARGIN_KEYS, ...extra]);
  const base = resolveBase(owner, backend, o);
  const margin = o['margin'];
  if (typeof margin !== 'object' || margin === null || typeof (margin as Margin).transform !== 'function') {
    throw new InvalidArgumentError(`${owner}.margin`, `expected a margin such as arcface() or defineMargin(...), got ${describe(margin)}`);
  }
  const scale = positive(`${owner}.scale`, o['scale'], 64, Number.POSITIVE_INFINITY, FLOAT32_LIMITS.scale);
  const epsilon = positive(`${owner}.epsilon`, o['epsilon'], DEFAULT_EPSILON, 0.1);
  const subCenters = readSubCenters(`${owner}.subCenters`, o['subCenters']);
  const ignoreIndex = o['ignoreIndex'];
  if (ignoreIndex !== undefined && ignoreIndex !== -1) {
    throw new InvalidArgumentError(`${owner}.ignoreIndex`, `must be -1 (or absent), got ${describe(ignoreIndex)}`);
  }
  (margin as Margin).checkLossOptions?.({ scale });
  return { r: { ...base, margin: margin as Margin, scale, epsilon, subCenters, ignoreIndex }, o };
}

function readSubCenters(argument: string, value: unknown): number {
  return value === undefined ? 1 : checkNumber(argument, value, { min: 1, integer: true });
}

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

/** The pieces both the logits and the loss are made of. */
interface MarginParts<T> {
  /** The non-target logits before scaling [B, C]: the cosines, or the margin's whole-row logits. */
  readonly base: T;
  /** Target logits before scaling [B]. */
  readonly target: T;
  /** One-hot of the labels [B, C]. */
  readonly oneHot: T;
  /** 1 for counted rows, 0 for ignored [B]. */
  readonly valid: T;
  /** The scale: a scalar, or [B, 1]. */
  readonly scale: T;
  /** The margin's result. */
  readonly result: MarginResult<T>;
  /** The state the margin saw. */
  readonly state: Readonly<Record<string, T>>;
}

function initialStateOf(margin: Margin, classes: number): Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }> {
  const out: Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }> = {};
  for (const [key, spec] of Object.entries(margin.state ?? {})) {
    const data = Float32Array.from(spec.initial(classes));
    const size = spec.shape.reduce((p, d) => p * d, 1);
    if (data.length !== size) throw new ShapeError(`${margin.type}.state.${key}`, `initial() gave ${data.length} values for shape [${spec.shape.join(', ')}]`);
    out[key] = { shape: spec.shape, data };
  }
  return out;
}

function stepTensors<T>(
  r: MarginResolved<T>,
  batch: number,
  classes: number,
  options: MarginStepOptions<T>,
): { state: Record<string, T>; inputs: Record<string, T> } {
  const { ops, margin } = r;
  const declared = margin.state ?? {};
  const given = readOptions('options.state', options.state, Object.keys(declared));
  const state: Record<string, T> = {};
  const initial = Object.keys(declared).some((k) => given[k] === undefined) ? initialStateOf(margin, classes) : {};
  for (const [key, spec] of Object.entries(declared)) {
    const t = given[key];
    if (t === undefined) {
      state[key] = ops.constant(initial[key]!.data, spec.shape);
      continue;
    }
    checkTensor(ops.backend, `options.state.${key}`, t);
    const shape = ops.backend.shape(t as T);
    if (shape.length !== spec.shape.length || shape.some((d, i) => d >= 0 && d !== spec.shape[i])) {
      throw new ShapeError(`options.state.${key}`, `expected shape [${spec.shape.join(', ')}] for margin '${margin.type}', got [${shape.join(', ')}]`);
    }
    state[key] = t as T;
  }
  const wanted = margin.inputs ?? {};
  const givenInputs = readOptions('options.inputs', options.inputs, Object.keys(wanted));
  const inputs: Record<string, T> = {};
  for (const key of Object.keys(wanted)) {
    const t = givenInputs[key];
    if (t === undefined) throw new InvalidArgumentError(`options.inputs.${key}`, `is required by margin '${margin.type}' (a float32 [B] tensor per step)`);
    checkTensor(ops.backend, `options.inputs.${key}`, t);
    const shape = ops.backend.shape(t as T);
    if (shape.length !== 1 || (shape[0]! >= 0 && batch >= 0 && shape[0] !== batch)) {
      throw new ShapeError(`options.inputs.${key}`, `expected shape [${batch}] (one value per row), got [${shape.join(', ')}]`);
    }
    inputs[key] = t as T;
  }
  return { state, inputs };
}

function marginParts<T>(r: MarginResolved<T>, embeddings: T, centers: T, labels: Labels<T>, options: MarginStepOptions<T> = {}): MarginParts<T> {
  const { ops, margin } = r;
  const raw = checkInputs(r, embeddings, centers, labels);
  const batch = ops.shape(embeddings)[0]!;
  const classes = ops.shape(centers)[0]! / r.subCenters;
  const { state, inputs } = stepTensors(r, batch, classes, options);
  const { cos, norm } = cosines(r, embeddings, centers, r.subCenters);
  const labelsF = ops.cast(raw, 'float32');
  const valid = ops.cast(ops.greater(labelsF, ops.scalar(-0.5)), 'float32');
  const idx = r.ignoreIndex === undefined ? raw : ops.cast(ops.maximum(labelsF, ops.scalar(0)), 'int32');
  const oneHot = ops.oneHot(idx, classes);
  const cosTarget = ops.gatherPerRow(cos, idx);
  const context: MarginContext<T> = {
    ops,
    epsilon: r.epsilon,
    cosines: cos,
    cosTarget,
    labels: idx,
    oneHot,
    valid,
    norms: norm,
    classes,
    state,
    inputs,
    training: options.training ?? true,
  };
  const result = margin.transform(context);
  if (typeof result !== 'object' || result === null || (result.target === undefined && result.logits === undefined)) {
    throw new InvalidArgumentError(`${margin.type}.transform`, 'must return { target } or { logits } (tensors written with the ops)');
  }
  const base = result.logits ?? cos;
  const target = result.target ?? ops.gatherPerRow(result.logits!, idx);
  const scale = result.scale ?? (margin.featureScale === 'norm' ? norm : ops.scalar(r.scale));
  return { base, target, oneHot, valid, scale, result, state };
}

/** Below this Σ_{j≠y} exp(z_j − z_y), the loss log(1 + S) is computed by its series. */
const SERIES_BELOW = 1e-2;

/**
 * Per-sample cross-entropy, computed relative to the target logit:
 * d_j = s·(b_j − t) for j ≠ y and d_y = 0 exactly, loss = log Σ_j exp(d_j) with the max
 * subtracted (and held constant for the gradient: the value does not depend on it).
 * For a well-classified sample S = Σ_{j≠y} exp(d_j) is small and log(1 + S) would round 1 + S;
 * there the series S − S²/2 + S³/3 (error < S⁴/4 < 3e-9·S) keeps full float32 relative precision,
 * which `logSumExp(z) − z_y` (and float32 PyTorch cross_entropy) lose to cancellation.
 */
function perSampleCrossEntropy<T>(ops: Ops<T>, { base, target, oneHot, scale }: MarginParts<T>): T {
  const others = ops.sub(ops.scalar(1), oneHot);
  const d = ops.mul(ops.mul(ops.sub(base, ops.reshape(target, [-1, 1])), others), scale);
  const m = ops.stopGradient(ops.max(d, 1, true));
  const e = ops.exp(ops.sub(d, m));
  const lse = ops.add(ops.reshape(m, [-1]), ops.log(ops.sum(e, 1)));
  const sum = ops.sum(ops.mul(e, others), 1);
  const sq = ops.mul(sum, sum);
  const series = ops.add(ops.sub(sum, ops.mul(sq, ops.scalar(0.5))), ops.mul(ops.mul(sq, sum), ops.scalar(1 / 3)));
  // S < 1e-2 implies max d = d_y = 0 (any d_j > 0 would put exp(0) = 1 into S), so e = exp(d).
  return ops.where(ops.less(sum, ops.scalar(SERIES_BELOW)), series, lse);
}

function reduce<T>(r: MarginResolved<T>, reduction: Reduction, perSample: T, valid: T): T {
  const { ops } = r;
  if (reduction === 'none') return perSample;
  if (reduction === 'sum') return ops.sum(perSample, 0);
  if (r.ignoreIndex === undefined) return ops.mean(perSample, 0);
  return ops.div(ops.sum(perSample, 0), ops.maximum(ops.sum(valid, 0), ops.scalar(1)));
}

function statelessOnly(owner: string, margin: Margin): void {
  const state = Object.keys(margin.state ?? {});
  const inputs = Object.keys(margin.inputs ?? {});
  if (state.length > 0 || inputs.length > 0) {
    throw new InvalidArgumentError(
      `${owner}.margin`,
      `margin '${margin.type}' carries ${state.length > 0 ? `state (${state.join(', ')})` : `per-step inputs (${inputs.join(', ')})`}; ` +
        'use marginSoftmaxStep (state in, state out) or a head from @marginkit/losses, which keeps it',
    );
  }
}

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
  const { r, o } = resolveMargin(owner, backend, options, LOSS_OPTION_KEYS);
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

function readStepOptions<T>(options: unknown): MarginStepOptions<T> {
  const o = readOptions('options', options, ['state', 'inputs', 'training']);
  if (o['training'] !== undefined && typeof o['training'] !== 'boolean') {
    throw new InvalidArgumentError('options.training', `must be a boolean, got ${describe(o['training'])}`);
  }
  return o as MarginStepOptions<T>;
}
