/**
 * The matmul of the tfjs backend, kept on tfjs-backend-wasm's fast path in both directions.
 *
 * tfjs-backend-wasm 4.x runs a BatchMatMul on XNNPACK's fully-connected operator only when
 * neither transpose flag is set and both batch dimensions are 1; any transpose flag sends it to
 * a scalar blocked loop (`slow_batch_matmul` in its batch_mat_mul_impl.cc) that strides through
 * the transposed operand: [256, 512]·[10000, 512]ᵀ runs at ~2 GFLOP/s and [256, 10000]ᵀ·[256, 512]
 * at ~0.8, against 13–19 GFLOP/s for the same work without flags. The cosine logits x̂·Ŵᵀ and
 * tfjs's own gradient of a matmul (dy·B with transposeB, Aᵀ·dy with transposeA) hit the slow loop.
 * So here every product is flag-free: an operand is transposed explicitly, or the product is
 * computed the other way round and its result transposed — whichever moves fewer elements — and
 * the gradient is a custom one made of flag-free products too.
 *
 * @packageDocumentation
 */
import type * as tfc from '@tensorflow/tfjs-core';

type MatmulModule = Pick<typeof tfc, 'matMul' | 'transpose' | 'customGrad' | 'getBackend' | 'Tensor'>;

/** tfjs backends whose BatchMatMul is slow with transpose flags (wasm: off XNNPACK; cpu: strided loops). */
const FLAG_FREE_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/**
 * op(a)·op(b) with no transpose flag: op(a)·op(b) directly (transposing an operand stored the
 * other way), or (op(b)ᵀ·op(a)ᵀ)ᵀ, whichever transposes fewer elements.
 */
function product(tf: MatmulModule, a: tfc.Tensor, b: tfc.Tensor, transposeA: boolean, transposeB: boolean): tfc.Tensor {
  const [ra, ca] = a.shape as [number, number];
  const [rb, cb] = b.shape as [number, number];
  const m = transposeA ? ca : ra;
  const n = transposeB ? rb : cb;
  // Elements transposed: each operand whose stored layout differs from what the form needs.
  const direct = (transposeA ? ra * ca : 0) + (transposeB ? rb * cb : 0);
  const swapped = (transposeA ? 0 : ra * ca) + (transposeB ? 0 : rb * cb) + m * n;
  if (direct <= swapped) return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
  return tf.transpose(tf.matMul(transposeB ? b : tf.transpose(b), transposeA ? a : tf.transpose(a)));
}

/**
 * `(a, b, transposeA, transposeB) => op(a)·op(b)` for rank-2 tensors. On tfjs's wasm and cpu
 * backends the forward and both gradient products run without transpose flags (see the module
 * note); elsewhere (webgl, webgpu, tfjs-node, whose kernels take the flags at no cost) it is
 * `tf.matMul` with tfjs's own gradient.
 */
export function flagFreeMatmul(tf: MatmulModule): (a: tfc.Tensor, b: tfc.Tensor, transposeA: boolean, transposeB: boolean) => tfc.Tensor {
  const arg = (args: unknown[], i: number): tfc.Tensor => {
    const x = args[i];
    if (!(x instanceof tf.Tensor)) throw new TypeError(`matmul: input ${i} is not a tensor`);
    return x;
  };
  const differentiable = (transposeA: boolean, transposeB: boolean) =>
    tf.customGrad((...args) => {
      const a = arg(args, 0);
      const b = arg(args, 1);
      const save = args[2];
      // Tensors a gradient function uses must be saved: the forward's intermediates are freed.
      if (typeof save === 'function') save([a, b]);
      return {
        value: product(tf, a, b, transposeA, transposeB),
        // C = op(A)·op(B): d op(A) = dy·op(B)ᵀ, d op(B) = op(A)ᵀ·dy, each transposed back when the
        // operand was given transposed.
        gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => {
          const [sa, sb] = [saved[0]!, saved[1]!];
          return [
            transposeA ? product(tf, sb, dy, transposeB, true) : product(tf, dy, sb, false, !transposeB),
            transposeB ? product(tf, dy, sa, true, transposeA) : product(tf, sa, dy, !transposeA, false),
          ];
        },
      };
    });
  // Indexed by 2·transposeA + transposeB.
  const forms = [differentiable(false, false), differentiable(false, true), differentiable(true, false), differentiable(true, true)];
  return (a, b, transposeA, transposeB) =>
    FLAG_FREE_BACKENDS.includes(tf.getBackend()) ? forms[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)]!(a, b) : tf.matMul(a, b, transposeA, transposeB);
}
