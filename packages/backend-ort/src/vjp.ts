import { InvalidArgumentError, type OpName, type Ops, ShapeError, UnsupportedOpError } from '@marginkit/core';
import { type OrtTensor, formatShape, topologicalOrder } from './graph.js';

/**
 * A vector-Jacobian rule: given the op's inputs, attributes, output and the cotangent of the
 * output, the cotangents of the inputs (`undefined` where no gradient flows). Written with the op
 * set itself, so gradient graphs lower to ONNX like any other graph.
 */
type VjpRule = (
  ops: Ops<OrtTensor>,
  inputs: readonly OrtTensor[],
  attrs: Readonly<Record<string, unknown>>,
  out: OrtTensor,
  g: OrtTensor,
) => (OrtTensor | undefined)[];

/** Zeros of x's shape (also where x is NaN or ±∞: x > x is false for every value). */
const zerosLike = (o: Ops<OrtTensor>, x: OrtTensor): OrtTensor => o.cast(o.greater(x, x), 'float32');
const onesLike = (o: Ops<OrtTensor>, x: OrtTensor): OrtTensor => o.sub(o.scalar(1), zerosLike(o, x));
/** A bool mask as 0/1 floats. */
const mask = (o: Ops<OrtTensor>, b: OrtTensor): OrtTensor => o.cast(b, 'float32');
const not = (o: Ops<OrtTensor>, m: OrtTensor): OrtTensor => o.sub(o.scalar(1), m);

/**
 * Sums a cotangent of the broadcast shape down to an input's shape (the adjoint of broadcasting).
 * A dimension of size 1 in the input that is not 1 in the output is summed with keepDims; leading
 * dimensions the input lacks are summed away.
 */
function unbroadcast(o: Ops<OrtTensor>, g: OrtTensor, shape: readonly number[]): OrtTensor {
  let r = g;
  const lead = r.shape.length - shape.length;
  for (let i = 0; i < lead; i++) r = o.sum(r, 0, false);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && r.shape[i] !== 1) r = o.sum(r, i, true);
  }
  return r;
}

/** Broadcasts a reduced cotangent (reduced along `axis`, kept or not) back to x's shape. */
function unreduce(o: Ops<OrtTensor>, g: OrtTensor, x: OrtTensor, axis: number, keepDims: boolean): OrtTensor {
  const kept = keepDims ? g : o.reshape(g, keepShape(x.shape, axis));
  const n = x.shape[axis]!;
  if (n >= 0) {
    // Broadcast with ones along the reduced axis only: [.., 1, ..] · [1, .., n, .., 1].
    const ones = o.constant(
      1,
      x.shape.map((d, i) => (i === axis ? d : 1)),
    );
    return o.mul(kept, ones);
  }
  return o.mul(kept, onesLike(o, x));
}

/** x's shape with the axis set to 1, with at most one unknown dimension written as −1. */
function keepShape(shape: readonly number[], axis: number): number[] {
  const s = shape.map((d, i) => (i === axis ? 1 : d));
  if (s.filter((d) => d < 0).length > 1) {
    throw new UnsupportedOpError('reshape', `cannot differentiate a reduction of ${formatShape(shape)}: more than one unknown dimension`);
  }
  return s;
}

/** The count of elements along an axis, as a tensor when the size is unknown statically. */
function count(o: Ops<OrtTensor>, x: OrtTensor, axis: number): OrtTensor {
  const n = x.shape[axis]!;
  return n >= 0 ? o.scalar(n) : o.sum(onesLike(o, x), axis, true);
}

const RULES: Record<OpName, VjpRule | undefined> = {
  constant: undefined,
  greater: undefined,
  less: undefined,
  floor: undefined,
  oneHot: undefined,
  stopGradient: undefined,
  add: (o, [a, b], _, __, g) => [unbroadcast(o, g, a!.shape), unbroadcast(o, g, b!.shape)],
  // Negations after the reduction: on the smaller tensor when b was broadcast.
  sub: (o, [a, b], _, __, g) => [unbroadcast(o, g, a!.shape), o.neg(unbroadcast(o, g, b!.shape))],
  mul: (o, [a, b], _, __, g) => [unbroadcast(o, o.mul(g, b!), a!.shape), unbroadcast(o, o.mul(g, a!), b!.shape)],
  div: (o, [a, b], _, out, g) => {
    const ga = o.div(g, b!);
    return [unbroadcast(o, ga, a!.shape), o.neg(unbroadcast(o, o.mul(ga, out), b!.shape))];
  },
  // Ties go to a (the op set's contract).
  maximum: (o, [a, b], _, __, g) => {
    const toB = mask(o, o.less(a!, b!));
    return [unbroadcast(o, o.mul(g, not(o, toB)), a!.shape), unbroadcast(o, o.mul(g, toB), b!.shape)];
  },
  minimum: (o, [a, b], _, __, g) => {
    const toB = mask(o, o.greater(a!, b!));
    return [unbroadcast(o, o.mul(g, not(o, toB)), a!.shape), unbroadcast(o, o.mul(g, toB), b!.shape)];
  },
  where: (o, [c, a, b], _, __, g) => {
    const m = mask(o, c!);
    return [undefined, unbroadcast(o, o.mul(g, m), a!.shape), unbroadcast(o, o.mul(g, not(o, m)), b!.shape)];
  },
  neg: (o, _, __, ___, g) => [o.neg(g)],
  sqrt: (o, _, __, out, g) => [o.div(g, o.mul(out, o.scalar(2)))],
  exp: (o, _, __, out, g) => [o.mul(g, out)],
  log: (o, [x], _, __, g) => [o.div(g, x!)],
  cos: (o, [x], _, __, g) => [o.neg(o.mul(g, o.sin(x!)))],
  sin: (o, [x], _, __, g) => [o.mul(g, o.cos(x!))],
  acos: (o, [x], _, __, g) => [o.neg(o.div(g, o.sqrt(o.sub(o.scalar(1), o.mul(x!, x!)))))],
  // The gradient passes where min ≤ x ≤ max (inclusive), as the op set specifies.
  clip: (o, [x], attrs, __, g) => {
    const outside = o.maximum(mask(o, o.less(x!, o.scalar(attrs['min'] as number))), mask(o, o.greater(x!, o.scalar(attrs['max'] as number))));
    return [o.mul(g, not(o, outside))];
  },
  sum: (o, [x], attrs, __, g) => [unreduce(o, g, x!, attrs['axis'] as number, attrs['keepDims'] as boolean)],
  mean: (o, [x], attrs, __, g) => {
    const axis = attrs['axis'] as number;
    return [o.div(unreduce(o, g, x!, axis, attrs['keepDims'] as boolean), count(o, x!, axis))];
  },
  // The whole cotangent goes to every position that attains the maximum.
  max: (o, [x], attrs, out, g) => {
    const axis = attrs['axis'] as number;
    const keep = attrs['keepDims'] as boolean;
    const top = keep ? out : o.reshape(out, keepShape(x!.shape, axis));
    return [o.mul(unreduce(o, g, x!, axis, keep), not(o, mask(o, o.less(x!, top))))];
  },
  logSumExp: (o, [x], attrs, out, g) => {
    const axis = attrs['axis'] as number;
    const keep = attrs['keepDims'] as boolean;
    const lse = keep ? out : o.reshape(out, keepShape(x!.shape, axis));
    return [o.mul(unreduce(o, g, x!, axis, keep), o.exp(o.sub(x!, lse)))];
  },
  reshape: (o, [x], _, __, g) => {
    if (x!.shape.filter((d) => d < 0).length > 1) {
      throw new UnsupportedOpError('reshape', `cannot differentiate a reshape of ${formatShape(x!.shape)}: more than one unknown dimension`);
    }
    return [o.reshape(g, x!.shape)];
  },
  matmul: (o, [a, b], attrs, __, g) => {
    const ta = attrs['transposeA'] as boolean;
    const tb = attrs['transposeB'] as boolean;
    // C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back when A was), dB likewise.
    const ga = ta ? o.matmul(b!, g, { transposeA: tb, transposeB: true }) : o.matmul(g, b!, { transposeB: !tb });
    const gb = tb ? o.matmul(g, a!, { transposeA: true, transposeB: ta }) : o.matmul(a!, g, { transposeA: !ta });
    return [ga, gb];
  },
  gatherPerRow: (o, [x, idx], _, __, g) => {
    const depth = x!.shape[1]!;
    if (depth < 0) throw new UnsupportedOpError('gatherPerRow', `cannot differentiate with an unknown number of columns: x is ${formatShape(x!.shape)}`);
    return [o.mul(o.oneHot(idx!, depth), o.reshape(g, [-1, 1])), undefined];
  },
  cast: (_, [x], attrs, __, g) => (x!.dtype === 'float32' && attrs['dtype'] === 'float32' ? [g] : [undefined]),
};

/**
 * Reverse-mode differentiation of a traced graph: the symbolic gradients of `y` with respect to
 * each of `xs`, built from the ops' vector-Jacobian rules. `dy` seeds the cotangent of `y`
 * (default 1 for a scalar `y`). A tensor `y` does not depend on gets zeros.
 * @internal
 */
export function vjp(ops: Ops<OrtTensor>, y: OrtTensor, xs: readonly OrtTensor[], dy?: OrtTensor): OrtTensor[] {
  if (y.dtype !== 'float32') throw new InvalidArgumentError('y', `must be float32 to differentiate, got ${y.dtype}`);
  if (dy === undefined && y.shape.length !== 0) {
    throw new ShapeError('y', `must be a scalar without dy, got shape ${formatShape(y.shape)}; pass dy (the cotangent) for a tensor`);
  }
  if (dy !== undefined && (dy.dtype !== 'float32' || dy.shape.join() !== y.shape.join())) {
    throw new ShapeError('dy', `must be float32 of y's shape ${formatShape(y.shape)}, got ${dy.dtype} ${formatShape(dy.shape)}`);
  }
  xs.forEach((x, i) => {
    if (x.dtype !== 'float32') throw new InvalidArgumentError(`xs[${i}]`, `must be float32 to differentiate with respect to, got ${x.dtype}`);
  });
  const order = topologicalOrder([y]);
  // Only nodes on a path to some x need cotangents.
  const wanted = new Set(xs.map((x) => x.id));
  const onPath = new Set<number>();
  for (const t of order) {
    if (wanted.has(t.id) || (t.node.kind === 'op' && t.node.inputs.some((i) => onPath.has(i.id)))) onPath.add(t.id);
  }
  const cot = new Map<number, OrtTensor>();
  cot.set(y.id, dy ?? ops.scalar(1));
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k]!;
    const g = cot.get(t.id);
    if (!g || t.node.kind !== 'op' || !onPath.has(t.id)) continue;
    const { op, inputs, attrs } = t.node;
    const rule = RULES[op];
    if (!rule) continue;
    const grads = rule(ops, inputs, attrs as Readonly<Record<string, unknown>>, t, g);
    inputs.forEach((input, i) => {
      const gi = grads[i];
      if (!gi || !onPath.has(input.id)) return;
      const prev = cot.get(input.id);
      cot.set(input.id, prev ? ops.add(prev, gi) : gi);
    });
  }
  return xs.map((x) => cot.get(x.id) ?? zerosLike(ops, x));
}
