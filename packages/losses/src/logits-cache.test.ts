import {
  InvalidArgumentError,
  LogitsCache,
  arcface,
  chunkedMarginSoftmaxStep,
  classShard,
  classShardRanges,
  cosface,
  mergeChunkStatistics,
} from '@marginkit/core';
import { compareNormwise, expectTypedRejection, seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ortBackend } from '../../backend-ort/src/backend.js';
import type { OrtTensor } from '../../backend-ort/src/graph.js';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { useTfBackend } from '../../backend-tfjs/test/tf-variants.js';

// A class shard's LogitsCache on ONNX Runtime (whose chunks are host memory, so the shard takes the
// lean graphs): the backward pass with the cache equals the one without, over two shards, the cache
// is filled and emptied as documented, and the backward pass reads it.

const [B, D, C] = [8, 6, 23];
const LABELS = Int32Array.from([0, 5, 22, 3, -1, 14, 21, 9]);
const backend = ortBackend(ort);
afterAll(() => backend.dispose());

const rng = seededRandom(3);
const xv = Float32Array.from({ length: B * D }, () => rng.normal());
const wv = Float32Array.from({ length: C * D }, () => rng.normal());

interface Part {
  readonly shard: ReturnType<typeof classShard<OrtTensor>>;
  readonly chunks: OrtTensor[];
  readonly values: Float32Array[];
}

/** Two shards over the classes, chunks of 4 within each; each chunk reads `values` in place. */
function parts(margin = arcface()): Part[] {
  return classShardRanges(C, 2).map(([start, end]) => {
    const values: Float32Array[] = [];
    for (let from = start; from < end; from += 4) values.push(wv.slice(from * D, Math.min(end, from + 4) * D));
    const shard = classShard(backend, { margin, scale: 16, classes: C, offset: start, classChunk: 4, ignoreIndex: -1 });
    return { shard, values, chunks: values.map((v) => backend.share!(v, [v.length / D, D])) };
  });
}

/** One step over the shards: the summed embedding gradient and every chunk's centre gradient, with or without caches. */
async function step(ps: readonly Part[], caches: readonly (LogitsCache | undefined)[], between?: () => void): Promise<{ gx: Float32Array; gw: number[] }> {
  const x = backend.tensor(xv, [B, D]);
  const logits = (i: number) => (caches[i] === undefined ? {} : { logits: caches[i] });
  const stats = await Promise.all(ps.map((p, i) => p.shard.statistics(x, p.chunks, LABELS, logits(i))));
  between?.();
  const rows = await ps[0]!.shard.rows(x, LABELS, stats.reduce(mergeChunkStatistics));
  const gx = new Float32Array(B * D);
  const gw: number[] = [];
  for (const [i, p] of ps.entries()) {
    const share = await p.shard.backward(x, p.chunks, LABELS, rows.coefficients, { ...logits(i), onCentersGradient: (_, g) => void gw.push(...g) });
    share.forEach((v, j) => {
      gx[j]! += v;
    });
  }
  return { gx, gw };
}

describe('LogitsCache on class shards (ONNX Runtime)', () => {
  it.each([
    ['ArcFace', arcface()],
    ['CosFace', cosface()],
  ])('%s over two shards: the same gradients with and without the caches (to float32 rounding)', async (_, margin) => {
    const ps = parts(margin);
    const kept = await step(ps, [new LogitsCache(), new LogitsCache()]);
    const formed = await step(ps, [undefined, undefined]);
    expect(compareNormwise(kept.gx, formed.gx, 1e-6)).toBeUndefined();
    expect(compareNormwise(kept.gw, formed.gw, 1e-6)).toBeUndefined();
  });

  it('holds B·Cs float32 values after the statistics pass and nothing after the backward pass', async () => {
    const ps = parts();
    const caches = [new LogitsCache(), new LogitsCache()];
    const held: number[] = [];
    await step(ps, caches, () => held.push(...caches.map((c) => c.bytes)));
    const classes = classShardRanges(C, 2).map(([start, end]) => end - start);
    expect(held).toEqual(classes.map((cs) => B * cs * 4));
    expect(caches.map((c) => c.bytes)).toEqual([0, 0]);
  });

  it('the backward pass reads the cache: centres changed in place in between (which the docs forbid) show in its gradients', async () => {
    const ps = parts();
    const scale = (by: number) => {
      for (const p of ps) for (const v of p.values) for (let i = 0; i < v.length; i++) v[i]! *= by;
    };
    const bump = () => scale(1.5);
    const kept = await step(ps, [new LogitsCache(), new LogitsCache()], bump);
    scale(1 / 1.5);
    const formed = await step(ps, [undefined, undefined], bump);
    // Without the caches the backward pass forms x̂·Wᵀ from the changed centres; with them it uses pass 1's.
    expect(compareNormwise(kept.gw, formed.gw, 1e-3)).toBeDefined();
  });

  it('clear() drops what a statistics pass kept', async () => {
    const [p] = parts();
    const cache = new LogitsCache();
    await p!.shard.statistics(backend.tensor(xv, [B, D]), p!.chunks, LABELS, { logits: cache });
    expect(cache.bytes).toBeGreaterThan(0);
    cache.clear();
    expect(cache.bytes).toBe(0);
  });

  it('a typed error for a cache of other tensors (which drops what it held), or a value that is not a LogitsCache', async () => {
    const [p] = parts();
    const cache = new LogitsCache();
    const x = backend.tensor(xv, [B, D]);
    const stats = await p!.shard.statistics(x, p!.chunks, LABELS, { logits: cache });
    const rows = await p!.shard.rows(x, LABELS, stats);
    const other = backend.tensor(xv, [B, D]);
    await expectTypedRejection(() => p!.shard.backward(other, p!.chunks, LABELS, rows.coefficients, { logits: cache }), {
      error: InvalidArgumentError,
      argument: 'options.logits',
    });
    // The error drops what the cache held; fill it again for the next case.
    expect(cache.bytes).toBe(0);
    await p!.shard.statistics(x, p!.chunks, LABELS, { logits: cache });
    await expectTypedRejection(() => p!.shard.backward(x, [...p!.chunks].reverse(), LABELS, rows.coefficients, { logits: cache }), {
      error: InvalidArgumentError,
      argument: 'options.logits',
    });
    await expectTypedRejection(() => Reflect.apply(p!.shard.statistics, p!.shard, [x, p!.chunks, LABELS, { logits: {} }]), {
      error: InvalidArgumentError,
      argument: 'options.logits',
    });
  });
});

describe("chunkedMarginSoftmaxStep's keepLogits: what is kept, and where", () => {
  const chunkValues = [0, 8, 16].map((from) => wv.slice(from * D, Math.min(C, from + 8) * D));
  const widths = chunkValues.map((v) => v.length / D);

  it('on ONNX Runtime pass 2 reads a [B, Cc] product per chunk with keepLogits true, none with false', async () => {
    const read = async (keepLogits: boolean): Promise<number[][]> => {
      const shapes: number[][] = [];
      const spied: typeof backend = {
        ...backend,
        share(values, shape) {
          shapes.push([...shape]);
          return backend.share!(values, shape);
        },
      };
      const chunks = chunkValues.map((v) => backend.tensor(v, [v.length / D, D]));
      await chunkedMarginSoftmaxStep(spied, { margin: arcface(), scale: 16, classChunk: 8, ignoreIndex: -1, keepLogits })(
        backend.tensor(xv, [B, D]),
        chunks,
        LABELS,
        {
          onCentersGradient: () => {},
        },
      );
      // Host inputs are shared too ([B, D] target rows, [B, 1] shifts): the products are the [B, Cc] ones.
      return shapes.filter((s) => s.length === 2 && s[0] === B && widths.includes(s[1]!));
    };
    expect(await read(true)).toEqual(widths.map((w) => [B, w]));
    expect(await read(false)).toEqual([]);
  });

  it('on tfjs with the norms given but not the values (as ChunkedHeadTrainer gives them), pass 1 keeps nothing: pass 2 could not use it', async () => {
    await useTfBackend('cpu');
    const tfb = tfjsBackend(tf);
    const outputs: number[] = [];
    const spied: typeof tfb = {
      ...tfb,
      async compute(f, xs) {
        const out = await tfb.compute!(f, xs);
        outputs.push(out.length);
        return out;
      },
    };
    const chunks = chunkValues.map((v) => tf.tensor2d(v, [v.length / D, D]));
    const centerNorms = chunkValues.map((v) => Float64Array.from({ length: v.length / D }, (_, j) => Math.hypot(...v.subarray(j * D, (j + 1) * D))));
    const step = chunkedMarginSoftmaxStep(spied, { margin: arcface(), scale: 16, classChunk: 8, ignoreIndex: -1, keepLogits: true });
    await step(tf.tensor2d(xv, [B, D]), chunks, LABELS, { centerNorms, normTerm: 'defer', onCentersGradient: () => {} });
    // Three statistics per chunk (no fourth, kept output), then the row pass.
    expect(outputs.slice(0, 3)).toEqual([3, 3, 3]);
    expect(Math.max(...outputs)).toBe(3);
  });
});
