/**
 * {@link chunkedMarginSoftmaxStep}: the margin softmax loss over class chunks, with peak memory
 * independent of the number of classes beyond the centres themselves.
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import { type ChunkValue, checkChunks, chunkSetup, readLabels } from './chunk-inputs.js';
import { type Call, backwardPass, gatherTargetCosines, rowLosses, rowPass, statisticsOver } from './chunk-passes.js';
import { resolveNorms } from './chunk-norms.js';
import { hostInputs } from './chunk-run.js';
import { InvalidArgumentError, InvalidBackendError } from './errors.js';
import { checkNumber } from './input-checks.js';
import { resolveMargin } from './loss-options.js';
import type { Labels, MarginLogitsOptions } from './loss-types.js';
import { readChoice, readOptions } from './margin-options.js';
import { initialStateOf } from './margin-parts.js';
import type { Margin } from './margin-types.js';

/** Options of {@link chunkedMarginSoftmaxStep}. */
export interface ChunkedMarginStepOptions extends MarginLogitsOptions {
  /** Cc, the classes per chunk: every chunk of centres holds Cc·K rows, the last one possibly fewer. */
  readonly classChunk: number;
  /** `'mean'` over the counted rows (default) or `'sum'`; per-sample losses are always returned. */
  readonly reduction?: 'mean' | 'sum';
  /**
   * Whether a step that takes gradients keeps each chunk's cosines x̂·w_j from pass 1 for pass 2,
   * which then skips one of its three matmuls: on onnxruntime-node at B = 256, D = 512 the step
   * took 0.83× as long at C = 300,000 and 0.94× at 10⁶ (medians of runs in turns; see the scale
   * guide). They are B·C float32 values held for the step (977 MiB at B = 256, C = 10⁶): no more
   * than the centres' gradient (C·D values, which the chunked step never holds whole) when B ≤ D.
   * `'auto'` (default) keeps them when B ≤ D. Kept only where both passes take the lean graphs (a
   * margin that is not class-local, one centre per class, a fixed scale, the centres' norms and
   * values on the host, as ONNX Runtime's chunks are); elsewhere pass 2 forms the product again.
   * The loss is the same bit for bit; the gradients differ by float32 rounding.
   */
  readonly keepLogits?: boolean | 'auto';
}

/** Per-call options of a {@link ChunkedMarginStep}. */
export interface ChunkedStepCallOptions<T> {
  /** The margin's state: per entry a tensor or row-major float32 values; missing entries start from their initial values. */
  readonly state?: Readonly<Record<string, ChunkValue<T>>>;
  /** The margin's per-step inputs, [B] each (tensors or float32 values). */
  readonly inputs?: Readonly<Record<string, ChunkValue<T>>>;
  /** A training step (the state advances); default true. */
  readonly training?: boolean;
  /**
   * Asks for gradients: called (and awaited) with chunk k's centre gradient d loss / d centers[k]
   * ([Cc·K, D] row-major) as soon as it is known, chunk by chunk in order, before the next chunk's
   * gradient is computed; an optimizer can update chunk k in place and drop the array. The
   * embedding gradient comes back in the result. Without it no gradient is computed.
   */
  readonly onCentersGradient?: (chunk: number, gradient: Float32Array, normCoefficients?: Float64Array) => void | Promise<void>;
  /**
   * The L2 norm ‖w_j‖ of every centre row, one Float64Array per chunk ([Cc·K] each), for a caller
   * that keeps them (a trainer computes them as it updates the centres). The chunk graphs then take
   * the norms as an input instead of four passes over [Cc·K, D] each (three more backward). They
   * must be the norms of the values the chunks hold now: they are checked for shape, finiteness and
   * sign only. Without them, on backends whose chunks are host memory (ONNX Runtime), the norms are
   * taken in one float64 pass here; elsewhere (tfjs) inside the graphs. Norms above 10³⁰ or in
   * (0, 10⁻³⁰) fall back to the graphs' overflow-safe norm.
   */
  readonly centerNorms?: readonly Float64Array[];
  /**
   * `'apply'` (default): `onCentersGradient` gets the full gradient. `'defer'`: when the norms were
   * taken on the host it gets g and c ([Cc·K] float64) with the full gradient g_j − c_j·w_j (w the
   * chunk's centres before any update), so an optimizer that passes over the chunk anyway can fold
   * the term in; when the graphs took the norms, c is undefined and g is the full gradient.
   */
  readonly normTerm?: 'apply' | 'defer';
}

/** What a {@link ChunkedMarginStep} returns, read into JavaScript. */
export interface ChunkedStepResult {
  /** The reduced loss (cross-entropy plus any auxiliary loss). */
  readonly loss: number;
  /** Per-sample losses [B] (zero for ignored rows). */
  readonly perSample: Float64Array;
  /** The auxiliary loss alone, reduced like `loss`, when the margin has one. */
  readonly auxiliaryLoss?: number;
  /** The margin's next state, row-major values per entry (pass it back as `options.state`). */
  readonly state: Readonly<Record<string, Float32Array>>;
  /** d loss / d embeddings [B, D] row-major, when `onCentersGradient` was given. */
  readonly embeddingsGradient?: Float32Array;
}

/** The chunked loss step; see {@link chunkedMarginSoftmaxStep}. */
export interface ChunkedMarginStep<T> {
  /** Computes the loss, the next state and, with `onCentersGradient`, the gradients. */
  (embeddings: T, centers: readonly T[], labels: Labels<T>, options?: ChunkedStepCallOptions<T>): Promise<ChunkedStepResult>;
  /** The margin the step applies. */
  readonly margin: Margin;
  /** Cc, classes per chunk. */
  readonly classChunk: number;
  /** K, the sub-centres per class. */
  readonly subCenters: number;
  /** The ignored label value, if any. */
  readonly ignoreIndex: -1 | undefined;
  /** The reduction of `loss`. */
  readonly reduction: 'mean' | 'sum';
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

/**
 * Reads a `keepLogits` option ({@link ChunkedMarginStepOptions.keepLogits}): true, false or
 * `'auto'` (the default, for undefined); anything else is an `InvalidArgumentError` naming `argument`.
 *
 * @param argument - the option's name in the error.
 * @param value - the option as given.
 * @returns the option.
 *
 * @example
 * ```ts
 * import { readKeepLogits } from '@marginkit/core';
 * console.log(readKeepLogits('options.keepLogits', undefined), readKeepLogits('options.keepLogits', false)); // auto false
 * ```
 */
export function readKeepLogits(argument: string, value: unknown): boolean | 'auto' {
  if (value === undefined) return 'auto';
  if (value !== 'auto' && typeof value !== 'boolean') {
    throw new InvalidArgumentError(argument, `must be true, false or 'auto', got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  }
  return value;
}

/**
 * Whether a step of `batch` rows of `dim` values keeps its cosines under the option `keepLogits`:
 * `'auto'` when the B·C kept values take no more than the C·D of the centres' gradient, B ≤ D.
 *
 * @param option - `keepLogits` as {@link readKeepLogits} gives it.
 * @param batch - B, the rows of the step.
 * @param dim - D, the embedding size.
 * @returns true where the cosines are kept (on the lean graphs; see {@link ChunkedMarginStepOptions.keepLogits}).
 *
 * @example
 * ```ts
 * import { keepsLogits } from '@marginkit/core';
 * console.log(keepsLogits('auto', 256, 512), keepsLogits('auto', 1024, 512), keepsLogits(true, 1024, 512)); // true false true
 * ```
 */
export function keepsLogits(option: boolean | 'auto', batch: number, dim: number): boolean {
  return option === 'auto' ? batch <= dim : option;
}

/**
 * The margin softmax loss over class chunks: the same loss, per-sample losses, next state and
 * gradients as {@link marginSoftmaxStep} (to float32 rounding), while no tensor larger than one
 * chunk's [B, Cc] logits exists at any time: peak memory is the centres, their optimizer state and
 * one chunk's work, plus the B·C kept cosines where `keepLogits` keeps them (by default when
 * B ≤ D, within the bytes of the centres' gradient, which is never held whole). The centres come
 * as chunks of `classChunk` classes ([Cc·K, D] each, the last possibly smaller), in the order of
 * the classes; labels are global class indices.
 *
 * The algorithm. Pass 1 computes per chunk and row the statistics of the non-target scaled logits,
 * M = max and E = Σ exp(z − M), and the target cosine where the chunk holds the label
 * ({@link ChunkStatistics}); they merge exactly ({@link mergeChunkStatistics}). The margin then
 * gives the target logit z_y from the merged target cosines (so margins with batch statistics,
 * ElasticFace+, AdaFace, see the true ones), and {@link softmaxRows} the loss softplus(M + ln E − z_y),
 * in float64. Pass 2 forms each chunk's logits again (from the kept cosines, with `keepLogits`) and
 * takes, with the backend's `valueAndGradients`, the
 * gradient of Σ sg(w·p_j)·z_j over its non-target classes plus w·(p_y − 1)·z_y (and the auxiliary
 * loss) for the rows whose label it holds: exactly that chunk's share of the gradient. Margins with
 * whole-row logits must be `classLocal` (CurricularFace, AdaFace): their chunks see the true target
 * cosine (gathered by a pass 0), and the slope of each chunk's non-target log-sum-exp with respect
 * to it merges like E, so the gradient through c_y is exact too. A margin whose transform needs every
 * class at once (AdaCos) gets an `InvalidArgumentError` saying so.
 *
 * On every backend: values need `compute`, `valueAndGradients` or `readSync`, gradients
 * `valueAndGradients`.
 * On ONNX Runtime every per-call value is a fed input, so each pass compiles once per chunk size
 * (at most two sizes: `classChunk` and the last chunk's); give the chunk tensors no names (or equal ones).
 *
 * @param backend - a marginkit backend.
 * @param options - as {@link marginSoftmaxStep} (margin, scale, subCenters, ignoreIndex, ...) plus `classChunk` and `keepLogits`.
 * @returns a {@link ChunkedMarginStep}: `await step(embeddings, centerChunks, labels, { onCentersGradient })`.
 *
 * @example
 * ```ts
 * import { arcface, chunkedMarginSoftmaxStep, marginSoftmaxStep } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs';
 * const backend = tfjsBackend(tf);
 * const x = tf.randomNormal([4, 8], 0, 1, 'float32', 1);
 * const w = tf.randomNormal([10, 8], 0, 1, 'float32', 2);
 * const chunks = tf.split(w, [4, 4, 2]); // 10 classes in chunks of 4
 * const step = chunkedMarginSoftmaxStep(backend, { margin: arcface(), scale: 16, classChunk: 4 });
 * const sizes: number[] = []; // an optimizer would apply each chunk's gradient here, then drop it
 * const out = await step(x, chunks, [0, 5, 9, 3], { onCentersGradient: (k, g) => void sizes.push(g.length) });
 * const whole = marginSoftmaxStep(backend, { margin: arcface(), scale: 16 })(x, w, [0, 5, 9, 3]);
 * console.log(Math.abs(out.loss - whole.loss.dataSync()[0]!) < 1e-5, sizes); // true [32, 32, 16]
 * ```
 */
export function chunkedMarginSoftmaxStep<T>(backend: Backend<T>, options: ChunkedMarginStepOptions): ChunkedMarginStep<T> {
  const owner = 'chunkedMarginSoftmaxStep';
  const { r, o } = resolveMargin(owner, backend, options, ['reduction', 'classChunk', 'keepLogits']);
  const classChunk = checkNumber(`${owner}.classChunk`, o['classChunk'], { min: 1, integer: true });
  const reduction = readChoice(`${owner}.reduction`, o['reduction'], 'mean', ['mean', 'sum']);
  const keepLogits = readKeepLogits(`${owner}.keepLogits`, o['keepLogits']);
  const step = async (embeddings: T, centers: readonly T[], labels: Labels<T>, callOptions: ChunkedStepCallOptions<T> = {}): Promise<ChunkedStepResult> => {
    const o = readOptions('options', callOptions, ['state', 'inputs', 'training', 'onCentersGradient', 'centerNorms', 'normTerm']);
    const normTerm = readChoice('options.normTerm', o['normTerm'], 'apply', ['apply', 'defer']);
    if (o['training'] !== undefined && typeof o['training'] !== 'boolean') {
      throw new InvalidArgumentError('options.training', `must be a boolean, got ${typeof o['training']}`);
    }
    const { onCentersGradient } = callOptions;
    if (onCentersGradient !== undefined && typeof onCentersGradient !== 'function') {
      throw new InvalidArgumentError('options.onCentersGradient', 'must be a function (chunk, gradient) => void');
    }
    if (onCentersGradient !== undefined && typeof backend.valueAndGradients !== 'function') {
      throw new InvalidBackendError('backend', `backend '${backend.name}' has no valueAndGradients(f, xs); the chunked loss needs it for gradients`);
    }
    const layout = checkChunks(r, classChunk, embeddings, centers);
    const values = await readLabels(r, labels, layout);
    const host = hostInputs(r.ops);
    try {
      const s = chunkSetup(r, host, layout, values, { state: o['state'], inputs: o['inputs'], training: callOptions.training ?? true });
      const rows = layout.starts.slice(1).map((end, k) => (end - layout.starts[k]!) * r.subCenters);
      const apply = normTerm === 'apply' && onCentersGradient !== undefined;
      const norms = await resolveNorms({ backend, centers, rows, dim: layout.dim, eps: r.normEpsilon, given: o['centerNorms'], apply });
      const gradients = onCentersGradient !== undefined;
      const keep = gradients && keepsLogits(keepLogits, layout.batch, layout.dim);
      const c: Call<T> = {
        owner,
        s,
        host,
        layout,
        labels: values,
        x: embeddings,
        centers,
        norms,
        deferNormTerm: normTerm === 'defer',
        ...(keep ? { kept: { products: [] } } : {}),
      };
      const gathered = s.classLocal ? await gatherTargetCosines(c) : undefined;
      const given = gathered === undefined ? undefined : host.input(gathered, [layout.batch]);
      const stats = await statisticsOver(c, given, s.classLocal && gradients);
      const cosTarget = gathered ?? stats.cosTarget;
      const row = await rowPass(c, host.input(cosTarget, [layout.batch]));
      const { coefficients, ...losses } = rowLosses(values, reduction, stats, row, cosTarget);
      const result = { ...losses, state: row.state };
      if (onCentersGradient === undefined) return result;
      return { ...result, embeddingsGradient: await backwardPass(c, coefficients, onCentersGradient) };
    } finally {
      host.release();
    }
  };
  return Object.assign(step, {
    margin: r.margin,
    classChunk,
    subCenters: r.subCenters,
    ignoreIndex: r.ignoreIndex,
    reduction,
    initialState: (classes: number) => initialStateOf(r.margin, classes),
  });
}
