import { UnsupportedOpError, formatShape } from '@marginkit/core';
import { ElemType, intAttr } from '../onnx.js';
import { type OpRuleFamily, noGradient } from './op-rule.js';
import { mask, not, unbroadcast } from './vjp-helpers.js';

/** Selection and indexing: `where`, `gatherPerRow`, `oneHot`. @internal */
export const INDEXING_RULES: OpRuleFamily<'where' | 'gatherPerRow' | 'oneHot'> = {
  where: {
    lower: (onnx, [c, a, b], _, out) => {
      onnx.node('Where', [c, a, b], out);
    },
    vjp: (o, [c, a, b], _, __, g) => {
      const m = mask(o, c);
      return [undefined, unbroadcast(o, o.mul(g, m), a.shape), unbroadcast(o, o.mul(g, not(o, m)), b.shape)];
    },
  },
  gatherPerRow: {
    lower: (onnx, [x, indices], _, out) => {
      const idx = onnx.node('Unsqueeze', [indices, onnx.constant('int64', [1], [1])], onnx.temp());
      const g = onnx.node('GatherElements', [x, idx], onnx.temp(), [intAttr('axis', 1)]);
      onnx.node('Reshape', [g, onnx.constant('int64', [-1], [1])], out);
    },
    vjp: (o, [x, idx], _, __, g) => {
      const depth = x.shape[1]!;
      if (depth < 0) throw new UnsupportedOpError('gatherPerRow', `cannot differentiate with an unknown number of columns: x is ${formatShape(x.shape)}`);
      return [o.mul(o.oneHot(idx, depth), o.reshape(g, [-1, 1])), undefined];
    },
  },
  oneHot: {
    // (indices[:, None] == range(depth)) as float: Equal on int32 runs on every ORT execution provider.
    lower: (onnx, [indices], { depth }, out) => {
      const range = onnx.node('Range', [onnx.constant('int32', [0], []), onnx.constant('int32', [depth], []), onnx.constant('int32', [1], [])], onnx.temp());
      const idx = onnx.node('Unsqueeze', [indices, onnx.constant('int64', [1], [1])], onnx.temp());
      onnx.node('Cast', [onnx.node('Equal', [idx, range], onnx.temp())], out, [intAttr('to', ElemType.float32)]);
    },
    vjp: noGradient,
  },
};
