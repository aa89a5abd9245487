import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import { describe, expect, it } from 'vitest';
import { ortBackend } from './backend.js';
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
});
