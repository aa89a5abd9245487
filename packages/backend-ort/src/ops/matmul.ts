import { intAttr } from '../onnx.js';
import type { OpRuleFamily } from './op-rule.js';

/** The matrix product of rank-2 tensors, with optional transposes. @internal */
export const MATMUL_RULES: OpRuleFamily<'matmul'> = {
  matmul: {
    lower: (onnx, [a, b], { transposeA, transposeB }, out) => {
      onnx.node('Gemm', [a, b], out, [intAttr('transA', transposeA ? 1 : 0), intAttr('transB', transposeB ? 1 : 0)]);
    },
    // C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back when A was), dB likewise.
    vjp: (o, [a, b], { transposeA: ta, transposeB: tb }, __, g) => [
      ta ? o.matmul(b, g, { transposeA: tb, transposeB: true }) : o.matmul(g, b, { transposeB: !tb }),
      tb ? o.matmul(g, a, { transposeA: true, transposeB: ta }) : o.matmul(a, g, { transposeA: !ta }),
    ],
  },
};
