/**
 * The lean chunk graphs: the same statistics and gradients as chunk-graphs.ts with fewer passes
 * over the [B, Cc] logits, for the common case — a margin that is not class-local (ArcFace,
 * CosFace, SphereFace, the combined margin), one centre per class, a fixed scale s, and the
 * centres' norms taken on the host (chunk-norms.ts).
 *
 * - The logits are z = (x̂·Wᵀ)∘(s·ρ): one column scale, s folded into ρ on the host.
 * - The target column is masked by subtracting 1e38 there: `sub(z, mul(oneHot(column), mask))`,
 *   which ONNX Runtime writes as one `ScatterElements` (backend-ort's fuse-rewrite.ts).
 * - The backward pass is written by hand, not differentiated through the logits. With
 *   M = exp(z − shift)∘(s·ρ) over the non-target classes (shift_b = lse_b − ln w_b folds the row
 *   weight into the exponent), the surrogate is Σ x̂ ⊙ (sg(M)·W) plus each row's target term
 *   computed from its own centre row w_y, which the host gathers and feeds: its gradient is the
 *   two products dx̂ = M·W and dW = Mᵀ·x̂, where the autodiff of the general surrogate also formed
 *   the whole gradient of the logits and the zero probe of the norms.
 * - The norms' term: u_j = Σ_b ∂L/∂cos_bj·(x̂_b·w_j) is ρ_j⁻¹·Σ_b M_bj·(x̂_b·w_j) plus, for target
 *   rows, ρ_y⁻¹·(∂L/∂w_y)·w_y from the target row's gradient; chunk-norms.ts turns u into the
 *   coefficients of the term.
 *
 * @packageDocumentation
 */
import { type ChunkSetup, MASKED, type SurrogateCoefficients, rowTerms } from './chunk-graphs.js';
import type { ChunkNorms } from './chunk-norms.js';
import { unitRows } from './cosines.js';
import type { Margin } from './margin-types.js';

/** The shift of an ignored row (weight 0): exp(z − shift) is 0 for every |z| ≤ s. */
const IGNORED_SHIFT = 1e30;

/** The fed tensors of one chunk of a lean graph. @internal */
export interface LeanChunkInputs<T> {
  /** s·ρ_j, [1, Cc]. */
  readonly scaled: T;
  /** The label's column in the chunk, clipped to [0, Cc) (meaningful where `inChunk`), float32 [B]. */
  readonly column: T;
  /** 1 where the row's label lies in the chunk, [B]. */
  readonly inChunk: T;
  /** ρ_y where the row's label lies in the chunk, else 0, [B]. */
  readonly rhoTarget: T;
}

/** What the host knows of one chunk's labels, for its inputs and for the gradients' correction. @internal */
export interface LeanLabels {
  /** The label's column in the chunk, or −1 where it lies elsewhere (or the row is ignored). */
  readonly local: Int32Array;
  /** `local` clipped to [0, Cc), as float32. */
  readonly column: Float32Array;
  /** 1 where `local` ≥ 0. */
  readonly inChunk: Float32Array;
  /** ρ_y where `local` ≥ 0, else 0. */
  readonly rhoTarget: Float32Array;
}

/**
 * Whether a call takes the lean graphs: a margin that is not class-local, one centre per class, a
 * fixed scale, and host norms (for the backward pass also the chunks' values, to gather w_y).
 * @internal
 */
export function leanEligible(margin: Margin, subCenters: number, norms: readonly ChunkNorms[] | undefined, backward: boolean): boolean {
  if (margin.classLocal === true || subCenters !== 1 || margin.featureScale === 'norm' || norms === undefined) return false;
  return !backward || norms.every((n) => n.values instanceof Float32Array);
}

/** s·ρ_j rounded to float32 once (the general graphs round ρ, then s·ρ·c). @internal */
export function scaledReciprocals(scale: number, norms: ChunkNorms): Float32Array {
  const { reciprocal } = norms;
  const out = new Float32Array(reciprocal.length);
  for (let j = 0; j < out.length; j++) out[j] = scale * reciprocal[j]!;
  return out;
}

/** Chunk k's label columns, given the chunk's first class and width. @internal */
export function leanLabels(labels: Int32Array, start: number, width: number, norms: ChunkNorms): LeanLabels {
  const n = labels.length;
  const local = new Int32Array(n);
  const column = new Float32Array(n);
  const inChunk = new Float32Array(n);
  const rhoTarget = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    const j = labels[b]! - start;
    const held = labels[b]! >= 0 && j >= 0 && j < width;
    local[b] = held ? j : -1;
    column[b] = held ? j : 0;
    inChunk[b] = held ? 1 : 0;
    rhoTarget[b] = held ? norms.reciprocal[j]! : 0;
  }
  return { local, column, inChunk, rhoTarget };
}

/** The product x̂·Wᵀ [B, Cc] and the unit rows. */
function product<T>(s: ChunkSetup<T>, x: T, w: T): { unit: T; norm: T; y: T } {
  const { unit, norm } = unitRows(s.r, x);
  return { unit, norm, y: s.r.ops.matmul(unit, w, { transposeB: true }) };
}

/** z − (mask at the label's column): one ScatterElements on ONNX Runtime. */
function maskTarget<T>(s: ChunkSetup<T>, z: T, t: LeanChunkInputs<T>): { masked: T; column: T } {
  const { ops } = s.r;
  const width = ops.shape(z)[1]!;
  const column = ops.cast(ops.clip(t.column, 0, width - 1), 'int32');
  const mask = ops.reshape(ops.mul(t.inChunk, ops.scalar(MASKED)), [-1, 1]);
  return { masked: ops.sub(z, ops.mul(ops.oneHot(column, width), mask)), column };
}

/**
 * Pass 1, lean: the chunk's max [B] and Σexp [B] over its non-target classes, and the target
 * cosine [B] (0 where the label lies elsewhere), as `chunkStatisticsOf` gives them. A row whose
 * chunk holds no other class gets max ≈ −1e38 here; the caller reads that as an empty sum. With
 * `keepProduct`, also the product x̂·Wᵀ [B, Cc], for pass 2 to take instead of forming it again.
 * @internal
 */
export function leanStatisticsOf<T>(s: ChunkSetup<T>, x: T, w: T, t: LeanChunkInputs<T>, keepProduct = false): T[] {
  const { ops } = s.r;
  const { y } = product(s, x, w);
  const { masked, column } = maskTarget(s, ops.mul(y, t.scaled), t);
  const max = ops.max(masked, 1, true);
  const sumExp = ops.sum(ops.exp(ops.sub(masked, max)), 1);
  const stats = [ops.reshape(max, [-1]), sumExp, ops.mul(ops.gatherPerRow(y, column), t.rhoTarget)];
  return keepProduct ? [...stats, y] : stats;
}

/** The per-row shift lse_b − ln w_b of the lean backward pass (large for ignored rows). @internal */
export function leanShift(logSumExp: Float64Array, weight: Float64Array): Float32Array {
  return Float32Array.from(logSumExp, (lse, b) => (weight[b]! > 0 ? lse - Math.log(weight[b]!) : IGNORED_SHIFT));
}

/**
 * Pass 2, lean: a scalar whose gradients with respect to (x, W, wy) are the chunk's share of the
 * loss's gradient with ρ held constant — x's exactly; W's for every non-target class, the target
 * rows' share coming through wy (the rows w_y, gathered on the host; zero rows elsewhere) — and
 * `probe`, [Cc], with Σ_b M_bj·(x̂_b·w_j). `shift` is [B, 1]. `kept` is pass 1's product x̂·Wᵀ
 * [B, Cc] when it was kept: the graph then takes it instead of forming it again.
 * @internal
 */
export function leanSurrogate<T>(
  s: ChunkSetup<T>,
  x: T,
  w: T,
  wy: T,
  t: LeanChunkInputs<T>,
  shift: T,
  k: SurrogateCoefficients<T>,
  kept?: T,
): { objective: T; probe: T } {
  const { ops } = s.r;
  const { unit, norm } = unitRows(s.r, x);
  // The logits are constants of this graph: only the two products below carry gradients.
  const y = kept ?? ops.stopGradient(ops.matmul(unit, w, { transposeB: true }));
  const { masked } = maskTarget(s, ops.mul(y, t.scaled), t);
  const m = ops.stopGradient(ops.mul(ops.exp(ops.sub(masked, shift)), t.scaled));
  const bulk = ops.sum(ops.sum(ops.mul(unit, ops.matmul(m, w)), 1), 0);
  // The target term, on the row's own centre: c_y = ρ_y·x̂·w_y, valued at the merged c_y.
  const raw = ops.mul(ops.sum(ops.mul(unit, wy), 1), t.rhoTarget);
  const cosTarget = ops.add(raw, ops.stopGradient(ops.sub(k.cosTarget, raw)));
  const row = rowTerms(s, cosTarget, norm);
  let held = ops.mul(k.target, row.targetLogit);
  if (row.auxiliaryLoss !== undefined) held = ops.add(held, ops.mul(k.weight, row.auxiliaryLoss));
  return { objective: ops.add(bulk, ops.sum(ops.mul(t.inChunk, held), 0)), probe: ops.sum(ops.mul(m, y), 0) };
}

/** The rows w_y of the chunk's values for rows whose label it holds, zero rows elsewhere, [B·D]. @internal */
export function gatherTargetRows(values: Float32Array, labels: LeanLabels, dim: number): Float32Array {
  const out = new Float32Array(labels.local.length * dim);
  labels.local.forEach((j, b) => {
    if (j >= 0) out.set(values.subarray(j * dim, (j + 1) * dim), b * dim);
  });
  return out;
}

/**
 * Completes a lean chunk's centre gradient in place: adds each target row's gradient (from wy) to
 * its class's row, and returns u_j = Σ_b ∂L/∂cos_bj·(x̂_b·w_j) for the norms' term.
 * @internal
 */
export function completeLeanGradient(
  g: Float32Array,
  targetRows: Float32Array,
  probe: Float32Array,
  labels: LeanLabels,
  values: Float32Array,
  norms: ChunkNorms,
  dim: number,
): Float64Array {
  const u = new Float64Array(probe.length);
  for (let j = 0; j < u.length; j++) u[j] = probe[j]! / norms.reciprocal[j]!;
  labels.local.forEach((j, b) => {
    if (j < 0) return;
    let dot = 0;
    for (let d = 0, at = j * dim, from = b * dim; d < dim; d++, at++, from++) {
      const gy = targetRows[from]!;
      g[at] = g[at]! + gy;
      dot += gy * values[at]!;
    }
    u[j]! += dot / norms.reciprocal[j]!;
  });
  return u;
}
