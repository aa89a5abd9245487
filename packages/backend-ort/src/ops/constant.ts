import type { OpAttrs, OpRuleFamily } from './op-rule.js';
import { noGradient } from './op-rule.js';

/** The values of a constant op as a typed array of its dtype. @internal */
export function constantData({ values, shape, dtype }: OpAttrs<'constant'>): Float32Array | Int32Array {
  const size = shape.reduce((p, d) => p * d, 1);
  const Ctor = dtype === 'int32' ? Int32Array : Float32Array;
  return typeof values === 'number' ? new Ctor(size).fill(values) : Ctor.from(values);
}

/** A constant tensor, stored in the model as an initialiser. @internal */
export const CONSTANT_RULES: OpRuleFamily<'constant'> = {
  constant: {
    lower: (onnx, _, attrs, out) => {
      onnx.initializer(out, attrs.shape, attrs.dtype, constantData(attrs));
    },
    vjp: noGradient,
  },
};
