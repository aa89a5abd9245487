/**
 * {@link classShard}: the per-shard passes of the class-chunked loss, for shards that each own a
 * range of the classes (worker threads, processes, machines) and exchange only [B]-sized
 * statistics and coefficients and the [B, D] embedding gradient.
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import type { ChunkSetup } from './chunk-graphs.js';
import { resolveNorms } from './chunk-norms.js';
import { type ChunkLayout, type ChunkValue, checkChunks, chunkSetup, readLabels } from './chunk-inputs.js';
import {
  type Call,
  type KeptProducts,
  type ShardCoefficients,
  backwardPass,
  checkCoefficients,
  dropKept,
  gatherTargetCosines,
  keptFor,
  rowLosses,
  rowPass,
  statisticsOver,
} from './chunk-passes.js';
import { type HostInputs, hostInputs } from './chunk-run.js';
import type { ChunkStatistics } from './chunk-statistics.js';
import { InvalidArgumentError, InvalidBackendError, ShapeError } from './errors.js';
import { checkMatrixShape, checkNumber } from './input-checks.js';
import { checkFiniteValues, checkFloatTensor } from './loss-inputs.js';
import { type MarginResolved, resolveMargin } from './loss-options.js';
import type { ChunkedMarginStepOptions, ChunkedStepCallOptions } from './chunked-loss.js';
import type { Labels } from './loss-types.js';
import { readChoice, readOptions } from './margin-options.js';
import type { Margin } from './margin-types.js';

export type { ShardCoefficients } from './chunk-passes.js';

/**
 * Holds a shard's cosines x̂·w_j from {@link ClassShard.statistics} for its
 * {@link ClassShard.backward} on the same tensors, which then skips one of its three matmuls (see
 * {@link ChunkedMarginStepOptions.keepLogits}). Pass the same cache to both calls as
 * `options.logits`; the backward pass uses each chunk's entry once and empties the cache. It holds
 * B·Cs float32 values between the two calls (Cs: the shard's classes), and is kept only on the
 * lean graphs (a margin that is not class-local, one centre per class, a fixed scale, the
 * centres' norms and values on the host, as ONNX Runtime's chunks are); elsewhere nothing is kept
 * and the backward pass forms the product again. Write nothing into the embeddings or centres in
 * between: the cache knows the tensors, not their values. Give each shard (and each concurrent
 * pass) a cache of its own. A backward pass given other tensors than the statistics pass throws an
 * `InvalidArgumentError` and drops what the cache held.
 *
 * @example
 * ```ts
 * import { LogitsCache, arcface, classShard } from '@marginkit/core';
 * import { ortBackend } from '@marginkit/backend-ort';
 * import * as ort from 'onnxruntime-node';
 * const backend = ortBackend(ort);
 * const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + 1.7 * i));
 * const x = backend.tensor(values(4 * 8, 1), [4, 8]);
 * const centers = [backend.tensor(values(6 * 8, 2), [6, 8]), backend.tensor(values(4 * 8, 3), [4, 8])];
 * const shard = classShard(backend, { margin: arcface(), scale: 16, classChunk: 6, classes: 10, offset: 0 });
 * const labels = [0, 5, 9, 3];
 * const logits = new LogitsCache();
 * const stats = await shard.statistics(x, centers, labels, { logits });
 * console.log(logits.bytes); // 160
 * const rows = await shard.rows(x, labels, stats);
 * const gx = await shard.backward(x, centers, labels, rows.coefficients, { logits });
 * console.log(logits.bytes, gx.length); // 0 32
 * await backend.dispose();
 * ```
 */
export class LogitsCache {
  readonly #kept: KeptProducts = { source: undefined, products: [] };

  /** The bytes held now. */
  get bytes(): number {
    return this.#kept.products.reduce((n, p) => n + (p?.byteLength ?? 0), 0);
  }

  /** Drops what is held. */
  clear(): void {
    dropKept(this.#kept);
  }

  /** The store the passes fill and read. @internal */
  static slot(cache: LogitsCache): KeptProducts {
    return cache.#kept;
  }
}

/** Reads `options.logits`: a {@link LogitsCache} or nothing. */
function readLogits(value: unknown): KeptProducts | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof LogitsCache)) throw new InvalidArgumentError('options.logits', 'expected a LogitsCache (new LogitsCache())');
  return LogitsCache.slot(value);
}

/** Options of {@link classShard}. */
export interface ClassShardOptions extends Omit<ChunkedMarginStepOptions, 'keepLogits'> {
  /** C, the number of classes over all shards (labels are global indices in [0, C)). */
  readonly classes: number;
  /** The first class this shard owns; it owns [offset, offset + its centres' classes). */
  readonly offset: number;
}

/** Per-call options of a {@link ClassShard}'s passes: the same on every shard within a step. */
export interface ShardCallOptions<T> {
  /** The margin's state at the start of the step; missing entries start from their initial values. */
  readonly state?: Readonly<Record<string, ChunkValue<T>>>;
  /** The margin's per-step inputs, [B] each (drawn once per step, sent to every shard). */
  readonly inputs?: Readonly<Record<string, ChunkValue<T>>>;
  /** A training step; default true. */
  readonly training?: boolean;
  /** The L2 norms of the shard's centre rows, one Float64Array per chunk, as {@link ChunkedStepCallOptions.centerNorms}. */
  readonly centerNorms?: readonly Float64Array[];
}

/** Options of {@link ClassShard.statistics}. */
export interface ShardStatisticsOptions<T> extends ShardCallOptions<T> {
  /** The target cosines summed over every shard's {@link ClassShard.targetCosines}: required for class-local margins. */
  readonly cosTarget?: Float64Array;
  /** Compute the slopes (class-local margins, when gradients will be taken); default false. */
  readonly slopes?: boolean;
  /** Keep the cosines for the backward pass on the same tensors (see {@link LogitsCache}); {@link ClassShard.rows} checks it and leaves it alone. */
  readonly logits?: LogitsCache;
}

/** What {@link ClassShard.rows} gives: the step's losses, next state and the backward coefficients. */
export interface ShardRows {
  /** The reduced loss (cross-entropy plus any auxiliary loss). */
  readonly loss: number;
  /** Per-sample losses [B] (zero for ignored rows). */
  readonly perSample: Float64Array;
  /** The auxiliary loss alone, reduced like `loss`, when the margin has one. */
  readonly auxiliaryLoss?: number;
  /** The margin's next state, row-major values per entry. */
  readonly state: Readonly<Record<string, Float32Array>>;
  /** What every shard's {@link ClassShard.backward} needs. */
  readonly coefficients: ShardCoefficients;
}

/** The passes of one shard; see {@link classShard}. */
export interface ClassShard<T> {
  /** The margin. */
  readonly margin: Margin;
  /** Whether the margin is class-local: then the steps start with {@link ClassShard.targetCosines}. */
  readonly classLocal: boolean;
  /** C over all shards. */
  readonly classes: number;
  /** The shard's first class. */
  readonly offset: number;
  /** Pass 0 (class-local margins only): c_y where this shard holds the label, else 0, [B]; sum them over shards. */
  targetCosines(embeddings: T, centers: readonly T[], labels: Labels<T>, options?: ShardCallOptions<T>): Promise<Float64Array>;
  /** Pass 1: the shard's {@link ChunkStatistics}; merge every shard's with {@link mergeChunkStatistics}. */
  statistics(embeddings: T, centers: readonly T[], labels: Labels<T>, options?: ShardStatisticsOptions<T>): Promise<ChunkStatistics>;
  /** The row pass, on merged statistics (any one place: it needs no centres): losses, next state, coefficients. */
  rows(embeddings: T, labels: Labels<T>, merged: ChunkStatistics, options?: ShardStatisticsOptions<T>): Promise<ShardRows>;
  /**
   * Pass 2: the shard's share of d loss / d embeddings [B, D] (sum the shares over shards); its
   * centre gradient goes chunk by chunk to `onCentersGradient` (awaited in order), as in {@link chunkedMarginSoftmaxStep}.
   */
  backward(
    embeddings: T,
    centers: readonly T[],
    labels: Labels<T>,
    coefficients: ShardCoefficients,
    options?: ShardCallOptions<T> & {
      readonly onCentersGradient?: (chunk: number, gradient: Float32Array, normCoefficients?: Float64Array) => void | Promise<void>;
      /** As {@link ChunkedStepCallOptions.normTerm}. */
      readonly normTerm?: 'apply' | 'defer';
      /** The cache the statistics pass on the same tensors filled (see {@link LogitsCache}); emptied here. */
      readonly logits?: LogitsCache;
    },
  ): Promise<Float32Array>;
}

interface Resolved<T> {
  readonly owner: string;
  readonly r: MarginResolved<T>;
  readonly classChunk: number;
  readonly classes: number;
  readonly offset: number;
}

/** Checks the shard's chunks and shifts their starts to global classes. */
function shardLayout<T>(z: Resolved<T>, embeddings: T, centers: readonly T[]): ChunkLayout {
  const local = checkChunks(z.r, z.classChunk, embeddings, centers);
  if (z.offset + local.classes > z.classes) {
    throw new ShapeError('centers', `hold ${local.classes} classes from offset ${z.offset}, past the ${z.classes} classes of the shards`);
  }
  return { ...local, starts: local.starts.map((s) => s + z.offset), classes: z.classes };
}

/** The layout of a call with no centres (the row pass): embeddings [B, D] checked. */
function rowLayout<T>(z: Resolved<T>, embeddings: T): ChunkLayout {
  const [batch, dim] = checkMatrixShape('embeddings', checkFloatTensor(z.r, 'embeddings', embeddings, '[B, D]'), { what: '[B, D]' });
  checkFiniteValues(z.r, 'embeddings', embeddings, [batch, dim]);
  return { batch, dim, starts: [z.offset], classes: z.classes };
}

/** Runs `f` with a checked call whose inputs are released afterwards. */
async function withCall<T, R>(
  z: Resolved<T>,
  args: { x: T; centers: readonly T[] | undefined; labels: Labels<T>; options: unknown; extra: readonly string[] },
  f: (c: Call<T>, o: Readonly<Record<string, unknown>>) => Promise<R>,
): Promise<R> {
  const o = readOptions('options', args.options ?? {}, ['state', 'inputs', 'training', 'centerNorms', ...args.extra]);
  const normTerm = readChoice('options.normTerm', o['normTerm'], 'apply', ['apply', 'defer']);
  if (o['training'] !== undefined && typeof o['training'] !== 'boolean') {
    throw new InvalidArgumentError('options.training', `must be a boolean, got ${typeof o['training']}`);
  }
  const layout = args.centers === undefined ? rowLayout(z, args.x) : shardLayout(z, args.x, args.centers);
  const labels = await readLabels(z.r, args.labels, layout);
  const host: HostInputs<T> = hostInputs(z.r.ops);
  try {
    const training = (o['training'] as boolean | undefined) ?? true;
    const s: ChunkSetup<T> = chunkSetup(z.r, host, layout, labels, { state: o['state'], inputs: o['inputs'], training });
    const centers = args.centers ?? [];
    const rows = layout.starts.slice(1).map((end, k) => (end - layout.starts[k]!) * z.r.subCenters);
    // The values are read only where the norm's term is added here (the backward pass, 'apply').
    const apply = args.extra.includes('onCentersGradient') && normTerm === 'apply';
    const norms = await resolveNorms({ backend: z.r.ops.backend, centers, rows, dim: layout.dim, eps: z.r.normEpsilon, given: o['centerNorms'], apply });
    // Only calls whose `extra` lists 'logits' get past readOptions with one.
    const kept = readLogits(o['logits']);
    const call: Call<T> = {
      owner: z.owner,
      s,
      host,
      layout,
      labels,
      x: args.x,
      centers,
      norms,
      deferNormTerm: normTerm === 'defer',
      ...(kept ? { kept } : {}),
    };
    return await f(call, o);
  } finally {
    host.release();
  }
}

/** Reads an optional [B] Float64Array option. */
function rowValues(argument: string, value: unknown, batch: number): Float64Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Float64Array)) throw new InvalidArgumentError(argument, 'expected a Float64Array ([B] target cosines summed over the shards)');
  if (value.length !== batch) throw new ShapeError(argument, `has ${value.length} rows, expected ${batch} (as the embeddings)`);
  return value;
}

/** The target cosines a class-local margin's chunks need (required), or none. */
function givenCosines<T>(c: Call<T>, o: Readonly<Record<string, unknown>>): T | undefined {
  const values = rowValues('options.cosTarget', o['cosTarget'], c.layout.batch);
  if (!c.s.classLocal) return undefined;
  if (values === undefined) {
    throw new InvalidArgumentError(
      'options.cosTarget',
      `is required by the class-local margin '${c.s.r.margin.type}': the sum over shards of targetCosines(...)`,
    );
  }
  return c.host.input(values, [c.layout.batch]);
}

/**
 * The passes of the class-chunked loss for one shard of the classes: a shard owns the classes
 * [offset, offset + Cs) of C (its centres, in chunks of `classChunk` classes, as
 * {@link chunkedMarginSoftmaxStep} takes them) and receives the whole batch (embeddings [B, D],
 * global labels). A step over S shards, wherever they run:
 *
 * 1. class-local margins only: every shard's {@link ClassShard.targetCosines}, summed (elementwise) into c_y;
 * 2. every shard's {@link ClassShard.statistics} (given c_y), merged with {@link mergeChunkStatistics}
 *    in any order: 3–4 float64 values per row and shard;
 * 3. {@link ClassShard.rows} on the merged statistics, anywhere the embeddings are (it needs no
 *    centres: the margin's target logit, auxiliary loss and next state use c_y, ‖x‖, the state
 *    and the per-step inputs): the loss, the next state and the [B] coefficients;
 * 4. every shard's {@link ClassShard.backward} with those coefficients: its centre gradient, and its
 *    share of the embedding gradient, summed over shards.
 *
 * The result is {@link chunkedMarginSoftmaxStep}'s (which runs exactly these passes over one shard
 * holding every class): the same loss, state and gradients, up to the float64 rounding of the
 * merge order and the float32 rounding of summing the embedding-gradient shares.
 *
 * @param backend - a marginkit backend (gradients need `valueAndGradients`).
 * @param options - as {@link chunkedMarginSoftmaxStep}, plus `classes` (C over all shards) and `offset` (the shard's first class).
 * @returns the shard's passes.
 *
 * @example
 * ```ts
 * import { arcface, chunkedMarginSoftmaxStep, classShard, mergeChunkStatistics } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs';
 * const backend = tfjsBackend(tf);
 * const x = tf.randomNormal([4, 8], 0, 1, 'float32', 1);
 * const w = tf.randomNormal([10, 8], 0, 1, 'float32', 2);
 * const labels = [0, 5, 9, 3];
 * const options = { margin: arcface(), scale: 16, classChunk: 4 };
 * // Two shards: classes [0, 6) and [6, 10).
 * const [a, b] = tf.split(w, [6, 4]);
 * const shards = [0, 6].map((offset) => classShard(backend, { ...options, classes: 10, offset }));
 * const parts = [tf.split(a!, [4, 2]), [b!]];
 * const stats = await Promise.all(shards.map((s, i) => s.statistics(x, parts[i]!, labels)));
 * const rows = await shards[0]!.rows(x, labels, mergeChunkStatistics(stats[0]!, stats[1]!));
 * const shares = await Promise.all(shards.map((s, i) => s.backward(x, parts[i]!, labels, rows.coefficients)));
 * const whole = await chunkedMarginSoftmaxStep(backend, options)(x, tf.split(w, [4, 4, 2]), labels, { onCentersGradient: () => {} });
 * const gx = shares[0]!.map((v, i) => v + shares[1]![i]!);
 * console.log(Math.abs(rows.loss - whole.loss) < 1e-6, gx.every((v, i) => Math.abs(v - whole.embeddingsGradient![i]!) < 1e-6)); // true true
 * ```
 */
export function classShard<T>(backend: Backend<T>, options: ClassShardOptions): ClassShard<T> {
  const owner = 'classShard';
  const { r, o } = resolveMargin(owner, backend, options, ['reduction', 'classChunk', 'classes', 'offset']);
  const classChunk = checkNumber(`${owner}.classChunk`, o['classChunk'], { min: 1, integer: true });
  const classes = checkNumber(`${owner}.classes`, o['classes'], { min: 1, max: 2 ** 24, integer: true });
  const offset = checkNumber(`${owner}.offset`, o['offset'], { min: 0, max: classes - 1, integer: true });
  const reduction = readChoice(`${owner}.reduction`, o['reduction'], 'mean', ['mean', 'sum']);
  const z: Resolved<T> = { owner, r, classChunk, classes, offset };
  return {
    margin: r.margin,
    classLocal: r.margin.classLocal === true,
    classes,
    offset,
    targetCosines: (x, centers, labels, options) => withCall(z, { x, centers, labels, options, extra: [] }, (c) => gatherTargetCosines(c)),
    statistics: (x, centers, labels, options) =>
      withCall(z, { x, centers, labels, options, extra: ['cosTarget', 'slopes', 'logits'] }, (c, o) => {
        if (o['slopes'] !== undefined && typeof o['slopes'] !== 'boolean') throw new InvalidArgumentError('options.slopes', 'must be a boolean');
        return statisticsOver(c, givenCosines(c, o), c.s.classLocal && o['slopes'] === true);
      }),
    rows: (x, labels, merged, options) =>
      withCall(z, { x, centers: undefined, labels, options, extra: ['cosTarget', 'slopes', 'logits'] }, async (c, o) => {
        const stats = checkMerged(merged, c.layout.batch);
        const cosTarget = rowValues('options.cosTarget', o['cosTarget'], c.layout.batch) ?? stats.cosTarget;
        const row = await rowPass(c, c.host.input(cosTarget, [c.layout.batch]));
        const { coefficients, ...losses } = rowLosses(c.labels, reduction, stats, row, cosTarget);
        return { ...losses, state: row.state, coefficients };
      }),
    backward: (x, centers, labels, coefficients, options) =>
      withCall(z, { x, centers, labels, options, extra: ['onCentersGradient', 'normTerm', 'logits'] }, (c, o) => {
        const emit = o['onCentersGradient'] ?? (() => {});
        if (c.kept !== undefined && c.kept.source !== undefined && !keptFor(c.kept, x, centers)) {
          dropKept(c.kept);
          throw new InvalidArgumentError(
            'options.logits',
            'held the cosines of other embeddings or centres (now dropped): pass the tensors the statistics call had',
          );
        }
        if (typeof emit !== 'function') throw new InvalidArgumentError('options.onCentersGradient', 'must be a function (chunk, gradient) => void');
        const k = checkCoefficients('coefficients', coefficients, c.layout.batch);
        if (typeof backend.valueAndGradients !== 'function') {
          throw new InvalidBackendError('backend', `backend '${backend.name}' has no valueAndGradients(f, xs); the shard's backward pass needs it`);
        }
        return backwardPass(c, k, emit as (k: number, g: Float32Array, normCoefficients?: Float64Array) => void);
      }),
  };
}

/** Checks merged statistics: [B] float64 arrays. */
function checkMerged(value: unknown, batch: number): ChunkStatistics {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('merged', 'expected ChunkStatistics { max, sumExp, cosTarget, slope? }');
  const s = value as Record<string, unknown>;
  for (const key of ['max', 'sumExp', 'cosTarget', 'slope']) {
    if (s[key] === undefined && key === 'slope') continue;
    if (!(s[key] instanceof Float64Array)) throw new InvalidArgumentError(`merged.${key}`, 'expected a Float64Array');
    if (s[key].length !== batch) throw new ShapeError(`merged.${key}`, `has ${s[key].length} rows, expected ${batch} (as the embeddings)`);
  }
  return value as ChunkStatistics;
}

/**
 * The class ranges of S shards of C classes, as `splitCheckpoint` of `@marginkit/losses` and
 * insightface's model parallel split them: shard r holds ⌊C/S⌋ classes, plus one for r < C mod S, in order.
 *
 * @param classes - C.
 * @param shards - S, 1 ≤ S ≤ C.
 * @returns [start, end) per shard.
 *
 * @example
 * ```ts
 * import { classShardRanges } from '@marginkit/core';
 * console.log(classShardRanges(10, 3)); // [[0, 4], [4, 7], [7, 10]]
 * ```
 */
export function classShardRanges(classes: number, shards: number): [number, number][] {
  checkNumber('classes', classes, { min: 1, integer: true });
  checkNumber('shards', shards, { min: 1, max: classes, integer: true });
  const out: [number, number][] = [];
  let start = 0;
  for (let r = 0; r < shards; r++) {
    const n = Math.floor(classes / shards) + (r < classes % shards ? 1 : 0);
    out.push([start, start + n]);
    start += n;
  }
  return out;
}
