import { UnsupportedOpError, formatShape } from '@marginkit/core';
import type { OpRuleFamily } from './op-rule.js';

/** Reshape, with one dimension possibly −1. @internal */
export const RESHAPE_RULES: OpRuleFamily<'reshape'> = {
  reshape: {
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
