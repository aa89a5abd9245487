import { OP_NAMES, type OpName, type Ops, createOps } from '@marginkit/core';
import { RefTensor, compareNormwise, referenceBackend } from '@marginkit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type OrtBackend, ortBackend } from '../backend.js';
import type { OrtTensor } from '../graph.js';
import { ORT_VARIANTS, ortModule, values } from '../../test/ort-variants.js';
import { OP_RULES } from './index.js';
import type { OpRules } from './op-rule.js';

// Compile-time completeness (checked by `tsc`, which type-checks this file): a table that lacks an
// op, or an entry that lacks one of its three rules, is not an OpRules.
const { floor: _floor, ...withoutFloor } = OP_RULES;
// @ts-expect-error — `floor` is missing
const missingOp: OpRules = withoutFloor;
// @ts-expect-error — the entry of `floor` has no `vjp`
const partialRule: OpRules = { ...OP_RULES, floor: { lower: OP_RULES.floor.lower } };

const B = 4;
const D = 3;
// Points away from every kink of the graph below (floor(3x) steps at k/3, clip at ±0.5, minimum at
// 0.3, the comparisons with c and 0), so that central differences are exact to ~1e-9 there.
const X = [0.71, -0.42, 0.27, -0.83, 0.12, 0.58, 0.44, -0.17, -0.61, 0.91, 0.23, -0.09];
const W = [0.3, -0.7, 0.5, -0.2, 0.8, 0.1];
const Y = [0, 1, 1, 0];

/**
 * A graph using every op of the op set, keyed by op name: the value under `op` is made by `op`.
 * Typed as a record over OpName, so an op added to the op set must be added here to compile.
 * `stopped` is the input of stopGradient: x, or for finite differences x held at the base point.
 */
function everyOp<T>(o: Ops<T>, x: T, w: T, y: T, stopped: T): Record<OpName, T> {
  const constant = o.constant([0.5, -0.25, 0.125], [1, D]);
  const matmul = o.matmul(x, w, { transposeB: true });
  const add = o.add(x, constant);
  const mul = o.mul(add, x);
  const greater = o.greater(x, constant);
  const floor = o.floor(o.mul(x, o.scalar(3)));
  const cast = o.cast(floor, 'int32');
  const sqrt = o.sqrt(o.add(mul, o.scalar(1)));
  return {
    constant,
    matmul,
    add,
    sub: o.sub(add, o.scalar(0.1)),
    mul,
    div: o.div(x, sqrt),
    maximum: o.maximum(x, constant),
    minimum: o.minimum(x, o.scalar(0.3)),
    greater,
    less: o.less(x, o.scalar(0)),
    where: o.where(greater, x, o.mul(x, o.scalar(2))),
    neg: o.neg(x),
    sqrt,
    exp: o.exp(x),
    log: o.log(sqrt),
    cos: o.cos(x),
    sin: o.sin(x),
    acos: o.acos(o.mul(x, o.scalar(0.5))),
    floor,
    clip: o.clip(x, -0.5, 0.5),
    sum: o.sum(matmul, 1, false),
    mean: o.mean(x, 0, true),
    max: o.max(x, 1, false),
    logSumExp: o.logSumExp(matmul, 1, true),
    reshape: o.reshape(x, [-1]),
    gatherPerRow: o.gatherPerRow(matmul, y),
    oneHot: o.oneHot(y, 2),
    stopGradient: o.stopGradient(stopped),
    cast: o.cast(cast, 'float32'),
  };
}

/** A scalar depending on every float32 result, each with its own weight (so errors cannot cancel). */
function total<T>(o: Ops<T>, outs: Record<OpName, T>): T {
  const terms = OP_NAMES.filter((op) => o.dtype(outs[op]) === 'float32').map((op, k) =>
    o.mul(o.sum(o.reshape(outs[op], [-1]), 0, false), o.scalar((k + 1) / 10)),
  );
  return terms.reduce((acc, t) => o.add(acc, t));
}

/** Every op's value and the total on the float64 reference backend, stopGradient's input held at X. */
function reference(x: readonly number[], w: readonly number[]): { outs: Record<OpName, RefTensor>; total: number } {
  const o = createOps(referenceBackend());
  const t = (v: readonly number[], shape: number[], dtype: 'float32' | 'int32') => new RefTensor(shape, dtype, Float64Array.from(v));
  const outs = everyOp(o, t(x, [B, D], 'float32'), t(w, [B / 2, D], 'float32'), t(Y, [B], 'int32'), t(X, [B, D], 'float32'));
  return { outs, total: total(o, outs).data[0]! };
}

const feeds = (x: readonly number[], w: readonly number[]) => ({
  x: { data: Float32Array.from(x), dims: [B, D] },
  w: { data: Float32Array.from(w), dims: [B / 2, D] },
  y: { data: Int32Array.from(Y), dims: [B] },
});

/** ∂total/∂v by central differences in float64. */
function centralDifferences(f: (v: number[]) => number, at: readonly number[], h = 1e-6): number[] {
  return at.map((_, i) => {
    const up = [...at];
    const down = [...at];
    up[i]! += h;
    down[i]! -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

describe('the op table', () => {
  it('has one complete rule per op of the op set', () => {
    expect(Object.keys(OP_RULES).sort()).toEqual([...OP_NAMES].sort());
    for (const op of OP_NAMES) expect(Object.keys(OP_RULES[op]).sort(), op).toEqual(['lower', 'vjp']);
    expect(missingOp).not.toHaveProperty('floor');
    expect(partialRule.floor).not.toHaveProperty('vjp');
  });
});

describe.each(ORT_VARIANTS)('ort-%s: a graph using every op', (variant) => {
  let backend: OrtBackend;
  afterEach(async () => {
    await backend?.dispose();
  });

  // With the batch known, every static shape is known and must be exactly what ONNX Runtime computes.
  it.each([
    ['an unknown', -1],
    ['a known', B],
  ])('with %s batch, infers the shapes and dtypes ONNX Runtime computes, and the float64 values', async (_, batch) => {
    backend = ortBackend(ortModule(variant));
    const x = backend.placeholder('x', [batch, D]);
    const w = backend.placeholder('w', [B / 2, D]);
    const y = backend.placeholder('y', [batch], 'int32');
    const outs = everyOp(backend.tensorOps, x, w, y, x);
    for (const op of OP_NAMES) expect((outs[op] as OrtTensor).node, op).toMatchObject({ kind: 'op', op });
    const graph = await backend.compile(outs);
    const run = await graph.run(feeds(X, W));
    const ref = reference(X, W).outs;
    for (const op of OP_NAMES) {
      const { shape, dtype } = outs[op];
      const got = run[op]!;
      expect(got.dims, `${op} (reference)`).toEqual(ref[op].shape);
      expect(got.dims.length, op).toBe(shape.length);
      got.dims.forEach((d, i) => {
        if (batch > 0 || shape[i]! >= 0) expect(shape[i], `${op} dimension ${i}`).toBe(d);
      });
      expect(got.type, op).toBe(dtype);
      expect(compareNormwise(values(got), ref[op].data, 1e-5), op).toBeUndefined();
    }
    await graph.dispose();
  });

  it('differentiates it: the VJP graphs give the float64 central differences', async () => {
    backend = ortBackend(ortModule(variant));
    const x = backend.placeholder('x', [-1, D]);
    const w = backend.placeholder('w', [B / 2, D]);
    const y = backend.placeholder('y', [-1], 'int32');
    const loss = total(backend.tensorOps, everyOp(backend.tensorOps, x, w, y, x));
    const [dx, dw] = backend.gradients(loss, [x, w]);
    const graph = await backend.compile({ loss, dx: dx!, dw: dw! });
    const run = await graph.run(feeds(X, W));
    expect(compareNormwise(values(run['loss']!), [reference(X, W).total], 1e-5)).toBeUndefined();
    expect(
      compareNormwise(
        values(run['dx']!),
        centralDifferences((v) => reference(v, W).total, X),
        1e-4,
      ),
    ).toBeUndefined();
    expect(
      compareNormwise(
        values(run['dw']!),
        centralDifferences((v) => reference(X, v).total, W),
        1e-4,
      ),
    ).toBeUndefined();
    await graph.dispose();
  });
});
