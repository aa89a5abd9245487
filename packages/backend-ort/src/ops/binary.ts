import { type OpRule, type OpRuleFamily, noGradient } from './op-rule.js';
import { mask, not, twice, unbroadcast } from './vjp-helpers.js';

/** The broadcasting binary ops. */
type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater' | 'less';

/** A NumPy-broadcasting binary op computed by the ONNX node `onnxType`. */
function binary(onnxType: string, vjp: OpRule<BinaryOp>['vjp']): OpRule<BinaryOp> {
  return {
    lower: (onnx, [a, b], _, out) => {
      onnx.node(onnxType, [a, b], out);
    },
    vjp,
  };
}

/** Elementwise arithmetic and comparisons, broadcasting NumPy-style. @internal */
export const BINARY_RULES: OpRuleFamily<BinaryOp> = {
  add: binary('Add', (o, [a, b], _, __, g) => [unbroadcast(o, g, a.shape), unbroadcast(o, g, b.shape)]),
  // Negations after the reduction: on the smaller tensor when b was broadcast.
  sub: binary('Sub', (o, [a, b], _, __, g) => [unbroadcast(o, g, a.shape), o.neg(unbroadcast(o, g, b.shape))]),
  // A square x·x gets one cotangent 2·g·x, not g·x added to itself (a pass fewer over x's shape).
  mul: binary('Mul', (o, [a, b], _, __, g) =>
    a.id === b.id ? [unbroadcast(o, o.mul(twice(o, g), a), a.shape)] : [unbroadcast(o, o.mul(g, b), a.shape), unbroadcast(o, o.mul(g, a), b.shape)],
  ),
  div: binary('Div', (o, [a, b], _, out, g) => {
    const ga = o.div(g, b);
    return [unbroadcast(o, ga, a.shape), o.neg(unbroadcast(o, o.mul(ga, out), b.shape))];
  }),
  // Ties go to a (the op set's contract).
  maximum: binary('Max', (o, [a, b], _, __, g) => {
    const toB = mask(o, o.less(a, b));
    return [unbroadcast(o, o.mul(g, not(o, toB)), a.shape), unbroadcast(o, o.mul(g, toB), b.shape)];
  }),
  minimum: binary('Min', (o, [a, b], _, __, g) => {
    const toB = mask(o, o.greater(a, b));
    return [unbroadcast(o, o.mul(g, not(o, toB)), a.shape), unbroadcast(o, o.mul(g, toB), b.shape)];
  }),
  greater: binary('Greater', noGradient),
  less: binary('Less', noGradient),
};

/**
 * The ops whose ONNX node broadcasts its two inputs: a consumer the lowering may let read a
 * smaller tensor that broadcasts to the same result. @internal
 */
export const BROADCASTING_OPS: ReadonlySet<string> = new Set(Object.keys(BINARY_RULES));
