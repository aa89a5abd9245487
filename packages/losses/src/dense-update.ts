import { checkFinite } from '@marginkit/core';
import type { SgdKernel } from './sgd-kernel.js';
import type { SparseAdam, SparseOptimizer, SparseSgd } from './sparse-optimizer.js';

// Dense updates of one contiguous block of rows (a chunk of the centres): the same rules and the
// same float32 rounding as sparse-optimizer.ts's per-row updates, without the row indirection.
// Each pass over the chunk also folds in the norm's term of the gradient (core's `normTerm:
// 'defer'`) and measures the updated rows' norms for the next step (core's `centerNorms`), so the
// chunk is read and written once per step.

const f32 = Math.fround;

/** The host optimizer state of one chunk: PyTorch's buffer names (`momentumBuffer`, `expAvg`, `expAvgSq`). @internal */
export type ChunkMoments = Record<string, Float32Array>;

/** The buffer names `optimizer` keeps: none for plain SGD. @internal */
export function momentNames(optimizer: SparseOptimizer): readonly string[] {
  if (optimizer.kind === 'sgd') return optimizer.momentum > 0 ? ['momentumBuffer'] : [];
  return ['expAvg', 'expAvgSq'];
}

/** One chunk's gradient as core hands it out, and where the updated rows' norms go. @internal */
export interface ChunkGradient {
  /** g, row-major like the chunk. */
  readonly g: Float32Array;
  /** c per row when the norm's term was deferred: the gradient is g_j − c_j·w_j (w before the update). */
  readonly coefficients: Float64Array | undefined;
  /** D. */
  readonly dim: number;
  /** Receives ‖w_j‖ of each updated row (float64 sums). */
  readonly norms: Float64Array;
}

/**
 * One step of `optimizer` on every entry of the chunk `w`, updating its `moments` in place; `step`
 * is the 1-based step count (Adam's bias correction). With `kernel` (sgd-kernel.ts) whose velocity
 * is `moments.momentumBuffer`, SGD runs in WebAssembly, with the same values. With `check` (the
 * argument to name), a gradient entry of ±∞ or NaN throws `NonFiniteError` before anything changes:
 * the kernel finds it in the pass that reads the gradient, the JavaScript loop in a pass before.
 * @internal
 */
export function denseUpdate(
  optimizer: SparseOptimizer,
  learningRate: number,
  step: number,
  grad: ChunkGradient,
  w: Float32Array,
  moments: ChunkMoments,
  kernel?: SgdKernel,
  check?: string,
): void {
  const { g, dim } = grad;
  const buf = moments['momentumBuffer'];
  if (optimizer.kind === 'sgd' && kernel !== undefined && buf !== undefined && kernel.velocity === buf) {
    const f32s = [f32(optimizer.momentum), f32(learningRate), f32(optimizer.weightDecay)] as const;
    if (!kernel.update(g, grad.coefficients, w, grad.norms, ...f32s)) checkFinite(check ?? 'gradient', g, [g.length / dim, dim]);
    return;
  }
  if (check !== undefined) checkFinite(check, g, [g.length / dim, dim]);
  if (optimizer.kind === 'sgd') denseSgd(optimizer, learningRate, grad, w, buf);
  else denseAdam(optimizer, learningRate, step, grad, w, moments['expAvg']!, moments['expAvgSq']!);
}

/** The gradient entry `at` of row coefficient c: g, or f32(g − c·w) (as core's own `'apply'` rounds it). */
function entry(g: Float32Array, w: Float32Array, c: number, at: number): number {
  return c === 0 ? g[at]! : f32(g[at]! - c * w[at]!);
}

/** g ← g + λW; v ← μv + g; W ← W − ηv (torch.optim.SGD, no dampening, no Nesterov). */
function denseSgd(opt: SparseSgd, learningRate: number, grad: ChunkGradient, w: Float32Array, buf: Float32Array | undefined): void {
  const lr = f32(learningRate);
  const wd = f32(opt.weightDecay);
  const mu = f32(opt.momentum);
  const { g, coefficients, dim, norms } = grad;
  // One entry of the rule: the updated weight (the velocity written in place when there is one).
  const entryAt = (c: number, at: number): number => {
    let gj = entry(g, w, c, at);
    if (wd !== 0) gj = f32(gj + f32(wd * w[at]!));
    if (buf !== undefined) {
      gj = f32(f32(mu * buf[at]!) + gj);
      buf[at] = gj;
    }
    const next = f32(w[at]! - f32(lr * gj));
    w[at] = next;
    return next;
  };
  for (let j = 0, at = 0; j < norms.length; j++) {
    const c = coefficients === undefined ? 0 : coefficients[j]!;
    const end = at + dim;
    // Two partial sums, of the even and the odd entries, in the order the SIMD kernel adds them.
    let even = 0;
    let odd = 0;
    for (; at + 1 < end; at += 2) {
      const a = entryAt(c, at);
      even += a * a;
      const b = entryAt(c, at + 1);
      odd += b * b;
    }
    if (at < end) {
      const a = entryAt(c, at++);
      even += a * a;
    }
    norms[j] = Math.sqrt(even + odd);
  }
}

/** Adam with one step count for every entry: `stepCount` 'row' is torch.optim.Adam, 'global' torch.optim.SparseAdam's rule. */
function denseAdam(opt: SparseAdam, learningRate: number, t: number, grad: ChunkGradient, w: Float32Array, m: Float32Array, v: Float32Array): void {
  const wd = f32(opt.weightDecay);
  const b2 = f32(opt.beta2);
  const one1 = f32(1 - opt.beta1);
  const one2 = f32(1 - opt.beta2);
  const eps = f32(opt.epsilon);
  const bc1 = 1 - opt.beta1 ** t;
  const bc2 = 1 - opt.beta2 ** t;
  const global = opt.stepCount === 'global';
  const stepSize = global ? f32(-((learningRate * Math.sqrt(bc2)) / bc1)) : f32(-(learningRate / bc1));
  const bc2Sqrt = f32(Math.sqrt(bc2));
  const { g, coefficients, dim, norms } = grad;
  for (let j = 0, at = 0; j < norms.length; j++) {
    const c = coefficients === undefined ? 0 : coefficients[j]!;
    const end = at + dim;
    let sum = 0;
    for (; at < end; at++) {
      let gj = entry(g, w, c, at);
      if (wd !== 0) gj = f32(gj + f32(wd * w[at]!));
      let next: number;
      if (global) {
        const mj = f32(m[at]! + f32(f32(gj - m[at]!) * one1));
        const vj = f32(v[at]! + f32(f32(f32(gj * gj) - v[at]!) * one2));
        m[at] = mj;
        v[at] = vj;
        next = f32(w[at]! + f32(stepSize * f32(mj / f32(f32(Math.sqrt(vj)) + eps))));
      } else {
        const mj = f32(m[at]! + f32(one1 * f32(gj - m[at]!)));
        const vj = f32(f32(b2 * v[at]!) + f32(one2 * f32(gj * gj)));
        m[at] = mj;
        v[at] = vj;
        next = f32(w[at]! + f32(stepSize * f32(mj / f32(f32(f32(Math.sqrt(vj)) / bc2Sqrt) + eps))));
      }
      w[at] = next;
      sum += next * next;
    }
    norms[j] = Math.sqrt(sum);
  }
}
