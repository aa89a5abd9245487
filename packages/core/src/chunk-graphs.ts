/**
 * The per-chunk computations of {@link chunkedMarginSoftmaxStep}, written with the op set: the
 * target cosines, the softmax statistics, the row terms (target logit, auxiliary loss, next state)
 * and the surrogate whose gradient is a chunk's share of the loss's gradient. Every per-call value
 * (labels, coefficients) comes in as a tensor, never as a constant, so a symbolic backend traces
 * the same graph for every chunk of one size and compiles it once.
 *
 * @packageDocumentation
 */
import { cosines } from './cosines.js';
import type { Ops } from './create-ops.js';
import { InvalidArgumentError } from './errors.js';
import type { MarginResolved } from './loss-options.js';
import type { MarginContext, MarginResult } from './margin-types.js';

/** Subtracted from the target column before the row max: far below any logit, and finite. @internal */
export const MASKED = 1e38;

/** What every chunk computation shares within one call. @internal */
export interface ChunkSetup<T> {
  /** The resolved loss options. */
  readonly r: MarginResolved<T>;
  /** The margin declares `classLocal`: its chunk contexts get the chunk's cosines. */
  readonly classLocal: boolean;
  /** C, over all chunks (and, for a shard, all shards). */
  readonly classes: number;
  /** Global labels as float32 [B] (a fed input; exact below 2²⁴ classes); ignored rows hold 0, as in the unchunked loss. */
  readonly labels: T;
  /** 1 for counted rows, 0 for ignored, [B]. */
  readonly valid: T;
  /** The margin's state tensors. */
  readonly state: Readonly<Record<string, T>>;
  /** The margin's per-step inputs. */
  readonly inputs: Readonly<Record<string, T>>;
  /** A training step. */
  readonly training: boolean;
}

/** A chunk's cosines [B, Cc], the embedding norms [B, 1], and where the labels fall in it. */
interface ChunkView<T> {
  readonly cos: T;
  readonly norm: T;
  /** 1 where the row's label lies in the chunk, [B]. */
  readonly inChunk: T;
  /** The label's column in the chunk (clamped; meaningful where `inChunk`), int32 [B]. */
  readonly column: T;
  /** The label's one-hot in the chunk, zero rows where it lies elsewhere, [B, Cc]. */
  readonly oneHot: T;
}

/**
 * @param local - label − (the chunk's first class), float32 [B].
 * @param norms - the centres' reciprocal norms [1, Cc·K] when taken on the host (chunk-norms.ts).
 */
function chunkView<T>(s: ChunkSetup<T>, x: T, w: T, local: T, norms: T | undefined): ChunkView<T> {
  const { ops } = s.r;
  const { cos, norm } = cosines(s.r, x, w, s.r.subCenters, norms);
  const width = ops.shape(cos)[1]!;
  const above = ops.cast(ops.greater(local, ops.scalar(-0.5)), 'float32');
  const below = ops.cast(ops.less(local, ops.scalar(width - 0.5)), 'float32');
  const inChunk = ops.mul(above, below);
  const column = ops.cast(ops.clip(local, 0, width - 1), 'int32');
  const oneHot = ops.mul(ops.oneHot(column, width), ops.reshape(inChunk, [-1, 1]));
  return { cos, norm, inChunk, column, oneHot };
}

/** The scale when the margin returns none: ‖x‖ [B, 1] for `featureScale: 'norm'`, else s. */
function defaultScale<T>(s: ChunkSetup<T>, norm: T): T {
  return s.r.margin.featureScale === 'norm' ? norm : s.r.ops.scalar(s.r.scale);
}

function context<T>(s: ChunkSetup<T>, ops: Ops<T>, parts: { cos: T; cosTarget: T; oneHot: T; norm: T }): MarginContext<T> {
  return {
    ops,
    epsilon: s.r.epsilon,
    cosines: parts.cos,
    cosTarget: parts.cosTarget,
    labels: ops.cast(s.labels, 'int32'),
    oneHot: parts.oneHot,
    valid: s.valid,
    norms: parts.norm,
    classes: s.classes,
    state: s.state,
    inputs: s.inputs,
    training: s.training,
  };
}

function checkResult<T>(s: ChunkSetup<T>, result: MarginResult<T>): MarginResult<T> {
  if (typeof result !== 'object' || result === null || (result.target === undefined && result.logits === undefined)) {
    throw new InvalidArgumentError(`${s.r.margin.type}.transform`, 'must return { target } or { logits } (tensors written with the ops)');
  }
  return result;
}

/**
 * The scaled logits z [B, Cc] of a chunk's classes (the target column included; callers mask it):
 * s·c_j, or for a class-local margin its logits and scale, given the (constant) target cosines.
 */
function chunkLogits<T>(s: ChunkSetup<T>, view: ChunkView<T>, cosTarget: T | undefined): T {
  const { ops } = s.r;
  if (!s.classLocal || cosTarget === undefined) return ops.mul(view.cos, defaultScale(s, view.norm));
  const result = checkResult(s, s.r.margin.transform(context(s, ops, { cos: view.cos, cosTarget, oneHot: view.oneHot, norm: view.norm })));
  return ops.mul(result.logits ?? view.cos, result.scale ?? defaultScale(s, view.norm));
}

/** What the margin gives a row: z_y = s·t [B], the auxiliary loss [B] and the next state. */
export interface RowTerms<T> {
  /** The scaled target logits [B]. */
  readonly targetLogit: T;
  /** The auxiliary loss [B], when the margin has one. */
  readonly auxiliaryLoss?: T;
  /** The next state, one tensor per entry of `margin.state`. */
  readonly state: Readonly<Record<string, T>>;
  /** Whether the transform used the cosines or the one-hot, or returned logits or a scale. */
  readonly wide: boolean;
}

/**
 * The margin applied to the target cosines alone: its context is a one-class row whose cosine is
 * c_y (cosines = c_y as [B, 1], one-hot all ones), which for a class-local margin gives exactly
 * the target column of its logits. The transform's use of that stand-in row is recorded (`wide`).
 * @internal
 */
export function rowTerms<T>(s: ChunkSetup<T>, cosTarget: T, norm: T): RowTerms<T> {
  const base = s.r.ops;
  const batch = base.shape(cosTarget)[0]!;
  const cos = base.reshape(cosTarget, [-1, 1]);
  const oneHot = base.constant(1, [batch < 0 ? 1 : batch, 1]);
  const watch = watchOps(base, [cos, oneHot]);
  const result = checkResult(s, s.r.margin.transform(context(s, watch.ops, { cos, cosTarget, oneHot, norm })));
  const t = result.target ?? base.reshape(result.logits!, [-1]);
  const scale = result.scale ?? defaultScale(s, norm);
  const targetLogit = base.mul(t, base.shape(scale).length === 2 ? base.reshape(scale, [-1]) : scale);
  const next: Record<string, T> = {};
  for (const key of Object.keys(s.r.margin.state ?? {})) next[key] = result.state?.[key] ?? s.state[key]!;
  return {
    targetLogit,
    ...(result.auxiliaryLoss === undefined ? {} : { auxiliaryLoss: result.auxiliaryLoss }),
    state: next,
    wide: watch.touched() || result.logits !== undefined || result.scale !== undefined,
  };
}

/** The op set, recording whether any op was given one of `watched`. */
function watchOps<T>(ops: Ops<T>, watched: readonly T[]): { readonly ops: Ops<T>; touched(): boolean } {
  let touched = false;
  const proxy = new Proxy(ops, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (args.some((a) => watched.some((w) => w === a))) touched = true;
        return Reflect.apply(value, target, args);
      };
    },
  });
  return { ops: proxy, touched: () => touched };
}

/** The embedding norms [B, 1] (as the cosines compute them), for the row pass. @internal */
export function embeddingNorms<T>(s: ChunkSetup<T>, x: T): T {
  const { ops } = s.r;
  return cosines(s.r, x, ops.constant(1, [1, ops.shape(x)[1]!]), 1).norm;
}

/** Pass 0: the target cosine where the chunk holds the label, else 0, [B]. @internal */
export function targetCosines<T>(s: ChunkSetup<T>, x: T, w: T, local: T, norms?: T): T {
  const { ops } = s.r;
  const view = chunkView(s, x, w, local, norms);
  return ops.sum(ops.mul(view.cos, view.oneHot), 1);
}

/**
 * Pass 1: a chunk's {@link ChunkStatistics} as tensors (max [B], Σexp [B], target cosine [B]), and,
 * given the target cosines, the chunk's non-target log-sum-exp summed over rows (`objective`),
 * whose gradient with respect to `cosTarget` gives the slopes.
 * @internal
 */
export function chunkStatisticsOf<T>(s: ChunkSetup<T>, x: T, w: T, local: T, cosTarget: T | undefined, norms?: T): { outputs: T[]; objective: T } {
  const { ops } = s.r;
  const view = chunkView(s, x, w, local, norms);
  const z = chunkLogits(s, view, cosTarget);
  const masked = ops.sub(z, ops.mul(view.oneHot, ops.scalar(MASKED)));
  const max = ops.stopGradient(ops.max(masked, 1, true));
  const others = ops.sub(ops.scalar(1), view.oneHot);
  const sumExp = ops.sum(ops.mul(ops.exp(ops.sub(masked, max)), others), 1);
  const safe = ops.where(ops.greater(sumExp, ops.scalar(0)), sumExp, ops.add(ops.mul(sumExp, ops.scalar(0)), ops.scalar(1)));
  const objective = ops.sum(ops.add(ops.reshape(max, [-1]), ops.log(safe)), 0);
  return { outputs: [ops.reshape(max, [-1]), sumExp, ops.sum(ops.mul(view.cos, view.oneHot), 1)], objective };
}

/** Per-row coefficients of the surrogate, [B] tensors (constants for the gradient). @internal */
export interface SurrogateCoefficients<T> {
  /** The target cosines (merged). */
  readonly cosTarget: T;
  /** lse_b, the full log-sum-exp. */
  readonly logSumExp: T;
  /** w_b: 1/n (mean) or 1 (sum) for counted rows, 0 for ignored. */
  readonly weight: T;
  /** w_b·(p_y − 1). */
  readonly target: T;
  /** w_b·(1 − p_y)·∂lse'/∂c_y, for class-local margins. */
  readonly slope?: T;
}

/**
 * Pass 2: a scalar whose gradient with respect to (embeddings, the chunk's centres) is the chunk's
 * share of the loss's gradient: Σ_{b, j in chunk, j ≠ y} sg(w_b·p_bj)·z_bj over non-target classes,
 * plus, for rows whose label the chunk holds, w_b·(p_y − 1)·z_y + w_b·aux_b + sg(slope_b)·c_y with
 * z_y, aux_b and c_y differentiable. With `norms` (host reciprocal norms ρ plus a zero probe u,
 * [1, Cc·K]) the norms are constants of the graph: the gradient with respect to u is
 * Σ_b ∂L/∂cos_bj·(x̂_b·w_j), from which the caller adds the norm's term (chunk-norms.ts). @internal
 */
export function surrogate<T>(s: ChunkSetup<T>, x: T, w: T, local: T, k: SurrogateCoefficients<T>, norms?: T): T {
  const { ops } = s.r;
  const view = chunkView(s, x, w, local, norms);
  const z = chunkLogits(s, view, k.cosTarget);
  const col = (v: T) => ops.reshape(v, [-1, 1]);
  const others = ops.sub(ops.scalar(1), view.oneHot);
  const p = ops.stopGradient(ops.mul(ops.mul(ops.exp(ops.sub(z, col(k.logSumExp))), col(k.weight)), others));
  const nonTarget = ops.sum(ops.sum(ops.mul(p, z), 1), 0);
  // Valued at the merged c_y of every row (a row whose label lies in another chunk gathers the
  // cosine at a clipped column here), differentiated through this chunk's own: margins that couple
  // rows (ElasticFace+ ranks every row's c_y) see the true cosines.
  const gathered = ops.gatherPerRow(view.cos, view.column);
  const cosTarget = ops.add(gathered, ops.stopGradient(ops.sub(k.cosTarget, gathered)));
  const row = rowTerms(s, cosTarget, view.norm);
  let held = ops.mul(k.target, row.targetLogit);
  if (row.auxiliaryLoss !== undefined) held = ops.add(held, ops.mul(k.weight, row.auxiliaryLoss));
  if (k.slope !== undefined) held = ops.add(held, ops.mul(k.slope, cosTarget));
  return ops.add(nonTarget, ops.sum(ops.mul(view.inChunk, held), 0));
}
