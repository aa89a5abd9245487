import { InvalidArgumentError, checkFloat32Positive, readChoice, readOptions } from '@marginkit/core';
import { INF, inRange } from './read.js';

/** Options of {@link sparseSgd}. */
export interface SparseSgdOptions {
  /** η > 0, the learning rate. Required. */
  readonly learningRate: number;
  /** μ in [0, 1), heavy-ball momentum; 0 (default) keeps no momentum buffer. */
  readonly momentum?: number;
  /** λ ≥ 0, L2 weight decay added to the gradient of the updated rows (PyTorch's `weight_decay`). Default 0. */
  readonly weightDecay?: number;
}

/**
 * SGD with momentum applied to the sampled rows only: for each updated row,
 * g ← g + λ·W, v ← μ·v + g, W ← W − η·v (PyTorch's `torch.optim.SGD` without dampening or
 * Nesterov; its first step v = g is the same as μ·0 + g). Rows that are not sampled keep W and v.
 */
export interface SparseSgd {
  /** The optimizer's kind. */
  readonly kind: 'sgd';
  /** η. */
  readonly learningRate: number;
  /** μ. */
  readonly momentum: number;
  /** λ. */
  readonly weightDecay: number;
}

/** How {@link sparseAdam} counts steps for its bias correction. */
export type AdamStepCount = 'row' | 'global';

/** Options of {@link sparseAdam}. */
export interface SparseAdamOptions {
  /** η > 0. Default 1e-3. */
  readonly learningRate?: number;
  /** β₁ in [0, 1). Default 0.9. */
  readonly beta1?: number;
  /** β₂ in [0, 1). Default 0.999. */
  readonly beta2?: number;
  /** ε > 0. Default 1e-8 (PyTorch's). */
  readonly epsilon?: number;
  /** λ ≥ 0, L2 weight decay added to the gradient of the updated rows (PyTorch Adam's `weight_decay`). Default 0. */
  readonly weightDecay?: number;
  /**
   * `'row'` (default): each row counts its own updates t_r and is corrected with it, exactly
   * `torch.optim.Adam` run on that row alone (as if only the sampled rows existed).
   * `'global'`: `torch.optim.SparseAdam`'s rule: one step counter for the whole matrix, advanced
   * on every step, and ε added to √v before the bias correction.
   */
  readonly stepCount?: AdamStepCount;
}

/**
 * Adam applied to the sampled rows only (a "lazy" Adam): the moments of a row move only when
 * the row is sampled. See {@link SparseAdamOptions.stepCount} for the bias correction.
 */
export interface SparseAdam {
  /** The optimizer's kind. */
  readonly kind: 'adam';
  /** η. */
  readonly learningRate: number;
  /** β₁. */
  readonly beta1: number;
  /** β₂. */
  readonly beta2: number;
  /** ε. */
  readonly epsilon: number;
  /** λ. */
  readonly weightDecay: number;
  /** The step counting rule. */
  readonly stepCount: AdamStepCount;
}

/** An optimizer for {@link PartialFCLoss}: {@link sparseSgd} or {@link sparseAdam}. */
export type SparseOptimizer = SparseSgd | SparseAdam;

/** Reads {@link SparseSgdOptions} into a {@link SparseSgd}, errors named after `owner`. @internal */
export function readSgd(owner: string, options: unknown): SparseSgd {
  if (options === undefined) throw new InvalidArgumentError(owner, 'expected { learningRate, momentum?, weightDecay? }');
  const o = readOptions(owner, options, ['kind', 'learningRate', 'momentum', 'weightDecay']);
  if (o['kind'] !== undefined && o['kind'] !== 'sgd') throw new InvalidArgumentError(`${owner}.kind`, `must be 'sgd', got ${JSON.stringify(o['kind'])}`);
  return {
    kind: 'sgd',
    learningRate: float32Rate(`${owner}.learningRate`, inRange(`${owner}.learningRate`, o['learningRate'], undefined, 0, INF, true, true)),
    momentum: inRange(`${owner}.momentum`, o['momentum'], 0, 0, 1, false, true),
    weightDecay: float32Rate(`${owner}.weightDecay`, inRange(`${owner}.weightDecay`, o['weightDecay'], 0, 0, INF, false, true)),
  };
}

/** Reads {@link SparseAdamOptions} into a {@link SparseAdam}, errors named after `owner`. @internal */
export function readAdam(owner: string, options: unknown): SparseAdam {
  const o = readOptions(owner, options, ['kind', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'stepCount']);
  if (o['kind'] !== undefined && o['kind'] !== 'adam') throw new InvalidArgumentError(`${owner}.kind`, `must be 'adam', got ${JSON.stringify(o['kind'])}`);
  return {
    kind: 'adam',
    learningRate: float32Rate(`${owner}.learningRate`, inRange(`${owner}.learningRate`, o['learningRate'], 1e-3, 0, INF, true, true)),
    beta1: inRange(`${owner}.beta1`, o['beta1'], 0.9, 0, 1, false, true),
    beta2: inRange(`${owner}.beta2`, o['beta2'], 0.999, 0, 1, false, true),
    epsilon: float32Rate(`${owner}.epsilon`, inRange(`${owner}.epsilon`, o['epsilon'], 1e-8, 0, INF, true, true)),
    weightDecay: float32Rate(`${owner}.weightDecay`, inRange(`${owner}.weightDecay`, o['weightDecay'], 0, 0, INF, false, true)),
    stepCount: readChoice(`${owner}.stepCount`, o['stepCount'], 'row', ['row', 'global']),
  };
}

/** Reads and checks an optimizer from {@link sparseSgd} or {@link sparseAdam}. @internal */
export function readOptimizer(owner: string, value: unknown): SparseOptimizer {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(
      owner,
      `is required: sparseSgd({ learningRate, momentum }) or sparseAdam({ ... }), got ${value === null ? 'null' : typeof value}`,
    );
  }
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'sgd') return readSgd(owner, value);
  if (kind === 'adam') return readAdam(owner, value);
  throw new InvalidArgumentError(`${owner}.kind`, `must be 'sgd' or 'adam' (use sparseSgd() or sparseAdam()), got ${JSON.stringify(kind)}`);
}

/** The host-side optimizer state of [rows, D] centres. @internal */
export interface SparseOptimizerState {
  /** The per-entry buffers by PyTorch's names: `momentumBuffer` (SGD with momentum), `expAvg` and `expAvgSq` (Adam). */
  moments: Record<string, Float32Array>;
  /** Adam's update counts: one per row (`stepCount: 'row'`) or one for all (`'global'`); none for SGD. */
  rowSteps: Float64Array | undefined;
}

/** The zero state of `optimizer` for [rows, dim] centres. @internal */
export function initialOptimizerState(optimizer: SparseOptimizer, rows: number, dim: number): SparseOptimizerState {
  const size = rows * dim;
  if (optimizer.kind === 'sgd') return { moments: optimizer.momentum > 0 ? { momentumBuffer: new Float32Array(size) } : {}, rowSteps: undefined };
  return {
    moments: { expAvg: new Float32Array(size), expAvgSq: new Float32Array(size) },
    rowSteps: new Float64Array(optimizer.stepCount === 'row' ? rows : 1),
  };
}

const f32 = Math.fround;

/**
 * One step of `optimizer` on the `sampled` rows of `centers` [C, dim] and of their state, with
 * `grad` [sampled.length, dim] the gradient of those rows, in float32 arithmetic as PyTorch's CPU
 * kernels round it. Other rows are not touched.
 * @internal
 */
export function sparseUpdate(
  optimizer: SparseOptimizer,
  learningRate: number,
  sampled: Int32Array,
  grad: Float32Array,
  centers: Float32Array,
  dim: number,
  state: SparseOptimizerState,
): void {
  if (optimizer.kind === 'sgd') sgdUpdate(optimizer, learningRate, sampled, grad, centers, dim, state.moments['momentumBuffer']);
  else adamUpdate(optimizer, learningRate, sampled, grad, centers, dim, state.moments['expAvg']!, state.moments['expAvgSq']!, state.rowSteps!);
}

/**
 * A rate the float32 updates can carry: 0, or a positive number core's `checkFloat32Positive`
 * accepts (a smaller one rounds to 0 or a subnormal, where √v + ε is 0 and the update 0/0; a
 * larger one is +∞ in float32). @internal
 */
function float32Rate(argument: string, value: number): number {
  return value === 0 ? value : checkFloat32Positive(argument, value, 'a value of this size in the float32 updates');
}

function sgdUpdate(
  opt: SparseSgd,
  learningRate: number,
  sampled: Int32Array,
  grad: Float32Array,
  w: Float32Array,
  d: number,
  buf: Float32Array | undefined,
): void {
  const lr = f32(learningRate);
  const wd = f32(opt.weightDecay);
  const mu = f32(opt.momentum);
  for (let i = 0; i < sampled.length; i++) {
    const base = sampled[i]! * d;
    for (let k = 0; k < d; k++) {
      const j = base + k;
      let g = grad[i * d + k]!;
      if (wd !== 0) g = f32(g + f32(wd * w[j]!));
      if (buf) {
        buf[j] = f32(f32(mu * buf[j]!) + g);
        g = buf[j]!;
      }
      w[j] = f32(w[j]! - f32(lr * g));
    }
  }
}

function adamUpdate(
  opt: SparseAdam,
  learningRate: number,
  sampled: Int32Array,
  grad: Float32Array,
  w: Float32Array,
  d: number,
  m: Float32Array,
  v: Float32Array,
  counts: Float64Array,
): void {
  const wd = f32(opt.weightDecay);
  const b2 = f32(opt.beta2);
  const one1 = f32(1 - opt.beta1);
  const one2 = f32(1 - opt.beta2);
  const eps = f32(opt.epsilon);
  const global = opt.stepCount === 'global';
  if (global) counts[0]! += 1;
  for (let i = 0; i < sampled.length; i++) {
    const r = sampled[i]!;
    if (!global) counts[r]! += 1;
    const t = global ? counts[0]! : counts[r]!;
    const bc1 = 1 - opt.beta1 ** t;
    const bc2 = 1 - opt.beta2 ** t;
    const base = r * d;
    if (global) {
      // torch.optim.SparseAdam: m += (g − m)(1 − β₁); v += (g² − v)(1 − β₂); W −= η·√bc₂/bc₁ · m / (√v + ε).
      const stepSize = f32(-((learningRate * Math.sqrt(bc2)) / bc1));
      for (let k = 0; k < d; k++) {
        const j = base + k;
        let g = grad[i * d + k]!;
        if (wd !== 0) g = f32(g + f32(wd * w[j]!));
        m[j] = f32(m[j]! + f32(f32(g - m[j]!) * one1));
        v[j] = f32(v[j]! + f32(f32(f32(g * g) - v[j]!) * one2));
        const denom = f32(f32(Math.sqrt(v[j]!)) + eps);
        w[j] = f32(w[j]! + f32(stepSize * f32(m[j]! / denom)));
      }
    } else {
      // torch.optim.Adam: m ← m + (1 − β₁)(g − m); v ← β₂v + (1 − β₂)g²; W −= (η/bc₁) · m / (√v/√bc₂ + ε).
      const stepSize = f32(-(learningRate / bc1));
      const bc2Sqrt = f32(Math.sqrt(bc2));
      for (let k = 0; k < d; k++) {
        const j = base + k;
        let g = grad[i * d + k]!;
        if (wd !== 0) g = f32(g + f32(wd * w[j]!));
        m[j] = f32(m[j]! + f32(one1 * f32(g - m[j]!)));
        v[j] = f32(f32(b2 * v[j]!) + f32(one2 * f32(g * g)));
        const denom = f32(f32(f32(Math.sqrt(v[j]!)) / bc2Sqrt) + eps);
        w[j] = f32(w[j]! + f32(stepSize * f32(m[j]! / denom)));
      }
    }
  }
}
