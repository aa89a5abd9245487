import { UnsupportedOpError, formatShape } from '@marginkit/core';
import type { OpRuleFamily } from './op-rule.js';

/** The static shape after a reshape: −1 is inferred when every input dimension is known. */
function reshapeTarget(from: readonly number[], to: readonly number[]): number[] {
  const hole = to.indexOf(-1);
  if (hole < 0 || from.includes(-1)) return [...to];
  const total = from.reduce((p, d) => p * d, 1);
  const rest = to.reduce((p, d, i) => (i === hole ? p : p * d), 1);
  return to.map((d, i) => (i === hole ? (rest === 0 ? 0 : total / rest) : d));
}

/** Reshape, with one dimension possibly −1. @internal */
export const RESHAPE_RULES: OpRuleFamily<'reshape'> = {
  reshape: {
    infer: ([x], { shape }) => ({ shape: reshapeTarget(x.shape, shape), dtype: x.dtype }),
    lower: (onnx, [x], { shape }, out) => {
      onnx.node('Reshape', [x, onnx.constant('int64', shape, [shape.length])], out);
    },
    vjp: (o, [x], _, __, g) => {
      if (x.shape.filter((d) => d < 0).length > 1) {
        throw new UnsupportedOpError('reshape', `cannot differentiate a reshape of ${formatShape(x.shape)}: more than one unknown dimension`);
      }
      return [o.reshape(g, x.shape)];
    },
  },
};
