import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import type { Ops } from '@marginkit/core';
import { describe, expect, it } from 'vitest';
import { ortBackend } from './backend.js';
import type { OrtTensor } from './graph.js';
import { decodeModel } from './onnx.js';
import { ORT_VARIANTS, ortModule, values } from '../test/ort-variants.js';

const R = 3;
const K = 4;

/** The ONNX node types of a model. */
function nodeTypes(bytes: Uint8Array): string[] {
  const model = decodeModel(bytes) as { graph: { node: { opType: string }[] } };
  return model.graph.node.map((n) => n.opType);
}

describe.each(ORT_VARIANTS)('fused lowering on ort-%s', (variant) => {
  const rng = seededRandom(4);
  const data = Float32Array.from({ length: R * K }, () => rng.normal());
  const row = (i: number): number[] => Array.from(data.slice(i * K, (i + 1) * K));

  it('max(x, −x) is one Abs and Σ v² one ReduceSumSquare, with the values of the ops (float64 reference)', async () => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [R, K]);
    const abs = o.maximum(o.neg(x), x);
    const squares = o.sum(o.mul(abs, abs), 1);
    const outputs = { abs, squares };
    const types = nodeTypes(backend.exportOnnx(outputs));
    expect(types).toContain('Abs');
    expect(types).toContain('ReduceSumSquare');
    expect(types).not.toContain('Max');
    expect(types).not.toContain('Mul');
    const graph = await backend.compile(outputs);
    const out = await graph.run({ x: { data, dims: [R, K] } });
    expect(values(out['abs']!)).toEqual(Array.from(data, Math.abs));
    const ref = Array.from({ length: R }, (_, i) => row(i).reduce((s, v) => s + v * v, 0));
    expect(compareNormwise(values(out['squares']!), ref, 1e-6)).toBeUndefined();
    await backend.dispose();
  });

  it('max(−x) over an axis is −ReduceMin(x), with no full-size Neg, and the values of the ops', async () => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [R, K]);
    const outputs = { top: o.maximum(o.max(x, 1, true), o.max(o.neg(x), 1, true)) };
    const model = decodeModel(backend.exportOnnx(outputs)) as { graph: { node: { opType: string; input: string[] }[] } };
    const types = model.graph.node.map((n) => n.opType);
    expect(types).toContain('ReduceMin');
    // The only Neg left negates the [R, 1] minimum, not x.
    expect(model.graph.node.filter((n) => n.opType === 'Neg' && n.input.includes('x'))).toEqual([]);
    const out = await backend.run([outputs.top], { x: { data, dims: [R, K] } });
    expect(values(out[0]!)).toEqual(Array.from({ length: R }, (_, i) => Math.max(...row(i).map(Math.abs))));
    await backend.dispose();
  });

  it('a −x that is read elsewhere stays one Neg (max(−x) is not rewritten)', async () => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [R, K]);
    const n = o.neg(x);
    const types = nodeTypes(backend.exportOnnx({ n, top: o.max(n, 1) }));
    expect(types).not.toContain('ReduceMin');
    expect(types.filter((t) => t === 'Neg')).toHaveLength(1);
    await backend.dispose();
  });

  it('a square that is read elsewhere stays a Mul (the rewrite does not duplicate work)', async () => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [R, K]);
    const sq = o.mul(x, x);
    const outputs = { sq, total: o.sum(sq, 1) };
    const types = nodeTypes(backend.exportOnnx(outputs));
    expect(types).not.toContain('ReduceSumSquare');
    expect(types.filter((t) => t === 'Mul')).toHaveLength(1);
    const out = await backend.run([outputs.total], { x: { data, dims: [R, K] } });
    const ref = Array.from({ length: R }, (_, i) => row(i).reduce((s, u) => s + u * u, 0));
    expect(compareNormwise(values(out[0]!), ref, 1e-6)).toBeUndefined();
    await backend.dispose();
  });

  it('the gradient of Σ x² is 2x, written without adding g·x to itself', async () => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [R, K]);
    const y = o.sum(o.sum(o.mul(x, x), 1), 0);
    const [g] = backend.gradients(y, [x]);
    expect(nodeTypes(backend.exportOnnx({ g: g! }))).not.toContain('Add');
    const out = await backend.run([g!], { x: { data, dims: [R, K] } });
    expect(values(out[0]!)).toEqual(Array.from(data, (v) => 2 * v));
    await backend.dispose();
  });

  it('the row maximum of |x| reads x twice (ReduceMax, ReduceMin) instead of writing |x|', async () => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [R, K]);
    const top = o.max(o.maximum(x, o.neg(x)), 1, true);
    const types = nodeTypes(backend.exportOnnx({ top }));
    expect(types).toContain('ReduceMin');
    expect(types).not.toContain('Abs');
    const out = await backend.run([top], { x: { data, dims: [R, K] } });
    expect(values(out[0]!)).toEqual(Array.from({ length: R }, (_, i) => Math.max(...row(i).map(Math.abs))));
    await backend.dispose();
  });

  it.each([
    ['div', (o: Ops<OrtTensor>, a: OrtTensor, b: OrtTensor) => o.div(a, b), (a: number, b: number) => a / b],
    ['mul', (o: Ops<OrtTensor>, a: OrtTensor, b: OrtTensor) => o.mul(b, a), (a: number, b: number) => a * b],
  ] as const)('a scalar times %s(a, b) with b a column applies the scalar to b (no pass over a)', async (_, inner, ref) => {
    const backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const a = backend.placeholder('a', [R, K]);
    const b = backend.placeholder('b', [R, 1]);
    const y = o.mul(inner(o, a, b), o.scalar(-0.5));
    const bytes = backend.exportOnnx({ y });
    const model = decodeModel(bytes) as { graph: { node: { opType: string; input: string[] }[] } };
    // The last arithmetic node reads `a` itself: the scalar went to b.
    const last = model.graph.node.filter((n) => n.opType !== 'Identity').at(-1)!;
    expect(last.input).toContain('a');
    const col = Float32Array.from({ length: R }, (_, i) => 0.5 + i);
    const out = await backend.run([y], { a: { data, dims: [R, K] }, b: { data: col, dims: [R, 1] } });
    const expected = Array.from(data, (v, k) => -0.5 * ref(v, col[Math.floor(k / K)]!));
    expect(compareNormwise(values(out[0]!), expected, 1e-6)).toBeUndefined();
    await backend.dispose();
  });

  describe('a one-hot mask, z − oneHot(i)·m, is one ScatterElements', () => {
    const col = Float32Array.from({ length: R }, (_, i) => (i * 3 + 1) % K);
    const mask = Float32Array.from({ length: R }, (_, i) => (i === 1 ? 0 : 1e38 / (i + 1)));
    const feeds = { z: { data, dims: [R, K] }, col: { data: col, dims: [R] }, m: { data: mask, dims: [R, 1] } };
    /** z − m at each row's column, z elsewhere, each entry rounded once (the op's own arithmetic). */
    const expected = Array.from(data, (v, k) => (k % K === col[Math.floor(k / K)] ? Math.fround(v - mask[Math.floor(k / K)]!) : v));
    const graph = (backend: ReturnType<typeof ortBackend>, build: (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => OrtTensor) => {
      const o = backend.tensorOps;
      const z = backend.placeholder('z', [R, K]);
      const m = backend.placeholder('m', [R, 1]);
      return build(o, z, backend.placeholder('col', [R]), m);
    };
    const clipped = (o: Ops<OrtTensor>, i: OrtTensor, hi = K - 1) => o.cast(o.clip(i, 0, hi), 'int32');

    it.each([
      ['oneHot(i)·m', (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => o.sub(z, o.mul(o.oneHot(clipped(o, i), K), m))],
      ['m·oneHot(i)', (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => o.sub(z, o.mul(m, o.oneHot(clipped(o, i), K)))],
    ])('%s: no one-hot, product or difference of [B, C] is written, and the values are the ops’', async (_, build) => {
      const backend = ortBackend(ortModule(variant));
      const y = graph(backend, build);
      const types = nodeTypes(backend.exportOnnx({ y }));
      expect(types).toContain('ScatterElements');
      for (const t of ['Equal', 'Sub', 'Mul']) expect(types, t).not.toContain(t);
      const out = await backend.run([y], feeds);
      expect(values(out[0]!)).toEqual(expected);
      await backend.dispose();
    });

    it.each([
      [
        'an index that is not clipped (an out-of-range index gives a zero row, not an error)',
        (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => o.sub(z, o.mul(o.oneHot(o.cast(i, 'int32'), K), m)),
      ],
      ['a clip past the last column', (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => o.sub(z, o.mul(o.oneHot(clipped(o, i, K), K), m))],
      ['a mask of the full shape', (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor) => o.sub(z, o.mul(o.oneHot(clipped(o, i), K), z))],
      [
        'a one-hot of depth 1 broadcast over the columns',
        (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => o.sub(z, o.mul(o.oneHot(o.cast(o.clip(i, 0, 0), 'int32'), 1), m)),
      ],
      [
        'a one-hot of one row broadcast over the rows',
        (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) =>
          o.sub(z, o.mul(o.oneHot(clipped(o, o.reshape(o.sum(i, 0), [1])), K), o.reshape(o.sum(m, 0), [1, 1]))),
      ],
      [
        'a one-hot read elsewhere',
        (o: Ops<OrtTensor>, z: OrtTensor, i: OrtTensor, m: OrtTensor) => {
          const hot = o.oneHot(clipped(o, i), K);
          return o.add(o.sub(z, o.mul(hot, m)), hot);
        },
      ],
    ])('is not applied to %s', async (_, build) => {
      const backend = ortBackend(ortModule(variant));
      const y = graph(backend, build);
      expect(nodeTypes(backend.exportOnnx({ y }))).not.toContain('ScatterElements');
      await backend.dispose();
    });
  });
});
