import { type Ops, UnsupportedOpError, formatShape } from '@marginkit/core';
import type { OrtTensor } from '../graph.js';

type O = Ops<OrtTensor>;

/** A float32 constant whose every value is 1. @internal */
export function isOnes(t: OrtTensor): boolean {
  if (t.node.kind !== 'op' || t.node.op !== 'constant' || t.dtype !== 'float32') return false;
  const { values } = t.node.attrs;
  return typeof values === 'number' ? values === 1 : Array.from(values).every((v) => v === 1);
}

/**
 * 2·g, with the 2 applied before the broadcast when g is a smaller tensor broadcast by a product
 * with ones (as the VJP of a reduction writes it), so no pass over the broadcast shape is added. @internal
 */
export function twice(o: O, g: OrtTensor): OrtTensor {
  if (g.node.kind === 'op' && g.node.op === 'mul') {
    const [p, q] = g.node.inputs as readonly [OrtTensor, OrtTensor];
    if (isOnes(q)) return o.mul(o.mul(p, o.scalar(2)), q);
    if (isOnes(p)) return o.mul(p, o.mul(q, o.scalar(2)));
  }
  return o.mul(g, o.scalar(2));
}

/** Zeros of x's shape (also where x is NaN or ±∞: x > x is false for every value). @internal */
export const zerosLike = (o: O, x: OrtTensor): OrtTensor => o.cast(o.greater(x, x), 'float32');
/** Ones of x's shape. @internal */
const onesLike = (o: O, x: OrtTensor): OrtTensor => o.sub(o.scalar(1), zerosLike(o, x));
/** A bool mask as 0/1 floats. @internal */
export const mask = (o: O, b: OrtTensor): OrtTensor => o.cast(b, 'float32');
/** 1 − m for a 0/1 mask. @internal */
export const not = (o: O, m: OrtTensor): OrtTensor => o.sub(o.scalar(1), m);

/**
 * Sums a cotangent of the broadcast shape down to an input's shape (the adjoint of broadcasting).
 * A dimension of size 1 in the input that is not 1 in the output is summed with keepDims; leading
 * dimensions the input lacks are summed away. @internal
 */
export function unbroadcast(o: O, g: OrtTensor, shape: readonly number[]): OrtTensor {
  let r = g;
  const lead = r.shape.length - shape.length;
  for (let i = 0; i < lead; i++) r = o.sum(r, 0, false);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && r.shape[i] !== 1) r = o.sum(r, i, true);
  }
  return r;
}

/** Broadcasts a reduced cotangent (reduced along `axis`, kept or not) back to x's shape. @internal */
export function unreduce(o: O, g: OrtTensor, x: OrtTensor, axis: number, keepDims: boolean): OrtTensor {
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

/** x's shape with the axis set to 1, with at most one unknown dimension written as −1. @internal */
export function keepShape(shape: readonly number[], axis: number): number[] {
  const s = shape.map((d, i) => (i === axis ? 1 : d));
  if (s.filter((d) => d < 0).length > 1) {
    throw new UnsupportedOpError('reshape', `cannot differentiate a reduction of ${formatShape(shape)}: more than one unknown dimension`);
  }
  return s;
}

/** The count of elements along an axis, as a tensor when the size is unknown statically. @internal */
export function count(o: O, x: OrtTensor, axis: number): OrtTensor {
  const n = x.shape[axis]!;
  return n >= 0 ? o.scalar(n) : o.sum(onesLike(o, x), axis, true);
}
