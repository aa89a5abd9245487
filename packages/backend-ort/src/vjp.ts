import { InvalidArgumentError, type Ops, ShapeError, formatShape } from '@marginkit/core';
import { type OrtTensor, topologicalOrder } from './graph.js';
import { nodeVjp } from './ops/index.js';
import { zerosLike } from './ops/vjp-helpers.js';

/**
 * Reverse-mode differentiation of a traced graph: the symbolic gradients of `y` with respect to
 * each of `xs`, built from each op's vector-Jacobian rule (`OP_RULES`). `dy` seeds the cotangent of `y`
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
    const grads = nodeVjp(ops, t.node, t, g);
    t.node.inputs.forEach((input, i) => {
      const gi = grads[i];
      if (!gi || !onPath.has(input.id)) return;
      const prev = cot.get(input.id);
      cot.set(input.id, prev ? ops.add(prev, gi) : gi);
    });
  }
  return xs.map((x) => cot.get(x.id) ?? zerosLike(ops, x));
}
