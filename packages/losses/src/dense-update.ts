import type { SparseAdam, SparseOptimizer, SparseSgd } from './sparse-optimizer.js';

// Dense updates of one contiguous block of rows (a chunk of the centres): the same rules and the
// same float32 rounding as sparse-optimizer.ts's per-row updates, without the row indirection.

const f32 = Math.fround;

/** The host optimizer state of one chunk: PyTorch's buffer names (`momentumBuffer`, `expAvg`, `expAvgSq`). @internal */
export type ChunkMoments = Record<string, Float32Array>;

/** The buffer names `optimizer` keeps: none for plain SGD. @internal */
export function momentNames(optimizer: SparseOptimizer): readonly string[] {
  if (optimizer.kind === 'sgd') return optimizer.momentum > 0 ? ['momentumBuffer'] : [];
  return ['expAvg', 'expAvgSq'];
}

/**
 * One step of `optimizer` on every entry of `w` with gradient `g` (same length), updating the
 * chunk's `moments` in place; `step` is the 1-based step count (Adam's bias correction).
 * @internal
 */
export function denseUpdate(optimizer: SparseOptimizer, learningRate: number, step: number, g: Float32Array, w: Float32Array, moments: ChunkMoments): void {
  if (optimizer.kind === 'sgd') denseSgd(optimizer, learningRate, g, w, moments['momentumBuffer']);
  else denseAdam(optimizer, learningRate, step, g, w, moments['expAvg']!, moments['expAvgSq']!);
}

/** g ← g + λW; v ← μv + g; W ← W − ηv (torch.optim.SGD, no dampening, no Nesterov). */
function denseSgd(opt: SparseSgd, learningRate: number, g: Float32Array, w: Float32Array, buf: Float32Array | undefined): void {
  const lr = f32(learningRate);
  const wd = f32(opt.weightDecay);
  const mu = f32(opt.momentum);
  const n = w.length;
  if (buf !== undefined && wd === 0) {
    // The common case, kept tight: one multiply-add per buffer and per weight.
    for (let j = 0; j < n; j++) {
      const v = f32(f32(mu * buf[j]!) + g[j]!);
      buf[j] = v;
      w[j] = w[j]! - f32(lr * v);
    }
    return;
  }
  for (let j = 0; j < n; j++) {
    let gj = g[j]!;
    if (wd !== 0) gj = f32(gj + f32(wd * w[j]!));
    if (buf !== undefined) {
      gj = f32(f32(mu * buf[j]!) + gj);
      buf[j] = gj;
    }
    w[j] = w[j]! - f32(lr * gj);
  }
}

/** Adam with one step count for every entry: `stepCount` 'row' is torch.optim.Adam, 'global' torch.optim.SparseAdam's rule. */
function denseAdam(opt: SparseAdam, learningRate: number, t: number, g: Float32Array, w: Float32Array, m: Float32Array, v: Float32Array): void {
  const wd = f32(opt.weightDecay);
  const b2 = f32(opt.beta2);
  const one1 = f32(1 - opt.beta1);
  const one2 = f32(1 - opt.beta2);
  const eps = f32(opt.epsilon);
  const bc1 = 1 - opt.beta1 ** t;
  const bc2 = 1 - opt.beta2 ** t;
  const n = w.length;
  if (opt.stepCount === 'global') {
    const stepSize = f32(-((learningRate * Math.sqrt(bc2)) / bc1));
    for (let j = 0; j < n; j++) {
      let gj = g[j]!;
      if (wd !== 0) gj = f32(gj + f32(wd * w[j]!));
      const mj = f32(m[j]! + f32(f32(gj - m[j]!) * one1));
      const vj = f32(v[j]! + f32(f32(f32(gj * gj) - v[j]!) * one2));
      m[j] = mj;
      v[j] = vj;
      w[j] = w[j]! + f32(stepSize * f32(mj / f32(f32(Math.sqrt(vj)) + eps)));
    }
    return;
  }
  const stepSize = f32(-(learningRate / bc1));
  const bc2Sqrt = f32(Math.sqrt(bc2));
  for (let j = 0; j < n; j++) {
    let gj = g[j]!;
    if (wd !== 0) gj = f32(gj + f32(wd * w[j]!));
    const mj = f32(m[j]! + f32(one1 * f32(gj - m[j]!)));
    const vj = f32(f32(b2 * v[j]!) + f32(one2 * f32(gj * gj)));
    m[j] = mj;
    v[j] = vj;
    w[j] = w[j]! + f32(stepSize * f32(mj / f32(f32(f32(Math.sqrt(vj)) / bc2Sqrt) + eps)));
  }
}
