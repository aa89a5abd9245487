import {
  BackendError,
  DTypeError,
  InvalidArgumentError,
  LabelError,
  NonFiniteError,
  ShapeError,
  UnsupportedOpError,
  arcface,
  marginSoftmaxLoss,
} from '@marginkit/core';
import { type ErrorClass, expectTypedError, expectTypedRejection } from '@marginkit/core/testing';
import { describe, it } from 'vitest';
import { type OrtBackend, type OrtModule, ortBackend } from './backend.js';
import { type HeadOptimizer, adam, headTrainer, sgd } from './head-trainer.js';
import { ortModule } from './ort-variants.js';

const ort = ortModule('node');
/** Lets a test pass what the types forbid. */
const notAModule = (value: unknown) => value as OrtModule;
const notOptions = (value: unknown) => value as Record<string, unknown>;
const fresh = (): OrtBackend => ortBackend(ort);

function lossGraph(b: OrtBackend) {
  const x = b.placeholder('embeddings', [-1, 4]);
  const w = b.placeholder('centers', [3, 4]);
  const y = b.placeholder('labels', [-1], 'int32');
  return { x, w, y, loss: marginSoftmaxLoss(b, { margin: arcface() })(x, w, y) };
}
/** A head of 3 classes in 4 dimensions, trained with `optimizer`. */
const trainer = (b: OrtBackend, optimizer: HeadOptimizer) =>
  headTrainer(b, { loss: marginSoftmaxLoss(b, { margin: arcface() }), centers: new Float32Array(12).fill(1), classes: 3, dim: 4, optimizer });
const feeds = (over: Record<string, unknown> = {}) => ({
  embeddings: { data: new Float32Array(8), dims: [2, 4] },
  centers: { data: new Float32Array(12).fill(1), dims: [3, 4] },
  labels: { data: new Int32Array([0, 2]), dims: [2] },
  ...over,
});

// Synchronous misuse: [what, thrown class, message pattern, action].
const syncCases: [string, ErrorClass, RegExp, () => unknown][] = [
  [
    'a non-object as the module',
    BackendError,
    /^ort: expected the onnxruntime-web or onnxruntime-node module, got undefined/,
    () => ortBackend(notAModule(undefined)),
  ],
  ['an object that is not ORT', BackendError, /missing InferenceSession\.create, Tensor/, () => ortBackend(notAModule({}))],
  ['the tfjs module', BackendError, /looks like TensorFlow\.js/, () => ortBackend(notAModule({ tidy: () => 0, tensor: () => 0 }))],
  [
    'session options that are not an object',
    InvalidArgumentError,
    /^options\.sessionOptions: expected an object of ONNX Runtime session options, got 2/,
    () => ortBackend(ort, { sessionOptions: notOptions(2) }),
  ],
  ['a bad cacheSize', InvalidArgumentError, /^options\.cacheSize: must be a positive integer, got 0/, () => ortBackend(ort, { cacheSize: 0 })],
  [
    'a placeholder with a fractional dimension',
    ShapeError,
    /^placeholder\.shape: expected an array of non-negative integers/,
    () => fresh().placeholder('x', [1.5]),
  ],
  [
    'a placeholder with a reserved name',
    InvalidArgumentError,
    /^placeholder\.name: 'mk\.x': names starting with 'mk\.' are reserved/,
    () => fresh().placeholder('mk.x', [1]),
  ],
  [
    'a placeholder of dtype bool',
    DTypeError,
    /^placeholder\.dtype: expected 'float32' or 'int32', got bool/,
    () => fresh().placeholder('x', [1], 'bool' as 'int32'),
  ],
  ['tensor values that do not fill the shape', ShapeError, /^tensor\.values: has 3 values but shape \[2, 2\] needs 4/, () => fresh().tensor([1, 2, 3], [2, 2])],
  ['a tensor with an unknown dimension', ShapeError, /^tensor\.shape: expected an array of non-negative integers, got \[-1\]/, () => fresh().tensor([1], [-1])],
  ['a tensor of another backend instance', InvalidArgumentError, /^neg\.x: expected a ort tensor/, () => fresh().tensorOps.neg(fresh().placeholder('x', [1]))],
  [
    'gradients of a non-scalar without dy',
    ShapeError,
    /^y: must be a scalar without dy, got shape \[\?, 4\]/,
    () => {
      const b = fresh();
      const x = b.placeholder('x', [-1, 4]);
      return b.gradients(b.tensorOps.exp(x), [x]);
    },
  ],
  [
    'gradients with respect to an int32 tensor',
    InvalidArgumentError,
    /^xs\[0\]: must be float32 to differentiate with respect to, got int32/,
    () => {
      const b = fresh();
      return b.gradients(lossGraph(b).loss, [lossGraph(b).y]);
    },
  ],
  [
    'an op the graph cannot express: differentiating a reshape with two unknown dimensions',
    UnsupportedOpError,
    /^reshape: cannot differentiate a reshape of \[\?, \?\]: more than one unknown dimension/,
    () => {
      const b = fresh();
      const o = b.tensorOps;
      const x = b.placeholder('x', [-1, -1]);
      return b.gradients(o.sum(o.reshape(x, [-1]), 0), [x]);
    },
  ],
  [
    'two inputs with the same name',
    InvalidArgumentError,
    /^inputs: two different inputs are named 'x'/,
    () => {
      const b = fresh();
      return b.exportOnnx({ y: b.tensorOps.add(b.placeholder('x', [2]), b.placeholder('x', [2])) });
    },
  ],
  [
    'an output named like an input',
    InvalidArgumentError,
    /^outputs\.x: 'x' is also the name of an input/,
    () => {
      const b = fresh();
      return b.exportOnnx({ x: b.tensorOps.neg(b.placeholder('x', [2])) });
    },
  ],
  [
    'outputs given as an array to exportOnnx',
    InvalidArgumentError,
    /^outputs: expected an object of named tensors such as \{ loss \}, got an array/,
    () => fresh().exportOnnx([] as never),
  ],
  [
    'freezing a placeholder',
    InvalidArgumentError,
    /^freeze: input 'x' has no bound values/,
    () => {
      const b = fresh();
      const x = b.placeholder('x', [2]);
      return b.exportOnnx({ y: b.tensorOps.neg(x) }, { freeze: [x] });
    },
  ],
  ['sgd with momentum 1', InvalidArgumentError, /^sgd\.momentum: must be in \[0, 1\), got 1/, () => sgd({ learningRate: 0.1, momentum: 1 })],
  [
    'sgd without a learning rate',
    InvalidArgumentError,
    /^sgd\.learningRate: must be a finite number, got undefined/,
    () => sgd({} as { learningRate: number }),
  ],
  ['adam with a negative epsilon', InvalidArgumentError, /^adam\.epsilon: must be in \(0, Infinity\), got -1/, () => adam({ epsilon: -1 })],
];

// Misuse found when data is fed or a trainer is made.
const asyncCases: [string, ErrorClass, RegExp, () => Promise<unknown>][] = [
  [
    'a feed of another rank',
    ShapeError,
    /^feeds\.embeddings: has rank 1 \(dims \[8\]\) but the graph was compiled for rank 2 \[\?, 4\]/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ embeddings: { data: new Float32Array(8), dims: [8] } }));
    },
  ],
  [
    'a feed with the wrong fixed dimension',
    ShapeError,
    /^feeds\.centers: has dims \[2, 4\] but the graph needs \[3, 4\]/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ centers: { data: new Float32Array(8), dims: [2, 4] } }));
    },
  ],
  [
    'float labels',
    DTypeError,
    /^feeds\.labels: expected int32 data, got float32/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ labels: { data: new Float32Array(2), dims: [2] } }));
    },
  ],
  [
    'an ort.Tensor of the wrong dtype',
    DTypeError,
    /^feeds\.embeddings: expected float32 data, got int32/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ embeddings: new ort.Tensor('int32', new Int32Array(8), [2, 4]) }));
    },
  ],
  [
    'plain-array data',
    DTypeError,
    /^feeds\.embeddings: expected float32 data, got a plain array/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ embeddings: { data: [0, 0, 0, 0, 0, 0, 0, 0], dims: [2, 4] } }));
    },
  ],
  [
    'data that does not fill its dims',
    ShapeError,
    /^feeds\.embeddings: has 6 values but dims \[2, 4\] need 8/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ embeddings: { data: new Float32Array(6), dims: [2, 4] } }));
    },
  ],
  [
    'a missing feed',
    InvalidArgumentError,
    /^feeds\.labels: is required: input 'labels' int32 \[\?\] has no bound values/,
    async () => {
      const b = fresh();
      const { labels: _, ...rest } = feeds();
      return (await b.compile({ loss: lossGraph(b).loss })).run(rest);
    },
  ],
  [
    'an unknown feed',
    InvalidArgumentError,
    /^feeds\.label: is not an input of this graph; its inputs are embeddings, centers, labels/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ label: { data: new Int32Array(2), dims: [2] } }));
    },
  ],
  [
    'a label outside [0, classes) fed to a compiled loss (ONNX Runtime reports it; the error says what it likely is)',
    BackendError,
    /^run: ONNX Runtime failed to run the graph \(an index fed to gatherPerRow, such as a label, is outside \[0, columns\)\): /,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ labels: { data: new Int32Array([0, 3]), dims: [2] } }));
    },
  ],
  [
    'a disposed compiled graph',
    BackendError,
    /^compiled: this compiled graph was disposed/,
    async () => {
      const b = fresh();
      const g = await b.compile({ loss: lossGraph(b).loss });
      await g.dispose();
      return g.run(feeds());
    },
  ],
  [
    'a trainer with centres of the wrong size',
    ShapeError,
    /^options\.centers: has 11 values but classes × dim = 3 × 4 = 12/,
    () => {
      const b = fresh();
      return headTrainer(b, { loss: marginSoftmaxLoss(b, { margin: arcface() }), centers: new Float32Array(11), classes: 3, dim: 4, optimizer: adam() });
    },
  ],
  [
    'a trainer with a per-sample loss',
    ShapeError,
    /^options\.loss: must reduce to a scalar/,
    () => {
      const b = fresh();
      return headTrainer(b, {
        loss: marginSoftmaxLoss(b, { margin: arcface(), reduction: 'none' }),
        centers: new Float32Array(12),
        classes: 3,
        dim: 4,
        optimizer: adam(),
      });
    },
  ],
  [
    'a trainer fed a label out of range',
    LabelError,
    /^labels: labels\[1\] = 3 is not in \[0, 3\)/,
    async () => {
      const b = fresh();
      const t = await trainer(b, adam());
      return t.step({ data: new Float32Array(8), dims: [2, 4] }, { data: new Int32Array([0, 3]), dims: [2] });
    },
  ],
  [
    'a trainer fed NaN embeddings',
    NonFiniteError,
    /^embeddings: has a non-finite value NaN at \[1, 0\]/,
    async () => {
      const b = fresh();
      const t = await trainer(b, adam());
      return t.step({ data: Float32Array.of(0, 0, 0, 0, Number.NaN, 0, 0, 0), dims: [2, 4] }, { data: new Int32Array([0, 1]), dims: [2] });
    },
  ],
  [
    'a trainer fed embeddings of another dimension',
    ShapeError,
    /^embeddings: expected \[B, 4\], got \[2, 5\]/,
    async () => {
      const b = fresh();
      const t = await trainer(b, sgd({ learningRate: 1 }));
      return t.step({ data: new Float32Array(10), dims: [2, 5] }, { data: new Int32Array([0, 1]), dims: [2] });
    },
  ],
];

describe('bad input to backend-ort gets typed errors naming the argument', () => {
  it.each(syncCases)('%s', (_, type, message, action) => {
    expectTypedError(action, { error: type, message });
  });
  it.each(asyncCases)('%s', async (_, type, message, action) => {
    await expectTypedRejection(action, { error: type, message });
  });
});
