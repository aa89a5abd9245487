import { intAttr, intsAttr } from '../onnx.js';
import type { OpRuleFamily } from './op-rule.js';
import { count, keepShape, mask, not, unreduce } from './vjp-helpers.js';

/** The reductions along one axis. */
type ReduceOp = 'sum' | 'mean' | 'max' | 'logSumExp';

/** Reductions along one axis. @internal */
export const REDUCTION_RULES: OpRuleFamily<ReduceOp> = {
  sum: {
    lower: (onnx, [x], { axis, keepDims }, out) => {
      onnx.node('ReduceSum', [x, onnx.constant('int64', [axis], [1])], out, [intAttr('keepdims', keepDims ? 1 : 0)]);
    },
    vjp: (o, [x], { axis, keepDims }, __, g) => [unreduce(o, g, x, axis, keepDims)],
  },
  mean: {
    lower: (onnx, [x], { axis, keepDims }, out) => {
      onnx.node('ReduceMean', [x], out, [intsAttr('axes', [axis]), intAttr('keepdims', keepDims ? 1 : 0)]);
    },
    vjp: (o, [x], { axis, keepDims }, __, g) => [o.div(unreduce(o, g, x, axis, keepDims), count(o, x, axis))],
  },
  max: {
    lower: (onnx, [x], { axis, keepDims }, out) => {
      onnx.node('ReduceMax', [x], out, [intsAttr('axes', [axis]), intAttr('keepdims', keepDims ? 1 : 0)]);
    },
    // The whole cotangent goes to every position that attains the maximum.
    vjp: (o, [x], { axis, keepDims }, out, g) => {
      const top = keepDims ? out : o.reshape(out, keepShape(x.shape, axis));
      return [o.mul(unreduce(o, g, x, axis, keepDims), not(o, mask(o, o.less(x, top))))];
    },
  },
  logSumExp: {
    // m + log Σ exp(x − m), m the maximum along the axis: stable for any finite input.
    lower: (onnx, [x], { axis, keepDims }, out) => {
      const keep = keepDims ? 1 : 0;
      const m = onnx.node('ReduceMax', [x], onnx.temp(), [intsAttr('axes', [axis]), intAttr('keepdims', 1)]);
      const shifted = onnx.node('Exp', [onnx.node('Sub', [x, m], onnx.temp())], onnx.temp());
      const s = onnx.node('ReduceSum', [shifted, onnx.constant('int64', [axis], [1])], onnx.temp(), [intAttr('keepdims', keep)]);
      const mk = keep ? m : onnx.node('ReduceMax', [x], onnx.temp(), [intsAttr('axes', [axis]), intAttr('keepdims', 0)]);
      onnx.node('Add', [mk, onnx.node('Log', [s], onnx.temp())], out);
    },
    vjp: (o, [x], { axis, keepDims }, out, g) => {
      const lse = keepDims ? out : o.reshape(out, keepShape(x.shape, axis));
      return [o.mul(unreduce(o, g, x, axis, keepDims), o.exp(o.sub(x, lse)))];
    },
  },
};
