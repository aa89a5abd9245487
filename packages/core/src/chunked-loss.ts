/**
 * {@link chunkedMarginSoftmaxStep}: the margin softmax loss over class chunks, with peak memory
 * independent of the number of classes beyond the centres themselves.
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import { type ChunkSetup, chunkStatisticsOf, embeddingNorms, rowTerms, surrogate, targetCosines } from './chunk-graphs.js';
import { type ChunkLayout, type ChunkValue, checkChunks, chunkSetup, readLabels } from './chunk-inputs.js';
import { type HostInputs, evaluate, hostInputs } from './chunk-run.js';
import { type ChunkStatistics, type SoftmaxRows, emptyChunkStatistics, mergeChunkStatistics, softmaxRows } from './chunk-statistics.js';
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
  readonly onCentersGradient?: (chunk: number, gradient: Float32Array) => void | Promise<void>;
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

/** One call's checked arguments. */
interface Call<T> {
  readonly s: ChunkSetup<T>;
  readonly host: HostInputs<T>;
  readonly layout: ChunkLayout;
  readonly labels: Int32Array;
  readonly x: T;
  readonly centers: readonly T[];
}

/**
 * Runs `fn` with the input labels − (chunk k's first class) and a host for the chunk's other fed
 * inputs (probes), all released when it ends, so per-chunk inputs never pile up over the chunks.
 */
async function withLocalLabels<T, R>(c: Call<T>, k: number, fn: (local: T, host: HostInputs<T>) => Promise<R>): Promise<R> {
  const host = hostInputs(c.s.r.ops);
  try {
    const start = c.layout.starts[k]!;
    return await fn(
      host.input(
        Float64Array.from(c.labels, (y) => Math.max(y, 0) - start),
        [c.layout.batch],
      ),
      host,
    );
  } finally {
    host.release();
  }
}

/** Passes 0 and 1: the merged statistics (and the target cosines as a fed input). */
async function statistics<T>(c: Call<T>, gradients: boolean): Promise<{ stats: ChunkStatistics; cosTarget: T }> {
  const { s, host, layout } = c;
  const { ops } = s.r;
  const b = [layout.batch];
  let given: T | undefined;
  if (s.classLocal) {
    // Class-local logits may depend on c_y: it is gathered first (pass 0).
    const sum = new Float64Array(layout.batch);
    for (let k = 0; k < c.centers.length; k++) {
      const [t] = await withLocalLabels(
        c,
        k,
        async (local, chunkHost) =>
          (await evaluate<T>(ops, chunkHost, () => ({ outputs: [targetCosines(s, c.x, c.centers[k]!, local)] }), [], [b], false)).outputs,
      );
      for (const [i, v] of t!.entries()) sum[i]! += v;
    }
    given = host.input(sum, b);
  }
  const slopes = s.classLocal && gradients;
  let stats = emptyChunkStatistics(layout.batch, slopes);
  for (let k = 0; k < c.centers.length; k++) {
    const out = await withLocalLabels(c, k, (local, chunkHost) =>
      evaluate<T>(ops, chunkHost, (ct) => chunkStatisticsOf(s, c.x, c.centers[k]!, local, ct ?? given), given === undefined ? [] : [given], [b, b, b], slopes),
    );
    const [max, sumExp, cosTarget] = out.outputs as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < max.length; i++) if (sumExp[i] === 0) max[i] = Number.NEGATIVE_INFINITY;
    const slope = slopes ? Float64Array.from(out.gradients[0]!, (d, i) => d * sumExp[i]!) : undefined;
    stats = mergeChunkStatistics(stats, { max, sumExp, cosTarget, ...(slope === undefined ? {} : { slope }) });
  }
  return { stats, cosTarget: given ?? host.input(stats.cosTarget, b) };
}

/** The row pass: z_y, the auxiliary loss and the next state, from the merged target cosines. */
async function rows<T>(c: Call<T>, cosTarget: T): Promise<{ targetLogit: Float64Array; aux?: Float64Array; state: Record<string, Float32Array> }> {
  const { s, layout } = c;
  const { ops, margin } = s.r;
  const specs = Object.entries(margin.state ?? {});
  let hasAux = false;
  const out = await evaluate<T>(
    ops,
    c.host,
    () => {
      const r = rowTerms(s, cosTarget, embeddingNorms(s, c.x));
      if (r.wide && !s.classLocal) throw notChunkable(margin);
      hasAux = r.auxiliaryLoss !== undefined;
      return { outputs: [r.targetLogit, r.auxiliaryLoss ?? ops.constant(0, [layout.batch]), ...specs.map(([key]) => r.state[key]!)] };
    },
    [],
    [[layout.batch], [layout.batch], ...specs.map(([, spec]) => spec.shape)],
    false,
  );
  const state = Object.fromEntries(specs.map(([key], i) => [key, Float32Array.from(out.outputs[2 + i]!)]));
  return { targetLogit: out.outputs[0]!, ...(hasAux ? { aux: out.outputs[1]! } : {}), state };
}

function notChunkable(margin: Margin): InvalidArgumentError {
  return new InvalidArgumentError(
    'chunkedMarginSoftmaxStep.margin',
    `margin '${margin.type}' cannot run over class chunks: its transform uses the cosines or the one-hot of the row, or returns logits or a scale, ` +
      'and does not declare classLocal. A margin whose row statistics span every class (AdaCos: its scale needs Σ_j exp(s·c_j) over all classes) ' +
      'has no exact chunked form; one whose logit for class j depends only on c_j and row-level values can set classLocal: true',
  );
}

/** Pass 2: each chunk's surrogate gradient; the centre gradients go to `emit`, the embedding gradient is summed. */
async function backward<T>(
  c: Call<T>,
  cosTarget: T,
  merged: ChunkStatistics,
  soft: SoftmaxRows,
  weight: Float64Array,
  emit: NonNullable<ChunkedStepCallOptions<T>['onCentersGradient']>,
): Promise<Float32Array> {
  const { s, host, layout } = c;
  const { backend } = s.r.ops;
  const b = [layout.batch];
  const f32 = (f: (i: number) => number) =>
    host.input(
      Float64Array.from({ length: layout.batch }, (_, i) => f(i)),
      b,
    );
  const coefficients = {
    cosTarget,
    logSumExp: f32((i) => soft.logSumExp[i]!),
    weight: f32((i) => weight[i]!),
    target: f32((i) => -weight[i]! * soft.notTarget[i]!),
    ...(merged.slope === undefined
      ? {}
      : { slope: f32((i) => (merged.sumExp[i]! === 0 ? 0 : (weight[i]! * soft.notTarget[i]! * merged.slope![i]!) / merged.sumExp[i]!)) }),
  };
  const gx = new Float64Array(layout.batch * layout.dim);
  for (let k = 0; k < c.centers.length; k++) {
    const { gradients } = await withLocalLabels(c, k, (local) =>
      backend.valueAndGradients!((x, w) => surrogate(s, x!, w!, local, coefficients), [c.x, c.centers[k]!]),
    );
    for (const [i, v] of gradients[0]!.entries()) gx[i]! += v;
    await emit(k, gradients[1]!);
  }
  return Float32Array.from(gx);
}

/**
 * The margin softmax loss over class chunks: the same loss, per-sample losses, next state and
 * gradients as {@link marginSoftmaxStep} (to float32 rounding), while no tensor larger than one
 * chunk's [B, Cc] logits exists at any time: peak memory is the centres, their optimizer state and
 * one chunk's work. The centres come as chunks of `classChunk` classes ([Cc·K, D] each, the last
 * possibly smaller), in the order of the classes; labels are global class indices.
 *
 * The algorithm. Pass 1 computes per chunk and row the statistics of the non-target scaled logits,
 * M = max and E = Σ exp(z − M), and the target cosine where the chunk holds the label
 * ({@link ChunkStatistics}); they merge exactly ({@link mergeChunkStatistics}). The margin then
 * gives the target logit z_y from the merged target cosines (so margins with batch statistics,
 * ElasticFace+, AdaFace, see the true ones), and {@link softmaxRows} the loss softplus(M + ln E − z_y),
 * in float64. Pass 2 recomputes each chunk and takes, with the backend's `valueAndGradients`, the
 * gradient of Σ sg(w·p_j)·z_j over its non-target classes plus w·(p_y − 1)·z_y (and the auxiliary
 * loss) for the rows whose label it holds: exactly that chunk's share of the gradient. Margins with
 * whole-row logits must be `classLocal` (CurricularFace, AdaFace): their chunks see the true target
 * cosine (gathered by a pass 0), and the slope of each chunk's non-target log-sum-exp with respect
 * to it merges like E, so the gradient through c_y is exact too. A margin whose transform needs every
 * class at once (AdaCos) gets an `InvalidArgumentError` saying so.
 *
 * On every backend: values need `valueAndGradients` or `readSync`, gradients `valueAndGradients`.
 * On ONNX Runtime every per-call value is a fed input, so each pass compiles once per chunk size
 * (at most two sizes: `classChunk` and the last chunk's); give the chunk tensors no names (or equal ones).
 *
 * @param backend - a marginkit backend.
 * @param options - as {@link marginSoftmaxStep} (margin, scale, subCenters, ignoreIndex, ...) plus `classChunk`.
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
  const { r, o } = resolveMargin(owner, backend, options, ['reduction', 'classChunk']);
  const classChunk = checkNumber(`${owner}.classChunk`, o['classChunk'], { min: 1, integer: true });
  const reduction = readChoice(`${owner}.reduction`, o['reduction'], 'mean', ['mean', 'sum']);
  const step = async (embeddings: T, centers: readonly T[], labels: Labels<T>, callOptions: ChunkedStepCallOptions<T> = {}): Promise<ChunkedStepResult> => {
    const o = readOptions('options', callOptions, ['state', 'inputs', 'training', 'onCentersGradient']);
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
      const c: Call<T> = { s, host, layout, labels: values, x: embeddings, centers };

      const { stats, cosTarget } = await statistics(c, onCentersGradient !== undefined);
      const row = await rows(c, cosTarget);
      const soft = softmaxRows(stats, row.targetLogit);
      const counted = values.reduce((n, y) => n + (y >= 0 ? 1 : 0), 0);
      const weight = Float64Array.from(values, (y) => (y < 0 ? 0 : reduction === 'sum' ? 1 : 1 / Math.max(counted, 1)));
      const perSample = Float64Array.from(soft.loss, (l, i) => (values[i]! < 0 ? 0 : l + (row.aux?.[i] ?? 0)));
      const reduce = (v: ArrayLike<number>) => Array.from(v).reduce((sum, x, i) => sum + weight[i]! * x, 0);
      const result = { loss: reduce(perSample), perSample, ...(row.aux ? { auxiliaryLoss: reduce(row.aux) } : {}), state: row.state };
      if (onCentersGradient === undefined) return result;
      return { ...result, embeddingsGradient: await backward(c, cosTarget, stats, soft, weight, onCentersGradient) };
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
