import { type Backend, assertBackend } from './backend.js';
import { type Ops, createOps, describe } from './create-ops.js';
import { DTypeError, InvalidArgumentError, LabelError, NonFiniteError, ShapeError } from './errors.js';
import { type Margin, readChoice, readOptions } from './margin.js';

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
  /** L2 normalisation uses x / sqrt(max(‖x‖², eps²)); default eps 1e-12, so a zero vector maps to 0. */
  readonly normEpsilon?: number;
  /** What to check on each call; default `'full'`. */
  readonly validate?: Validation;
}

/** Options of {@link marginLogits}. */
export interface MarginLogitsOptions extends NormalizeOptions {
  /** The margin applied to the target logit. */
  readonly margin: Margin;
  /** The scale s > 0 the logits are multiplied by. Default 64. Ignored by margins with `featureScale: 'norm'`. */
  readonly scale?: number;
  /**
   * Cosines are clamped to [−1 + ε, 1 − ε] before `acos`. Default {@link DEFAULT_EPSILON}
   * = 2⁻²³ ≈ 1.19e-7, the float32 machine epsilon.
   */
  readonly epsilon?: number;
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
const MARGIN_KEYS = [...LOGITS_KEYS, 'margin', 'scale', 'epsilon'] as const;
/** The option names {@link marginSoftmaxLoss} accepts. @internal */
export const LOSS_OPTION_KEYS: readonly string[] = [...MARGIN_KEYS, 'reduction'];

function resolveBase<T>(owner: string, backend: Backend<T>, o: Readonly<Record<string, unknown>>): Resolved<T> {
  assertBackend<T>(backend);
  const normEpsilon = positive(`${owner}.normEpsilon`, o['normEpsilon'], 1e-12, 1e-3);
  const validate = readChoice(`${owner}.validate`, o['validate'], 'full', ['full', 'shapes']);
  return { ops: createOps(backend), normEpsilon, validate };
}

/** A finite number in (0, max] (or > 0 without `max`), or the default. */
function positive(argument: string, value: unknown, fallback: number, max = Number.POSITIVE_INFINITY): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new InvalidArgumentError(argument, `must be a number, got ${typeof value}`);
  if (!Number.isFinite(value)) throw new NonFiniteError(argument, `must be finite, got ${value}`);
  if (value <= 0 || value > max)
    throw new InvalidArgumentError(argument, `must be ${max === Number.POSITIVE_INFINITY ? '> 0' : `in (0, ${max}]`}, got ${value}`);
  return value;
}

function checkMatrix<T>(r: Resolved<T>, argument: string, x: T, what: string): readonly number[] {
  const { backend } = r.ops;
  if (!backend.isTensor(x)) throw new InvalidArgumentError(argument, `expected a ${backend.name} tensor ${what}, got ${describe(x)}`);
  const shape = backend.shape(x);
  if (shape.length !== 2) throw new ShapeError(argument, `expected rank 2 ${what}, got shape [${shape.join(', ')}]`);
  const dtype = backend.dtype(x);
  if (dtype !== 'float32') throw new DTypeError(argument, `expected float32, got ${dtype}`);
  if (shape[0] === 0) throw new ShapeError(argument, `is empty: shape [${shape.join(', ')}] has no rows`);
  if (shape[1] === 0) throw new ShapeError(argument, `has zero-length rows: shape [${shape.join(', ')}]`);
  if (r.validate === 'full' && backend.supports.eagerValues && backend.readSync) {
    const values = backend.readSync(x);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) {
        const cols = shape[1]!;
        throw new NonFiniteError(argument, `has a non-finite value ${values[i]} at [${Math.floor(i / cols)}, ${i % cols}]`);
      }
    }
  }
  return shape;
}

/** Validates embeddings [B, D] and centres [C, D]; returns B and C. */
function checkPair<T>(r: Resolved<T>, embeddings: T, centers: T): [number, number] {
  const [b, d] = checkMatrix(r, 'embeddings', embeddings, '[B, D]');
  const [c, dc] = checkMatrix(r, 'centers', centers, '[C, D]');
  if (d! >= 0 && dc! >= 0 && d !== dc) {
    throw new ShapeError('centers', `have dimension ${dc} but embeddings have ${d} (centers [C, D], embeddings [B, D])`);
  }
  return [b!, c!];
}

/** Validates embeddings, centres and labels and returns the labels as an int32 tensor. */
function checkInputs<T>(r: Resolved<T>, embeddings: T, centers: T, labels: Labels<T>): T {
  const { ops } = r;
  const { backend } = ops;
  const [b, c] = checkPair(r, embeddings, centers);
  if (backend.isTensor(labels)) {
    const shape = backend.shape(labels);
    if (shape.length !== 1) throw new ShapeError('labels', `expected rank 1 [B], got shape [${shape.join(', ')}]`);
    const dtype = backend.dtype(labels);
    if (dtype !== 'int32') throw new DTypeError('labels', `expected int32 class indices, got ${dtype}`);
    if (shape[0]! >= 0 && b >= 0 && shape[0] !== b) throw new ShapeError('labels', `has ${shape[0]} entries but embeddings have ${b} rows`);
    if (r.validate === 'full' && backend.supports.eagerValues && backend.readSync) checkLabelValues(backend.readSync(labels), c);
    return labels;
  }
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new InvalidArgumentError('labels', `expected an int32 tensor, an Int32Array or an array of integers, got ${describe(labels)}`);
  }
  if (labels.length !== b) throw new ShapeError('labels', `has ${labels.length} entries but embeddings have ${b} rows`);
  checkLabelValues(labels, c);
  return ops.constant(Int32Array.from(labels), [labels.length], 'int32');
}

function checkLabelValues(values: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new LabelError('labels', `labels[${i}] = ${String(v)} is not an integer class index`);
    if (v < 0 || (classes >= 0 && v >= classes)) throw new LabelError('labels', `labels[${i}] = ${v} is not in [0, ${classes}) (centers has ${classes} rows)`);
  }
}

/** Row-wise L2 normalisation x / sqrt(max(‖x‖², eps²)); also returns the norms [B, 1]. */
function normalizeRows<T>(ops: Ops<T>, x: T, eps: number): { readonly unit: T; readonly norm: T } {
  const sq = ops.sum(ops.mul(x, x), 1, true);
  const norm = ops.sqrt(ops.maximum(sq, ops.scalar(eps * eps)));
  return { unit: ops.div(x, norm), norm };
}

function cosines<T>(r: Resolved<T>, embeddings: T, centers: T): { readonly cos: T; readonly norm: T } {
  const { ops } = r;
  const x = normalizeRows(ops, embeddings, r.normEpsilon);
  const w = normalizeRows(ops, centers, r.normEpsilon);
  return { cos: ops.matmul(x.unit, w.unit, { transposeB: true }), norm: x.norm };
}

/**
 * Inference logits: the cosines x̂·Ŵⱼ [B, C] between L2-normalised embeddings and centres.
 *
 * @param backend - a marginkit backend.
 * @param options - normalisation eps and validation level.
 * @returns `(embeddings [B, D], centers [C, D]) => cosines [B, C]`.
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
export function cosineLogits<T>(backend: Backend<T>, options?: NormalizeOptions): (embeddings: T, centers: T) => T {
  const r = resolveBase('cosineLogits', backend, readOptions('cosineLogits', options, LOGITS_KEYS));
  return (embeddings, centers) => {
    checkPair(r, embeddings, centers);
    return cosines(r, embeddings, centers).cos;
  };
}

interface MarginResolved<T> extends Resolved<T> {
  readonly margin: Margin;
  readonly scale: number;
  readonly epsilon: number;
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
  if (typeof margin !== 'object' || margin === null || typeof (margin as Margin).targetLogit !== 'function') {
    throw new InvalidArgumentError(`${owner}.margin`, `expected a margin such as arcface() or defineMargin(...), got ${describe(margin)}`);
  }
  const scale = positive(`${owner}.scale`, o['scale'], 64);
  const epsilon = positive(`${owner}.epsilon`, o['epsilon'], DEFAULT_EPSILON, 0.1);
  return { r: { ...base, margin: margin as Margin, scale, epsilon }, o };
}

/** The pieces both the logits and the loss are made of. */
interface MarginParts<T> {
  /** Cosines [B, C]. */
  readonly cos: T;
  /** Target cosines c_y [B]. */
  readonly cosTarget: T;
  /** Target logits before scaling [B]. */
  readonly target: T;
  /** One-hot of the labels [B, C]. */
  readonly oneHot: T;
  /** The scale: a scalar, or ‖x‖ as [B, 1] for `featureScale: 'norm'`. */
  readonly scale: T;
}

function marginParts<T>(r: MarginResolved<T>, embeddings: T, centers: T, labels: Labels<T>): MarginParts<T> {
  const { ops, margin } = r;
  const idx = checkInputs(r, embeddings, centers, labels);
  const { cos, norm } = cosines(r, embeddings, centers);
  const cy = ops.gatherPerRow(cos, idx);
  const target = margin.targetLogit(cy, { ops, epsilon: r.epsilon });
  const oneHot = ops.oneHot(idx, ops.shape(centers)[0]!);
  return { cos, cosTarget: cy, target, oneHot, scale: margin.featureScale === 'norm' ? norm : ops.scalar(r.scale) };
}

/** Below this Σ_{j≠y} exp(z_j − z_y), the loss log(1 + S) is computed by its series. */
const SERIES_BELOW = 1e-2;

/**
 * Per-sample cross-entropy, computed relative to the target logit:
 * d_j = s·(c_j − t) for j ≠ y and d_y = 0 exactly, loss = log Σ_j exp(d_j) with the max
 * subtracted (and held constant for the gradient: the value does not depend on it).
 * For a well-classified sample S = Σ_{j≠y} exp(d_j) is small and log(1 + S) would round 1 + S;
 * there the series S − S²/2 + S³/3 (error < S⁴/4 < 3e-9·S) keeps full float32 relative precision,
 * which `logSumExp(z) − z_y` (and float32 PyTorch cross_entropy) lose to cancellation.
 */
function perSampleCrossEntropy<T>(ops: Ops<T>, { cos, target, oneHot, scale }: MarginParts<T>): T {
  const others = ops.sub(ops.scalar(1), oneHot);
  const d = ops.mul(ops.mul(ops.sub(cos, ops.reshape(target, [-1, 1])), others), scale);
  const m = ops.stopGradient(ops.max(d, 1, true));
  const e = ops.exp(ops.sub(d, m));
  const lse = ops.add(ops.reshape(m, [-1]), ops.log(ops.sum(e, 1)));
  const sum = ops.sum(ops.mul(e, others), 1);
  const sq = ops.mul(sum, sum);
  const series = ops.add(ops.sub(sum, ops.mul(sq, ops.scalar(0.5))), ops.mul(ops.mul(sq, sum), ops.scalar(1 / 3)));
  // S < 1e-2 implies max d = d_y = 0 (any d_j > 0 would put exp(0) = 1 into S), so e = exp(d).
  return ops.where(ops.less(sum, ops.scalar(SERIES_BELOW)), series, lse);
}

/**
 * The scaled logits with the margin applied to each row's target class, [B, C], for users who
 * bring their own cross-entropy.
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
  const { ops } = r;
  return (embeddings, centers, labels) => {
    const { cos, cosTarget, target, oneHot, scale } = marginParts(r, embeddings, centers, labels);
    const delta = ops.reshape(ops.sub(target, cosTarget), [-1, 1]);
    return ops.mul(ops.add(cos, ops.mul(oneHot, delta)), scale);
  };
}

/**
 * The margin softmax loss: cross-entropy over s·logits where the target logit carries the
 * margin. Per row it is computed relative to the target, log(1 + Σ_{j≠y} exp(s·(c_j − t))), with
 * the max subtracted, and by its series where that sum is below 1e-2, so that well-classified
 * samples keep full float32 relative precision (the usual logSumExp(z) − z_y loses it to
 * cancellation). Then reduced. Traceable by symbolic backends: it reads no tensor values (except for `validate:
 * 'full'` checks on eager backends) and has no value-dependent control flow.
 *
 * @param backend - a marginkit backend, e.g. `tfjsBackend(tf)`.
 * @param options - margin, scale (default 64), reduction (default `'mean'`) and numerics.
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
  const { r, o } = resolveMargin('marginSoftmaxLoss', backend, options, LOSS_OPTION_KEYS);
  const reduction = readChoice('marginSoftmaxLoss.reduction', o['reduction'], 'mean', ['mean', 'sum', 'none']);
  const { ops } = r;
  return (embeddings, centers, labels) => {
    const perSample = perSampleCrossEntropy(ops, marginParts(r, embeddings, centers, labels));
    if (reduction === 'none') return perSample;
    return reduction === 'mean' ? ops.mean(perSample, 0) : ops.sum(perSample, 0);
  };
}
