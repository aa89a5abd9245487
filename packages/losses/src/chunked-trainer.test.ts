import { ortBackend } from '@marginkit/backend-ort';
import * as tfjsApi from '@marginkit/backend-tfjs';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import * as coreApi from '@marginkit/core';
import {
  type Backend,
  InvalidArgumentError,
  InvalidBackendError,
  type Margin,
  NonFiniteError,
  ShapeError,
  arcface,
  cosface,
  defineMargin,
  marginSoftmaxStep,
} from '@marginkit/core';
import { compareNormwise, expectTypedError, expectTypedRejection, seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeCheckpoints, splitCheckpoint } from './checkpoint.js';
import { ChunkedHeadTrainer } from './chunked-trainer.js';
import { ArcFaceLoss } from './heads.js';
import * as lossesApi from './index.js';
import { sparseAdam, sparseSgd } from './partial-fc.js';
import type { SparseOptimizer } from './sparse-optimizer.js';
import { tsdocExampleSuite } from '../test/tsdoc-examples.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [B, D, C] = [8, 6, 11];
const normals = (seed: number, n: number): Float32Array => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};
const LABELS = Int32Array.from([0, 4, -1, 3, 9, 7, 10, 4]);
const options = (classChunk: number, optimizer: SparseOptimizer, margin: Margin = arcface()) =>
  ({ margin, numClasses: C, embeddingSize: D, scale: 16, classChunk, optimizer, init: { kind: 'normal', std: 1 }, seed: 3 }) as const;

/** PyTorch's SGD (v = μv + g; w −= ηv) and Adam, by hand in float64, over whole arrays. */
function referenceUpdate(opt: SparseOptimizer, t: number, g: ArrayLike<number>, w: Float64Array, s: Record<string, Float64Array>): void {
  for (let j = 0; j < w.length; j++) {
    if (opt.kind === 'sgd') {
      s['v']![j] = opt.momentum * s['v']![j]! + g[j]!;
      w[j]! -= opt.learningRate * s['v']![j]!;
    } else {
      s['m']![j] = opt.beta1 * s['m']![j]! + (1 - opt.beta1) * g[j]!;
      s['s']![j] = opt.beta2 * s['s']![j]! + (1 - opt.beta2) * g[j]! * g[j]!;
      const mHat = s['m']![j]! / (1 - opt.beta1 ** t);
      const vHat = s['s']![j]! / (1 - opt.beta2 ** t);
      w[j]! -= (opt.learningRate * mHat) / (Math.sqrt(vHat) + opt.epsilon);
    }
  }
}

/**
 * `steps` steps of the chunked trainer against the unchunked step's whole gradient (from
 * `wholeGradient`) and the hand-written optimizer; the centres must agree normwise within 1e-5.
 */
async function expectParity<T>(
  backend: Backend<T>,
  tensor: (v: Float32Array, shape: number[]) => T,
  wholeGradient: (x: T, w: Float64Array) => Promise<{ loss: number; gw: ArrayLike<number> }>,
  classChunk: number,
  opt: SparseOptimizer,
  margin?: Margin,
): Promise<void> {
  const trainer = await ChunkedHeadTrainer.create(backend, options(classChunk, opt, margin));
  const w = Float64Array.from(trainer.centers());
  const s = { v: new Float64Array(w.length), m: new Float64Array(w.length), s: new Float64Array(w.length) };
  for (let t = 1; t <= 3; t++) {
    const x = tensor(normals(100 + t, B * D), [B, D]);
    const ref = await wholeGradient(x, w);
    const out = await trainer.step(x, LABELS);
    expect(compareNormwise([out.loss], [ref.loss], 1e-5)).toBeUndefined();
    referenceUpdate(opt, t, ref.gw, w, s);
    expect(compareNormwise(trainer.centers(), w, 1e-5), `step ${t}`).toBeUndefined();
  }
  expect(trainer.steps).toBe(3);
  trainer.dispose();
}

const OPTIMIZERS: readonly (readonly [string, SparseOptimizer])[] = [
  ['SGD with momentum', sparseSgd({ learningRate: 0.5, momentum: 0.9 })],
  ['plain SGD', sparseSgd({ learningRate: 0.3 })],
  ['Adam', sparseAdam({ learningRate: 0.05 })],
];

describe('ChunkedHeadTrainer on tfjs cpu equals marginSoftmaxStep + the optimizer on whole gradients', () => {
  const backend = tfjsBackend(tf);
  const whole = (margin: Margin) => async (x: tf.Tensor, w: Float64Array) => {
    const step = marginSoftmaxStep(backend, { margin, scale: 16, ignoreIndex: -1 });
    const wt = tf.tensor(Float32Array.from(w), [C, D]);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => step(x, a, LABELS).loss as tf.Scalar)([wt]);
    const out = { loss: value.dataSync()[0]!, gw: grads[0]!.dataSync() };
    tf.dispose([wt, value, ...grads]);
    return out;
  };
  for (const [name, opt] of OPTIMIZERS) {
    it.each([4, 3, 11])(`${name}, chunks of %i classes`, (classChunk) => expectParity(backend, (v, s) => tf.tensor(v, s), whole(arcface()), classChunk, opt));
  }
  it('cosface, sub-centres absent, chunks of 1 class', () =>
    expectParity(backend, (v, s) => tf.tensor(v, s), whole(cosface()), 1, OPTIMIZERS[0]![1], cosface()));
  it('reports the time its update took: within the call, zero when evaluating', async () => {
    const trainer = await ChunkedHeadTrainer.create(backend, options(4, OPTIMIZERS[0]![1]));
    const x = tf.tensor(normals(1, B * D), [B, D]);
    const start = performance.now();
    const stepped = await trainer.step(x, LABELS);
    const wall = (performance.now() - start) / 1000;
    expect(stepped.updateSeconds).toBeGreaterThan(0);
    expect(stepped.updateSeconds).toBeLessThanOrEqual(wall);
    expect((await trainer.evaluate(x, LABELS)).updateSeconds).toBe(0);
    trainer.dispose();
    x.dispose();
  });
  it('leaks no tensor over steps', async () => {
    const trainer = await ChunkedHeadTrainer.create(backend, options(4, OPTIMIZERS[0]![1]));
    const x = tf.tensor(normals(1, B * D), [B, D]);
    await trainer.step(x, LABELS);
    const before = tf.memory().numTensors;
    await trainer.step(x, LABELS);
    await trainer.evaluate(x, LABELS);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    x.dispose();
  });
});

describe('ChunkedHeadTrainer on ONNX Runtime (onnxruntime-node)', () => {
  it.each([
    [4, 0],
    [3, 2],
  ])('equals the unchunked step + SGD-momentum and Adam (chunks of %i)', async (classChunk, which) => {
    const backend = ortBackend(ort);
    try {
      const step = marginSoftmaxStep(backend, { margin: arcface(), scale: 16, ignoreIndex: -1 });
      const whole = async (x: ReturnType<typeof backend.tensor>, w: Float64Array) => {
        const r = await backend.valueAndGradients!((a, b) => step(a!, b!, LABELS).loss, [x, backend.tensor(Float32Array.from(w), [C, D])]);
        return { loss: r.value, gw: r.gradients[1]! };
      };
      await expectParity(backend, (v, s) => backend.tensor(v, s), whole, classChunk, OPTIMIZERS[which]![1]);
    } finally {
      await backend.dispose();
    }
  });

  it('updates the bound values of the chunk tensors in place (no copy per step); compiles nothing after the first step', async () => {
    const backend = ortBackend(ort, { validate: 'shapes' });
    try {
      const trainer = await ChunkedHeadTrainer.create(backend, options(4, OPTIMIZERS[0]![1]));
      const x = backend.tensor(normals(5, B * D), [B, D]);
      const bound = await backend.read!(trainer.chunkTensors[0]!);
      const before = Array.from(bound);
      await trainer.step(x, LABELS);
      expect(await backend.read!(trainer.chunkTensors[0]!)).toBe(bound);
      expect(Array.from(bound)).not.toEqual(before);
      expect(Array.from(bound)).toEqual(Array.from(trainer.centers(0, 4)));
      const sessions = backend.stats().sessionsCreated;
      await trainer.step(x, LABELS);
      await trainer.step(x, LABELS);
      expect(backend.stats().sessionsCreated).toBe(sessions);
    } finally {
      await backend.dispose();
    }
  });
});

describe('ChunkedHeadTrainer checkpoints', () => {
  const backend = tfjsBackend(tf);
  const xs = [1, 2, 3, 4].map((i) => tf.tensor(normals(200 + i, B * D), [B, D]));

  it.each([
    ['SGD with momentum', OPTIMIZERS[0]![1]],
    ['Adam', OPTIMIZERS[2]![1]],
  ])('%s: saved in shards with chunks of 4, resumed with chunks of 3, continues as the uninterrupted run', async (_, opt) => {
    const a = await ChunkedHeadTrainer.create(backend, options(4, opt));
    for (const x of xs.slice(0, 2)) await a.step(x, LABELS);
    const shards = [a.save([5, 11]), a.save([0, 5])];
    const b = await ChunkedHeadTrainer.create(backend, { ...options(3, opt), seed: 99 });
    b.load(shards);
    expect(Array.from(b.centers())).toEqual(Array.from(a.centers()));
    expect(b.steps).toBe(2);
    for (const x of xs.slice(2)) {
      const [ra, rb] = [await a.step(x, LABELS), await b.step(x, LABELS)];
      expect(compareNormwise([rb.loss], [ra.loss], 1e-6)).toBeUndefined();
    }
    // Different chunkings merge the softmax statistics in another order: float32 rounding only.
    expect(compareNormwise(b.centers(), a.centers(), 1e-6)).toBeUndefined();
    // The same chunking resumes bit for bit.
    const c = await ChunkedHeadTrainer.create(backend, options(4, opt));
    c.load(a.save());
    const [ra, rc] = [await a.step(xs[0]!, LABELS), await c.step(xs[0]!, LABELS)];
    expect(rc.loss).toBe(ra.loss);
    expect(Array.from(c.centers())).toEqual(Array.from(a.centers()));
    for (const t of [a, b, c]) t.dispose();
  });

  it("starts from the centres of a head with the same options and seed, and loads a head's checkpoint (split and merged)", async () => {
    const head = new ArcFaceLoss(backend, { numClasses: C, embeddingSize: D, scale: 16, init: { kind: 'normal', std: 1 }, seed: 3 });
    const trainer = await ChunkedHeadTrainer.create(backend, options(4, OPTIMIZERS[0]![1]));
    const saved = await head.save();
    expect(Array.from(trainer.centers())).toEqual(Array.from(saved.centers));
    await trainer.step(xs[0]!, LABELS);
    trainer.load(splitCheckpoint(saved, 3));
    expect(Array.from(trainer.centers())).toEqual(Array.from(saved.centers));
    expect(trainer.steps).toBe(0);
    head.load(mergeCheckpoints([trainer.save([0, 6]).head, trainer.save([6, 11]).head]));
    head.dispose();
    trainer.dispose();
  });
});

describe('ChunkedHeadTrainer: typed errors name the argument', () => {
  const backend = tfjsBackend(tf);
  const sgd = sparseSgd({ learningRate: 0.1, momentum: 0.9 });
  it('bad options', async () => {
    const good = options(4, sgd);
    const { valueAndGradients: _, ...withoutGradients } = backend;
    const cases: readonly [string, () => Promise<unknown>, typeof InvalidArgumentError | typeof ShapeError | typeof InvalidBackendError, string][] = [
      ['classChunk 0', () => ChunkedHeadTrainer.create(backend, { ...good, classChunk: 0 }), InvalidArgumentError, 'options.classChunk'],
      ['classChunk 2.5', () => ChunkedHeadTrainer.create(backend, { ...good, classChunk: 2.5 }), InvalidArgumentError, 'options.classChunk'],
      [
        "keepLogits 'yes'",
        () => Reflect.apply(ChunkedHeadTrainer.create, ChunkedHeadTrainer, [backend, { ...good, keepLogits: 'yes' }]),
        InvalidArgumentError,
        'options.keepLogits',
      ],
      [
        'no optimizer',
        () => Reflect.apply(ChunkedHeadTrainer.create, ChunkedHeadTrainer, [backend, { ...good, optimizer: undefined }]),
        InvalidArgumentError,
        'options.optimizer',
      ],
      [
        'momentum 1',
        () => ChunkedHeadTrainer.create(backend, { ...good, optimizer: { ...sgd, momentum: 1 } }),
        InvalidArgumentError,
        'options.optimizer.momentum',
      ],
      [
        'unknown option',
        () => Reflect.apply(ChunkedHeadTrainer.create, ChunkedHeadTrainer, [backend, { ...good, chunk: 4 }]),
        InvalidArgumentError,
        'options.chunk',
      ],
      [
        'no margin',
        () => Reflect.apply(ChunkedHeadTrainer.create, ChunkedHeadTrainer, [backend, { ...good, margin: undefined }]),
        InvalidArgumentError,
        'options.margin',
      ],
      ['numClasses 0', () => ChunkedHeadTrainer.create(backend, { ...good, numClasses: 0 }), InvalidArgumentError, 'options.numClasses'],
      ['backend without gradients', () => ChunkedHeadTrainer.create(withoutGradients, good), InvalidBackendError, 'backend'],
    ];
    for (const [what, f, error, argument] of cases) await expectTypedRejection(f, { error, argument, what });
  });
  it.each([D, 8])('a non-finite chunk gradient is not applied: NonFiniteError naming the chunk, nothing changed (D = %i)', async (dim) => {
    // c_y / 0: the target logit is ±Infinity or NaN, so every gradient is NaN (and the norm term's
    // coefficients, checked first). With D = 8 the update would run in WebAssembly (sgd-kernel.ts);
    // denseUpdate's own check of the gradient, on both paths, is tested in sgd-kernel.test.ts.
    const broken = defineMargin({ type: 'broken', params: {}, targetLogit: (c, { ops }) => ops.div(c, ops.scalar(0)) });
    const trainer = await ChunkedHeadTrainer.create(backend, { ...options(4, sgd, broken), embeddingSize: dim });
    const before = Array.from(trainer.centers());
    const x = tf.tensor(normals(1, B * dim), [B, dim]);
    await expectTypedRejection(() => trainer.step(x, LABELS), { error: NonFiniteError, argument: 'step.centersGradient[0]', what: 'NaN gradient' });
    expect(Array.from(trainer.centers())).toEqual(before);
    expect(trainer.steps).toBe(0);
    x.dispose();
    trainer.dispose();
  });
  it('bad calls and checkpoints; a failed load changes nothing', async () => {
    const trainer = await ChunkedHeadTrainer.create(backend, options(4, sgd));
    const other = await ChunkedHeadTrainer.create(backend, { ...options(4, sparseAdam()) });
    const saved = trainer.save();
    const before = Array.from(trainer.centers());
    const cases: readonly [string, () => unknown, typeof InvalidArgumentError | typeof ShapeError, string][] = [
      ['save: bad range', () => trainer.save([3, 3]), ShapeError, 'classRange'],
      ['centers: past C', () => trainer.centers(0, C + 1), ShapeError, 'classRange'],
      ['learningRate 0', () => (trainer.learningRate = 0), InvalidArgumentError, 'learningRate'],
      [
        'load: another config',
        () => trainer.load({ ...saved, head: { ...saved.head, config: { ...saved.head.config, scale: 8 } } }),
        InvalidArgumentError,
        'checkpoint.head.config',
      ],
      ['load: another optimizer', () => trainer.load(other.save()), InvalidArgumentError, 'checkpoint.optimizer.optimizer'],
      ['load: missing shard', () => trainer.load([trainer.save([0, 5])]), ShapeError, 'checkpoint'],
      ['load: overlapping shards', () => trainer.load([trainer.save([0, 6]), trainer.save([5, 11])]), ShapeError, 'checkpoint'],
      [
        'load: short moments',
        () => trainer.load({ ...saved, optimizer: { ...saved.optimizer, moments: { momentumBuffer: new Float32Array(2) } } }),
        ShapeError,
        'checkpoint.optimizer.moments.momentumBuffer',
      ],
      ['load: empty list', () => trainer.load([]), InvalidArgumentError, 'checkpoint'],
    ];
    for (const [what, f, error, argument] of cases) expectTypedError(f, { error, argument, what });
    expect(Array.from(trainer.centers())).toEqual(before);
    await expectTypedRejection(() => trainer.step(tf.zeros([2, D + 1]), [0, 1]), { error: ShapeError, argument: 'embeddings', what: 'wrong D' });
    const x = tf.tensor(normals(1, B * D), [B, D]);
    const running = trainer.step(x, LABELS);
    await expectTypedRejection(() => trainer.step(x, LABELS), { error: InvalidArgumentError, argument: 'step', what: 'concurrent step' });
    await running;
    expect(trainer.steps).toBe(1);
  });
});

tsdocExampleSuite(
  new URL('./chunked-trainer.ts', import.meta.url),
  { '@tensorflow/tfjs': tf, '@marginkit/backend-tfjs': tfjsApi, '@marginkit/core': coreApi, '@marginkit/losses': lossesApi },
  2,
);
