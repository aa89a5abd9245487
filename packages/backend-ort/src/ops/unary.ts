import { ONNX_DTYPE, intAttr } from '../onnx.js';
import { type OpRule, type OpRuleFamily, noGradient } from './op-rule.js';
import { mask, not } from './vjp-helpers.js';

/** The ops with one input whose output has its shape and dtype. */
type SameShapeOp = 'neg' | 'sqrt' | 'exp' | 'log' | 'cos' | 'sin' | 'acos' | 'floor' | 'clip' | 'stopGradient';

/** An op computed elementwise by the ONNX node `onnxType`, with its input's shape and dtype. */
function elementwise(onnxType: string, vjp: OpRule<SameShapeOp>['vjp']): OpRule<SameShapeOp> {
  return {
    lower: (onnx, [x], _, out) => {
      onnx.node(onnxType, [x], out);
    },
    vjp,
  };
}

/** Elementwise functions of one tensor, and dtype conversion. @internal */
export const UNARY_RULES: OpRuleFamily<SameShapeOp | 'cast'> = {
  neg: elementwise('Neg', (o, _, __, ___, g) => [o.neg(g)]),
  sqrt: elementwise('Sqrt', (o, _, __, out, g) => [o.div(g, o.mul(out, o.scalar(2)))]),
  exp: elementwise('Exp', (o, _, __, out, g) => [o.mul(g, out)]),
  log: elementwise('Log', (o, [x], _, __, g) => [o.div(g, x)]),
  cos: elementwise('Cos', (o, [x], _, __, g) => [o.neg(o.mul(g, o.sin(x)))]),
  sin: elementwise('Sin', (o, [x], _, __, g) => [o.mul(g, o.cos(x))]),
  acos: elementwise('Acos', (o, [x], _, __, g) => [o.neg(o.div(g, o.sqrt(o.sub(o.scalar(1), o.mul(x, x)))))]),
  floor: elementwise('Floor', noGradient),
  stopGradient: elementwise('Identity', noGradient),
  clip: {
    lower: (onnx, [x], { min, max }, out) => {
      onnx.node('Clip', [x, onnx.constant('float32', [min], []), onnx.constant('float32', [max], [])], out);
    },
    // The gradient passes where min ≤ x ≤ max (inclusive), as the op set specifies.
    vjp: (o, [x], { min, max }, __, g) => {
      const outside = o.maximum(mask(o, o.less(x, o.scalar(min))), mask(o, o.greater(x, o.scalar(max))));
      return [o.mul(g, not(o, outside))];
    },
  },
  cast: {
    lower: (onnx, [x], { dtype }, out) => {
      onnx.node('Cast', [x], out, [intAttr('to', ONNX_DTYPE[dtype])]);
    },
    vjp: (_, [x], { dtype }, __, g) => (x.dtype === 'float32' && dtype === 'float32' ? [g] : [undefined]),
  },
};
