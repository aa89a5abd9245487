import { InvalidArgumentError, ShapeError, arcface, cosineLogits, marginSoftmaxLoss, sphereface } from '@marginkit/core';
import { type RefTensor, compareNormwise, expectTypedError, referenceBackend, seededRandom } from '@marginkit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import * as ortNode from 'onnxruntime-node';
import { type OrtBackend, type OrtModule, ortBackend } from './backend.js';
import { type DecodedModel, decodeModel } from './onnx.js';
import { canonicalize } from './structural-key.js';
import { ORT_VARIANTS, ortModule, values } from '../test/ort-variants.js';

const rng = seededRandom(7);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const labelsOf = (b: number, c: number): Int32Array => Int32Array.from({ length: b }, () => rng.int(c));

/** The float64 reference loss for the same inputs. */
function referenceLoss(margin: Parameters<typeof marginSoftmaxLoss>[1], x: Float32Array, w: Float32Array, y: Int32Array, d: number): number {
  const ref = referenceBackend();
  const t = (data: ArrayLike<number>, shape: number[], dtype: 'float32' | 'int32') => ref.ops.constant([], { values: Array.from(data), shape, dtype });
  const out = marginSoftmaxLoss(ref, margin)(t(x, [x.length / d, d], 'float32'), t(w, [w.length / d, d], 'float32'), t(y, [y.length], 'int32')) as RefTensor;
  return out.data[0]!;
}

describe.each(ORT_VARIANTS)('ort-%s: compile, cache, dispose', (variant) => {
  let backend: OrtBackend;
  afterEach(async () => {
    await backend?.dispose();
  });

  it('a compiled loss runs any batch size without recompiling, with the reference values', async () => {
    backend = ortBackend(ortModule(variant));
    const D = 8;
    const C = 5;
    const options = { margin: arcface({ m: 0.4 }), scale: 16 };
    const loss = marginSoftmaxLoss(backend, options)(
      backend.placeholder('embeddings', [-1, D]),
      backend.placeholder('centers', [C, D]),
      backend.placeholder('labels', [-1], 'int32'),
    );
    const graph = await backend.compile({ loss });
    expect(graph.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['embeddings', [-1, D]],
      ['centers', [C, D]],
      ['labels', [-1]],
    ]);
    const w = randn(C * D);
    for (const B of [1, 3, 17, 64]) {
      const x = randn(B * D);
      const y = labelsOf(B, C);
      const out = await graph.run({ embeddings: { data: x, dims: [B, D] }, centers: { data: w, dims: [C, D] }, labels: { data: y, dims: [B] } });
      expect(compareNormwise(values(out['loss']!), [referenceLoss(options, x, w, y, D)], 1e-5), `B = ${B}`).toBeUndefined();
    }
    expect(backend.stats().sessionsCreated).toBe(1);
    await graph.dispose();
  });

  it('tracing the same loss twice hits the cache; a different one does not', async () => {
    backend = ortBackend(ortModule(variant));
    const trace = (m: number) =>
      marginSoftmaxLoss(backend, { margin: arcface({ m }) })(
        backend.placeholder('x', [-1, 4]),
        backend.placeholder('w', [3, 4]),
        backend.placeholder('y', [-1], 'int32'),
      );
    const a = await backend.compile({ loss: trace(0.5) });
    const b = await backend.compile({ loss: trace(0.5) });
    expect(backend.stats()).toMatchObject({ sessionsCreated: 1, cacheHits: 1 });
    const c = await backend.compile({ loss: trace(0.3) });
    expect(backend.stats()).toMatchObject({ sessionsCreated: 2, cacheHits: 1, live: 2 });
    expect(a.model).toBe(b.model);
    expect(c.model).not.toEqual(a.model);
    await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
  });

  it('a cache hit feeds the bound values of the new trace, not those of the cached one', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const square = async (v: number[]) => {
      const x = backend.tensor(v, [2], 'float32', 'x');
      return values((await backend.run([o.mul(x, x)]))[0]!);
    };
    expect(await square([1, 2])).toEqual([1, 4]);
    expect(await square([3, 4])).toEqual([9, 16]);
    expect(backend.stats()).toMatchObject({ sessionsCreated: 1, cacheHits: 1 });
  });

  it('tensors given no name are named by position, so repeated traces share one session (heads, Partial FC)', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const step = async (a: number[], b: number[]) => {
      const x = backend.tensor(a, [2]); // auto-named: input0, input2, … on each trace
      const y = backend.variable!(Float32Array.from(b), [2]);
      return values((await backend.run([o.sub(o.mul(x, x), y)]))[0]!);
    };
    expect(await step([1, 2], [1, 1])).toEqual([0, 3]);
    expect(await step([3, 4], [2, 0])).toEqual([7, 16]);
    expect(await step([0, 1], [5, 5])).toEqual([-5, -4]);
    expect(backend.stats()).toMatchObject({ sessionsCreated: 1, cacheHits: 2 });
  });

  it('graphs whose large constants differ in one value get their own sessions and their own values', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [100]);
    const a = Array.from({ length: 100 }, (_, i) => i);
    const b = a.map((v, i) => (i === 99 ? -1 : v));
    const [ya] = await backend.run([o.add(x, o.constant(a, [100]))], { x: { data: new Float32Array(100), dims: [100] } });
    const [yb] = await backend.run([o.add(x, o.constant(b, [100]))], { x: { data: new Float32Array(100), dims: [100] } });
    expect(values(ya!)[99]).toBe(99);
    expect(values(yb!)[99]).toBe(-1);
    expect(backend.stats()).toMatchObject({ sessionsCreated: 2, cacheHits: 0 });
  });

  it('filled constants are keyed by value, shape and dtype (never hashed): equal ones share a session, others (−0 too) do not', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [3, 2]);
    const feeds = { x: { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [3, 2] } };
    const run = async (fill: number, shape: number[]) =>
      Array.from(values((await backend.run([o.div(o.scalar(1), o.add(x, o.constant(fill, shape)))], feeds))[0]!));
    const expected = [1, 2, 3, 4, 5, 6].map((v) => Math.fround(1 / (v + 1)));
    expect(await run(1, [3, 2])).toEqual(expected);
    expect(await run(1, [3, 2])).toEqual(expected);
    expect(backend.stats()).toMatchObject({ sessionsCreated: 1, cacheHits: 1 });
    expect((await run(2, [3, 2]))[0]).toBeCloseTo(1 / 3, 6);
    expect((await run(1, [1, 2]))[0]).toBeCloseTo(1 / 2, 6);
    // (x − x)·0 is +0 and (x − x)·(−0) is −0: their reciprocals tell the two fills apart.
    const zero = values((await backend.run([o.div(o.scalar(1), o.mul(o.sub(x, x), o.constant(0, [3, 2])))], feeds))[0]!);
    const negZero = values((await backend.run([o.div(o.scalar(1), o.mul(o.sub(x, x), o.constant(-0, [3, 2])))], feeds))[0]!);
    expect([zero[0], negZero[0]]).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(backend.stats()).toMatchObject({ sessionsCreated: 5 });
    // So are small constants spelled out in the key: [−0, 1] is not [0, 1].
    const small = async (c: number[]) => Array.from(values((await backend.run([o.div(o.scalar(1), o.mul(o.sub(x, x), o.constant(c, [1, 2])))], feeds))[0]!));
    expect((await small([0, 1]))[0]).toBe(Number.POSITIVE_INFINITY);
    expect((await small([-0, 1]))[0]).toBe(Number.NEGATIVE_INFINITY);
    // A large fill is spelled in the key, not kept as bytes to hash and compare.
    const big = canonicalize([['y', o.add(backend.placeholder('v', [1 << 20]), o.constant(1, [1 << 20]))]], new Set());
    expect(big.largeConstants).toEqual([]);
    expect(big.key).toContain('fill=1');
  });

  it('evicts least recently used sessions beyond cacheSize, and releases everything on dispose', async () => {
    backend = ortBackend(ortModule(variant), { cacheSize: 2 });
    const o = backend.tensorOps;
    const x = backend.tensor([1, 2, 3], [3]);
    for (const k of [1, 2, 3, 4]) {
      const [v] = await backend.run([o.mul(x, o.scalar(k))]);
      expect(values(v!)).toEqual([k, 2 * k, 3 * k]);
    }
    expect(backend.stats()).toMatchObject({ sessionsCreated: 4, live: 2 });
    // The most recent two are cached.
    await backend.run([o.mul(x, o.scalar(4))]);
    expect(backend.stats()).toMatchObject({ sessionsCreated: 4, cacheHits: 1 });
    const graph = await backend.compile({ y: o.neg(x) });
    await backend.dispose();
    expect(backend.stats().live).toBe(0);
    await expect(graph.run()).rejects.toThrow(/disposed|released|session/i);
    await graph.dispose(); // after the backend's dispose: no second release of the session
    expect(() => backend.placeholder('z', [1])).toThrow(/disposed/);
  });

  it('valueAndGradients gives f and its gradients (Σ x·w and its hand-derived gradients), each call in arrays of its own', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const f = (a: ReturnType<OrtBackend['placeholder']>, b: ReturnType<OrtBackend['placeholder']>) => o.sum(o.sum(o.mul(a, b), 1), 0);
    const xv = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const wv = Float32Array.from([0.5, -1, 2, 0, 3, -2]);
    const first = await backend.valueAndGradients!((a, b) => f(a!, b!), [backend.tensor(xv, [2, 3]), backend.tensor(wv, [2, 3])]);
    expect(first.value).toBe(xv.reduce((t, v, i) => t + v * wv[i]!, 0));
    expect(Array.from(first.gradients[0]!)).toEqual(Array.from(wv)); // d/dx Σ x·w = w
    expect(Array.from(first.gradients[1]!)).toEqual(Array.from(xv)); // d/dw Σ x·w = x
    const second = await backend.valueAndGradients!((a, b) => f(a!, b!), [backend.tensor(wv, [2, 3]), backend.tensor(wv, [2, 3])]);
    expect(Array.from(second.gradients[1]!)).toEqual(Array.from(wv));
    // The first call's arrays are not reused by the second.
    expect(Array.from(first.gradients[1]!)).toEqual(Array.from(xv));
    expect(first.gradients[0]).toBeInstanceOf(Float32Array);
  });

  it('share binds the array itself: read gives it back, and a run reads what was written to it since (variable copies)', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const held = new Float32Array(memory.buffer, 64, 6).fill(1);
    const shared = backend.share!(held, [2, 3]);
    const copied = backend.variable!(held, [2, 3]);
    expect(await backend.read!(shared)).toBe(held);
    expect(await backend.read!(copied)).not.toBe(held);
    held.set([1, 2, 3, 4, 5, 6]);
    const [a, b] = await backend.run([o.sum(o.sum(shared, 1), 0), o.sum(o.sum(copied, 1), 0)]);
    expect(values(a!)).toEqual([21]);
    expect(values(b!)).toEqual([6]);
  });

  it('share takes a Float32Array only, and checks the shape', () => {
    backend = ortBackend(ortModule(variant));
    expectTypedError(() => backend!.share!(Array.from([1, 2]) as never, [2]), { error: InvalidArgumentError, argument: 'share.values' });
    expectTypedError(() => backend!.share!(new Float32Array(3), [2, 2]), { error: ShapeError });
  });

  it('common subexpressions are merged before lowering', async () => {
    backend = ortBackend(ortModule(variant));
    const o = backend.tensorOps;
    const x = backend.placeholder('x', [-1, 3]);
    const twice = o.add(o.exp(x), o.exp(x));
    const model = decodeModel(backend.exportOnnx({ y: twice }));
    expect((model.graph?.node ?? []).filter((n) => n.opType === 'Exp')).toHaveLength(1);
  });
});

describe('export', () => {
  it('writes opset 17, IR 8, a symbolic batch dimension, and frozen centres as initialisers', () => {
    const backend = ortBackend(ortModule('node'));
    const x = backend.placeholder('embeddings', [-1, 4]);
    const w = backend.tensor(randn(12), [3, 4], 'float32', 'centers');
    const asInput = decodeModel(backend.exportOnnx({ cosines: cosineLogits(backend)(x, w) }));
    const frozen = decodeModel(backend.exportOnnx({ cosines: cosineLogits(backend)(x, w) }, { freeze: [w] }));
    const graph = (m: DecodedModel) => ({ input: m.graph?.input ?? [], initializer: m.graph?.initializer ?? [] });
    expect(asInput.irVersion).toBe(8);
    expect(asInput.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(graph(asInput).input.map((i) => i.name)).toEqual(['embeddings', 'centers']);
    expect(JSON.stringify(graph(asInput).input[0]!.type)).toContain('"dimParam":"batch"');
    expect(graph(frozen).input.map((i) => i.name)).toEqual(['embeddings']);
    expect(graph(frozen).initializer.map((i) => i.name)).toContain('centers');
  });

  it('the same exported file gives the same numbers in onnxruntime-node and onnxruntime-web', async () => {
    const backend = ortBackend(ortModule('node'));
    const D = 6;
    const C = 4;
    const B = 5;
    const loss = marginSoftmaxLoss(backend, { margin: sphereface({ m: 1.5 }), scale: 10, reduction: 'none' })(
      backend.placeholder('embeddings', [-1, D]),
      backend.placeholder('centers', [C, D]),
      backend.placeholder('labels', [-1], 'int32'),
    );
    const bytes = backend.exportOnnx({ loss });
    const x = randn(B * D);
    const w = randn(C * D);
    const y = labelsOf(B, C);
    const results: number[][] = [];
    for (const variant of ORT_VARIANTS) {
      const ort = ortModule(variant);
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({
        embeddings: new ort.Tensor('float32', x, [B, D]),
        centers: new ort.Tensor('float32', w, [C, D]),
        labels: new ort.Tensor('int32', y, [B]),
      });
      results.push(values(out['loss']!));
      await session.release();
    }
    expect(compareNormwise(results[1]!, results[0]!, 1e-5)).toBeUndefined();
    const ref = Array.from({ length: B }, (_, i) =>
      referenceLoss({ margin: sphereface({ m: 1.5 }), scale: 10 }, x.slice(i * D, (i + 1) * D), w, y.slice(i, i + 1), D),
    );
    expect(compareNormwise(results[0]!, ref, 1e-4)).toBeUndefined();
  });
});

describe('ortBackend session options', () => {
  /** onnxruntime-node with the options of every session created recorded. */
  function recording(): { ort: OrtModule; seen: Record<string, unknown>[] } {
    const seen: Record<string, unknown>[] = [];
    const ort: OrtModule = {
      InferenceSession: {
        create: (bytes, options) => {
          seen.push({ ...options });
          return ortNode.InferenceSession.create(bytes, options);
        },
      },
      Tensor: ortNode.Tensor,
    };
    return { ort, seen };
  }

  it.each([
    ['defaults to the machine threads (os.availableParallelism)', undefined, availableParallelism()],
    ['keeps a given intraOpNumThreads', { intraOpNumThreads: 1 }, 1],
  ] as const)('intraOpNumThreads %s', async (_, sessionOptions, threads) => {
    const { ort, seen } = recording();
    const backend = ortBackend(ort, sessionOptions ? { sessionOptions } : {});
    const x = backend.tensor([1, 2], [2]);
    await backend.run([backend.tensorOps.add(x, x)]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!['intraOpNumThreads']).toBe(threads);
    await backend.dispose();
  });
});
