/**
 * The passes of the class-chunked loss over the chunks of one call: gathering target cosines
 * (pass 0), merging statistics (pass 1), the margin's row terms, and the surrogate gradients
 * (pass 2). {@link chunkedMarginSoftmaxStep} runs them all in one call; a {@link ClassShard} runs
 * them on its own class range, with the merge and the row terms in between done across shards.
 *
 * @packageDocumentation
 */
import { type ChunkSetup, type SurrogateCoefficients, chunkStatisticsOf, embeddingNorms, rowTerms, surrogate, targetCosines } from './chunk-graphs.js';
import type { ChunkLayout } from './chunk-inputs.js';
import {
  type LeanChunkInputs,
  type LeanLabels,
  completeLeanGradient,
  gatherTargetRows,
  leanEligible,
  leanLabels,
  leanShift,
  leanStatisticsOf,
  leanSurrogate,
  scaledReciprocals,
} from './chunk-lean.js';
import { type ChunkNorms, addNormTerm, normCoefficients } from './chunk-norms.js';
import { type HostInputs, evaluate, hostInputs } from './chunk-run.js';
import { type ChunkStatistics, type SoftmaxRows, emptyChunkStatistics, mergeChunkStatistics, softmaxRows } from './chunk-statistics.js';
import { InternalError, InvalidArgumentError, ShapeError } from './errors.js';
import type { Margin } from './margin-types.js';

/** One call's checked arguments: `layout.starts` are global class indices. @internal */
export interface Call<T> {
  readonly owner: string;
  readonly s: ChunkSetup<T>;
  readonly host: HostInputs<T>;
  readonly layout: ChunkLayout;
  readonly labels: Int32Array;
  readonly x: T;
  readonly centers: readonly T[];
  /** The centres' norms taken on the host, per chunk, when given or the backend allows it (chunk-norms.ts). */
  readonly norms?: readonly ChunkNorms[] | undefined;
  /** Hand the norm's term to the gradient callback (`normTerm: 'defer'`) instead of adding it here. */
  readonly deferNormTerm?: boolean;
  /** Where the lean pass 1 keeps each chunk's product x̂·Wᵀ for pass 2; absent: pass 2 forms it again. */
  readonly kept?: KeptProducts;
}

/**
 * Each chunk's product x̂·Wᵀ [B, Cc] from the lean pass 1 (chunk-lean.ts), for pass 2 on the same
 * embeddings and centres, which then skips forming it again; pass 2 drops each entry when done.
 * @internal
 */
export interface KeptProducts {
  /** The embeddings and centre chunks the products are of (compared by identity). */
  source?: { readonly x: unknown; readonly centers: readonly unknown[] } | undefined;
  /** Chunk k's product, row-major [B, Cc]; undefined where not kept (or already used). */
  readonly products: (Float32Array | undefined)[];
}

/** Empties `kept`. @internal */
export function dropKept(kept: KeptProducts): void {
  kept.products.length = 0;
  kept.source = undefined;
}

/** Whether `kept` holds the products of these embeddings and centres (the same tensors). @internal */
export function keptFor(kept: KeptProducts, x: unknown, centers: readonly unknown[]): boolean {
  const s = kept.source;
  return s !== undefined && s.x === x && s.centers.length === centers.length && s.centers.every((w, k) => w === centers[k]);
}

/** Receives chunk k's centre gradient; with deferred norm terms, also c: the full gradient is g_j − c_j·w_j. @internal */
export type GradientSink = (chunk: number, gradient: Float32Array, normCoefficients?: Float64Array) => void | Promise<void>;

/** Chunk k's reciprocal norms as a fed [1, Cc·K] input of `host`, or undefined (the graph takes the norms). */
function normsInput<T>(c: Call<T>, k: number, host: HostInputs<T>): T | undefined {
  const n = c.norms?.[k];
  return n === undefined ? undefined : host.input(n.reciprocal, [1, n.reciprocal.length]);
}

/** Chunk k's fed inputs of a lean graph (chunk-lean.ts), made on `host`. */
function leanInputs<T>(c: Call<T>, k: number, host: HostInputs<T>): { t: LeanChunkInputs<T>; labels: LeanLabels } {
  const norms = c.norms![k]!;
  const b = [c.layout.batch];
  const labels = leanLabels(c.labels, c.layout.starts[k]!, norms.reciprocal.length, norms);
  const t: LeanChunkInputs<T> = {
    scaled: host.input(scaledReciprocals(c.s.r.scale, norms), [1, norms.reciprocal.length]),
    column: host.input(labels.column, b),
    inChunk: host.input(labels.inChunk, b),
    rhoTarget: host.input(labels.rhoTarget, b),
  };
  return { t, labels };
}

/**
 * The per-row coefficients of the backward pass, [B] float64 each: what every shard needs, besides
 * its own centres, the embeddings and the labels, to compute its share of the gradients. They come
 * from the statistics merged over all classes and the margin's row terms
 * ({@link ClassShard.rows}).
 */
export interface ShardCoefficients {
  /** c_y, the merged target cosines. */
  readonly cosTarget: Float64Array;
  /** lse_b, the log-sum-exp over all classes: p_bj = e^{z_bj − lse_b}. */
  readonly logSumExp: Float64Array;
  /** w_b: 1/n (mean over n counted rows) or 1 (sum) for counted rows, 0 for ignored ones. */
  readonly weight: Float64Array;
  /** w_b·(p_y − 1), the weight of z_y in the row's gradient. */
  readonly target: Float64Array;
  /** w_b·(1 − p_y)·∂lse′/∂c_y for class-local margins (the merged slope over E); absent otherwise. */
  readonly slope?: Float64Array;
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

/** Pass 0: the target cosine of each row where one of the call's chunks holds its label, else 0. @internal */
export async function gatherTargetCosines<T>(c: Call<T>): Promise<Float64Array> {
  const b = [c.layout.batch];
  const sum = new Float64Array(c.layout.batch);
  for (let k = 0; k < c.centers.length; k++) {
    const [t] = await withLocalLabels(
      c,
      k,
      async (local, chunkHost) =>
        (
          await evaluate<T>(
            c.s.r.ops,
            chunkHost,
            () => ({ outputs: [targetCosines(c.s, c.x, c.centers[k]!, local, normsInput(c, k, chunkHost))] }),
            [],
            [b],
            false,
          )
        ).outputs,
    );
    for (const [i, v] of t!.entries()) sum[i]! += v;
  }
  return sum;
}

/**
 * Pass 1: the statistics of the call's chunks, merged. `given` (class-local margins) are the true
 * target cosines, fed to the chunks' logits; `slopes` asks for the slopes (gradients of a class-local margin).
 * @internal
 */
export async function statisticsOver<T>(c: Call<T>, given: T | undefined, slopes: boolean): Promise<ChunkStatistics> {
  const b = [c.layout.batch];
  let stats = emptyChunkStatistics(c.layout.batch, slopes);
  // Only the lean pass keeps products: anything kept before is dropped either way.
  if (c.kept !== undefined) dropKept(c.kept);
  if (given === undefined && !slopes && leanEligible(c.s.r.margin, c.s.r.subCenters, c.norms, false)) return leanStatisticsOver(c);
  for (let k = 0; k < c.centers.length; k++) {
    const out = await withLocalLabels(c, k, (local, chunkHost) =>
      evaluate<T>(
        c.s.r.ops,
        chunkHost,
        (ct) => chunkStatisticsOf(c.s, c.x, c.centers[k]!, local, ct ?? given, normsInput(c, k, chunkHost)),
        given === undefined ? [] : [given],
        [b, b, b],
        slopes,
      ),
    );
    const [max, sumExp, cosTarget] = out.outputs as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < max.length; i++) if (sumExp[i] === 0) max[i] = Number.NEGATIVE_INFINITY;
    const slope = slopes ? Float64Array.from(out.gradients[0]!, (d, i) => d * sumExp[i]!) : undefined;
    stats = mergeChunkStatistics(stats, { max, sumExp, cosTarget, ...(slope === undefined ? {} : { slope }) });
  }
  return stats;
}

/** Pass 1 on the lean graphs (chunk-lean.ts). */
async function leanStatisticsOver<T>(c: Call<T>): Promise<ChunkStatistics> {
  const b = [c.layout.batch];
  // Products are kept only where pass 2 will take the lean graphs too (they need the chunks' host
  // values): elsewhere they would be read out of the backend for nothing. They are installed in
  // the cache together with their source once every chunk is done.
  const products: Float32Array[] | undefined = c.kept !== undefined && leanEligible(c.s.r.margin, c.s.r.subCenters, c.norms, true) ? [] : undefined;
  const keep = products !== undefined;
  let stats = emptyChunkStatistics(c.layout.batch, false);
  for (let k = 0; k < c.centers.length; k++) {
    const chunkHost = hostInputs(c.s.r.ops);
    try {
      const { t } = leanInputs(c, k, chunkHost);
      const shapes = keep ? [b, b, b, [c.layout.batch, c.norms![k]!.reciprocal.length]] : [b, b, b];
      const out = await evaluate<T>(
        c.s.r.ops,
        chunkHost,
        () => ({ outputs: leanStatisticsOf(c.s, c.x, c.centers[k]!, t, keep) }),
        [],
        shapes,
        false,
        keep ? 1 : 0,
      );
      products?.push(out.raw[0]!);
      const [max, sumExp, cosTarget] = out.outputs as [Float64Array, Float64Array, Float64Array];
      // Σexp ≥ 1 here (the max contributes e⁰). A chunk whose only class is the row's label gives
      // max = −1e38 (the masked target) and Σexp = 1: merged with any real logit, or with the target
      // logit in softmaxRows, it weighs e^−1e38 = 0.
      stats = mergeChunkStatistics(stats, { max, sumExp, cosTarget });
    } finally {
      chunkHost.release();
    }
  }
  if (products !== undefined) {
    c.kept!.products.push(...products);
    c.kept!.source = { x: c.x, centers: [...c.centers] };
  }
  return stats;
}

/** The margin's row terms read into JavaScript. @internal */
export interface RowPass {
  readonly targetLogit: Float64Array;
  readonly aux?: Float64Array;
  readonly state: Record<string, Float32Array>;
}

/** The row pass: z_y, the auxiliary loss and the next state, from the merged target cosines. @internal */
export async function rowPass<T>(c: Call<T>, cosTarget: T): Promise<RowPass> {
  const { s, layout } = c;
  const { ops, margin } = s.r;
  const specs = Object.entries(margin.state ?? {});
  let hasAux = false;
  const out = await evaluate<T>(
    ops,
    c.host,
    () => {
      const r = rowTerms(s, cosTarget, embeddingNorms(s, c.x));
      if (r.wide && !s.classLocal) throw notChunkable(c.owner, margin);
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

/** The typed error for a margin without a chunked form. @internal */
export function notChunkable(owner: string, margin: Margin): InvalidArgumentError {
  return new InvalidArgumentError(
    `${owner}.margin`,
    `margin '${margin.type}' cannot run over class chunks: its transform uses the cosines or the one-hot of the row, or returns logits or a scale, ` +
      'and does not declare classLocal. A margin whose row statistics span every class (AdaCos: its scale needs Σ_j exp(s·c_j) over all classes) ' +
      'has no exact chunked form; one whose logit for class j depends only on c_j and row-level values can set classLocal: true',
  );
}

/** The loss of the rows and the backward coefficients, from the merged statistics and the row terms. @internal */
export interface RowLosses {
  readonly loss: number;
  readonly perSample: Float64Array;
  readonly auxiliaryLoss?: number;
  readonly coefficients: ShardCoefficients;
}

/** Row weights, losses and coefficients (float64 host algebra, no tensors); `cosTarget` as fed to the row pass. @internal */
export function rowLosses(labels: Int32Array, reduction: 'mean' | 'sum', merged: ChunkStatistics, row: RowPass, cosTarget: Float64Array): RowLosses {
  const soft: SoftmaxRows = softmaxRows(merged, row.targetLogit);
  const counted = labels.reduce((n, y) => n + (y >= 0 ? 1 : 0), 0);
  const weight = Float64Array.from(labels, (y) => (y < 0 ? 0 : reduction === 'sum' ? 1 : 1 / Math.max(counted, 1)));
  const perSample = Float64Array.from(soft.loss, (l, i) => (labels[i]! < 0 ? 0 : l + (row.aux?.[i] ?? 0)));
  const reduce = (v: ArrayLike<number>) => Array.from(v).reduce((sum, x, i) => sum + weight[i]! * x, 0);
  const { slope, sumExp } = merged;
  const coefficients: ShardCoefficients = {
    cosTarget: Float64Array.from(cosTarget),
    logSumExp: soft.logSumExp,
    weight,
    target: Float64Array.from(weight, (w, i) => -w * soft.notTarget[i]!),
    ...(slope === undefined ? {} : { slope: Float64Array.from(weight, (w, i) => (sumExp[i]! === 0 ? 0 : (w * soft.notTarget[i]! * slope[i]!) / sumExp[i]!)) }),
  };
  return { loss: reduce(perSample), perSample, ...(row.aux ? { auxiliaryLoss: reduce(row.aux) } : {}), coefficients };
}

/** Checks coefficients received from elsewhere: [B] float64 arrays. @internal */
export function checkCoefficients(argument: string, value: unknown, batch: number): ShardCoefficients {
  if (typeof value !== 'object' || value === null)
    throw new InvalidArgumentError(argument, 'expected { cosTarget, logSumExp, weight, target, slope? } ([B] Float64Arrays)');
  const k = value as Record<string, unknown>;
  for (const key of ['cosTarget', 'logSumExp', 'weight', 'target', 'slope']) {
    const v = k[key];
    if (v === undefined && key === 'slope') continue;
    if (!(v instanceof Float64Array)) throw new InvalidArgumentError(`${argument}.${key}`, 'expected a Float64Array');
    if (v.length !== batch) throw new ShapeError(`${argument}.${key}`, `has ${v.length} rows, expected ${batch} (as the embeddings)`);
  }
  return value as ShardCoefficients;
}

/** Pass 2: each chunk's surrogate gradient; the centre gradients go to `emit`, the embedding gradient is summed. @internal */
export async function backwardPass<T>(c: Call<T>, k: ShardCoefficients, emit: GradientSink): Promise<Float32Array> {
  try {
    return await backwardChunks(c, k, emit);
  } finally {
    // Each kept product is used once (or not at all, off the lean graphs).
    if (c.kept !== undefined) dropKept(c.kept);
  }
}

/** Pass 2 over the call's chunks (see {@link backwardPass}). */
async function backwardChunks<T>(c: Call<T>, k: ShardCoefficients, emit: GradientSink): Promise<Float32Array> {
  const { s, host, layout } = c;
  const { backend } = s.r.ops;
  const b = [layout.batch];
  const coefficients = {
    cosTarget: host.input(k.cosTarget, b),
    logSumExp: host.input(k.logSumExp, b),
    weight: host.input(k.weight, b),
    target: host.input(k.target, b),
    ...(k.slope === undefined ? {} : { slope: host.input(k.slope, b) }),
  };
  const gx = new Float64Array(layout.batch * layout.dim);
  if (leanEligible(s.r.margin, s.r.subCenters, c.norms, true)) {
    const shift = host.input(leanShift(k.logSumExp, k.weight), [layout.batch, 1]);
    for (let j = 0; j < c.centers.length; j++) await leanBackwardChunk(c, j, shift, coefficients, gx, emit);
    return Float32Array.from(gx);
  }
  for (let j = 0; j < c.centers.length; j++) {
    const norms = c.norms?.[j];
    const { gradients } = await withLocalLabels(c, j, (local, chunkHost) => {
      if (norms === undefined) return backend.valueAndGradients!((x, w) => surrogate(s, x!, w!, local, coefficients), [c.x, c.centers[j]!]);
      // Host norms: ρ is a constant of the graph and u a zero probe beside it, whose gradient gives the norm's term.
      const rho = chunkHost.input(norms.reciprocal, [1, norms.reciprocal.length]);
      const probe = chunkHost.input(new Float32Array(norms.reciprocal.length), [1, norms.reciprocal.length]);
      return backend.valueAndGradients!((x, w, u) => surrogate(s, x!, w!, local, coefficients, s.r.ops.add(rho, u!)), [c.x, c.centers[j]!, probe]);
    });
    const gxj = gradients[0]!;
    for (let i = 0; i < gxj.length; i++) gx[i]! += gxj[i]!;
    if (norms === undefined) await emit(j, gradients[1]!);
    else {
      const coefficients = normCoefficients(gradients[2]!, norms);
      if (c.deferNormTerm) await emit(j, gradients[1]!, coefficients);
      else await emit(j, addNormTerm(gradients[1]!, coefficients, norms.values!, layout.dim));
    }
  }
  return Float32Array.from(gx);
}

/** Chunk j's lean backward pass (chunk-lean.ts): its embedding gradient is added to `gx`, its centre gradient emitted. */
async function leanBackwardChunk<T>(c: Call<T>, j: number, shift: T, k: SurrogateCoefficients<T>, gx: Float64Array, emit: GradientSink): Promise<void> {
  const { s, layout } = c;
  const { ops } = s.r;
  const norms = c.norms![j]!;
  const values = norms.values as Float32Array;
  const chunkHost = hostInputs(ops);
  try {
    const { t, labels } = leanInputs(c, j, chunkHost);
    const targetRows = chunkHost.input(gatherTargetRows(values, labels, layout.dim), [layout.batch, layout.dim]);
    const probeInput = chunkHost.input(new Float32Array(norms.reciprocal.length), [norms.reciprocal.length]);
    const product = c.kept !== undefined && keptFor(c.kept, c.x, c.centers) ? c.kept.products[j] : undefined;
    const width = norms.reciprocal.length;
    if (product !== undefined && product.length !== layout.batch * width) {
      throw new InternalError(`chunk ${j}: a kept product of ${product.length} values, expected ${layout.batch}·${width}`);
    }
    const kept = product === undefined ? undefined : chunkHost.shared(product, [layout.batch, width]);
    const { gradients } = await ops.backend.valueAndGradients!(
      (x, w, wy, u) => {
        const { objective, probe } = leanSurrogate(s, x!, w!, wy!, t, shift, k, kept);
        return ops.add(objective, ops.sum(ops.mul(u!, probe), 0));
      },
      [c.x, c.centers[j]!, targetRows, probeInput],
    );
    const [gxj, g, gy, probe] = gradients as [Float32Array, Float32Array, Float32Array, Float32Array];
    for (let i = 0; i < gxj.length; i++) gx[i]! += gxj[i]!;
    const u = completeLeanGradient(g, gy, probe, labels, values, norms, layout.dim);
    const coefficients = normCoefficients(u, norms);
    if (c.deferNormTerm) await emit(j, g, coefficients);
    else await emit(j, addNormTerm(g, coefficients, values, layout.dim));
  } finally {
    chunkHost.release();
    if (c.kept !== undefined) c.kept.products[j] = undefined;
  }
}
