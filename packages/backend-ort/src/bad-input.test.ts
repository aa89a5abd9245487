import {
  BackendError,
  DTypeError,
  InvalidArgumentError,
  InvalidBackendError,
  LabelError,
  MarginkitError,
  NonFiniteError,
  ShapeError,
  UnsupportedOpError,
  arcface,
  defineMargin,
  marginSoftmaxLoss,
  marginSoftmaxStep,
} from '@marginkit/core';
import { type ErrorClass, expectTypedError, expectTypedRejection } from '@marginkit/core/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type OrtBackend, type OrtModule, ortBackend } from './backend.js';
import { headTrainer } from './head-trainer.js';
import { type HeadOptimizer, adam, sgd } from './optimizers.js';
import { ortModule } from '../test/ort-variants.js';

const ort = ortModule('node');
/** Lets a test pass what the types forbid. */
const notAModule = (value: unknown) => value as OrtModule;
const notOptions = (value: unknown) => value as Record<string, unknown>;
const fresh = (): OrtBackend => ortBackend(ort);
const Int32Tensor = (values: readonly number[]) => ({ data: Int32Array.from(values), dims: [values.length] });

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
    InvalidBackendError,
    /^ort: expected the onnxruntime-web or onnxruntime-node module, got undefined/,
    () => ortBackend(notAModule(undefined)),
  ],
  ['an object that is not ORT', InvalidBackendError, /missing InferenceSession\.create, Tensor/, () => ortBackend(notAModule({}))],
  ['the tfjs module', InvalidBackendError, /looks like TensorFlow\.js/, () => ortBackend(notAModule({ tidy: () => 0, tensor: () => 0 }))],
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
  ['sgd without a learning rate', InvalidArgumentError, /^sgd\.learningRate: must be a number, got undefined/, () => sgd({} as { learningRate: number })],
  ['adam with a negative epsilon', InvalidArgumentError, /^adam\.epsilon: must be > 0, got -1/, () => adam({ epsilon: -1 })],
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
    /^feeds\.embeddings: has 6 values but shape \[2, 4\] needs 8/,
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
    'a label outside [0, classes) fed to a compiled loss (checked at feed time, from the graph)',
    LabelError,
    /^feeds\.labels: labels\[1\] = 3 is not in \[0, 3\): the graph uses 'labels' as an index/,
    async () => {
      const b = fresh();
      return (await b.compile({ loss: lossGraph(b).loss })).run(feeds({ labels: { data: new Int32Array([0, 3]), dims: [2] } }));
    },
  ],
  [
    "a label outside [0, columns) with validate: 'shapes' (ONNX Runtime reports it; the error says what it likely is)",
    BackendError,
    /^run: ONNX Runtime failed to run the graph \(an index fed to gatherPerRow, such as a label, is outside \[0, columns\)\): /,
    async () => {
      // ONNX Runtime also logs the failure itself ([E:onnxruntime:…]) unless its log level is fatal only.
      const b = ortBackend(ort, { validate: 'shapes', sessionOptions: { logSeverityLevel: 4 } });
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
    /^embeddings: expected 4 columns \[B, 4\], got shape \[2, 5\]/,
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

/** A compiled arcface loss over 3 classes in 4 dimensions, on a backend with `options`. */
async function compiledLoss(options: Parameters<typeof ortBackend>[1] = {}, ignoreIndex = false) {
  const b = ortBackend(ort, options);
  const x = b.placeholder('embeddings', [-1, 4]);
  const w = b.placeholder('centers', [3, 4]);
  const y = b.placeholder('labels', [-1], 'int32');
  const loss = marginSoftmaxLoss(b, { margin: arcface(), ...(ignoreIndex ? { ignoreIndex: -1 as const } : {}) })(x, w, y);
  return { b, graph: await b.compile({ loss }), x, w, y, loss };
}
/** A stateful margin (a step counter), to check that a failed step leaves margin state alone. */
const counting = () =>
  defineMargin({
    type: 'counting',
    params: {},
    state: { t: { shape: [], initial: () => [0] } },
    transform: (c) => ({ target: c.cosTarget, state: { t: c.ops.add(c.state['t']!, c.ops.scalar(1)) } }),
  });
const nanAt = (n: number, i: number) => {
  const a = new Float32Array(n).fill(0.5);
  a[i] = Number.NaN;
  return a;
};

// Values checked when data is fed (issue 10, class 1): [what, class, argument, message, action].
const feedCases: [string, ErrorClass, string, RegExp, () => Promise<unknown>][] = [
  [
    'a label −1 to a loss without ignoreIndex',
    LabelError,
    'feeds.labels',
    /labels\[0\] = -1 is not in \[0, 3\): the graph uses 'labels' as an index into .*a oneHot of depth 3/,
    async () => (await compiledLoss()).graph.run(feeds({ labels: { data: Int32Array.of(-1, 2), dims: [2] } })),
  ],
  [
    'a label −2 to a loss with ignoreIndex −1',
    LabelError,
    'feeds.labels',
    /labels\[1\] = -2 is not in \[0, 3\) nor the ignored −1/,
    async () => (await compiledLoss({}, true)).graph.run(feeds({ labels: Int32Tensor([0, -2]) })),
  ],
  [
    'a label 3 to a loss with ignoreIndex −1',
    LabelError,
    'feeds.labels',
    /labels\[0\] = 3 is not in \[0, 3\) nor the ignored −1/,
    async () => (await compiledLoss({}, true)).graph.run(feeds({ labels: Int32Tensor([3, -1]) })),
  ],
  [
    'a label out of range through backend.run',
    LabelError,
    'feeds.labels',
    /labels\[1\] = 7 is not in \[0, 3\)/,
    async () => {
      const { b, loss } = await compiledLoss();
      return b.run([loss], feeds({ labels: Int32Tensor([0, 7]) }));
    },
  ],
  [
    'bound label values out of range (backend.tensor)',
    LabelError,
    'feeds.y',
    /y\[1\] = -1 is not in \[0, 3\)/,
    async () => {
      const b = fresh();
      const loss = marginSoftmaxLoss(b, { margin: arcface() })(
        b.tensor(new Float32Array(8).fill(1), [2, 4], 'float32', 'x'),
        b.tensor(new Float32Array(12).fill(1), [3, 4], 'float32', 'w'),
        b.tensor([0, -1], [2], 'int32', 'y'),
      );
      return b.run([loss]);
    },
  ],
  [
    'NaN embeddings to a compiled loss',
    NonFiniteError,
    'feeds.embeddings',
    /has a non-finite value NaN at \[1, 2\]/,
    async () => (await compiledLoss()).graph.run(feeds({ embeddings: { data: nanAt(8, 6), dims: [2, 4] } })),
  ],
  [
    'Infinity in the centres',
    NonFiniteError,
    'feeds.centers',
    /has a non-finite value Infinity at \[2, 3\]/,
    async () => {
      const c = new Float32Array(12).fill(1);
      c[11] = Number.POSITIVE_INFINITY;
      return (await compiledLoss()).graph.run(feeds({ centers: new ort.Tensor('float32', c, [3, 4]) }));
    },
  ],
  [
    "NaN embeddings with a per-compile validate: 'full' on a 'shapes' backend",
    NonFiniteError,
    'feeds.embeddings',
    /NaN at \[0, 0\]/,
    async () => {
      const b = ortBackend(ort, { validate: 'shapes' });
      return (await b.compile({ loss: lossGraph(b).loss }, { validate: 'full' })).run(feeds({ embeddings: { data: nanAt(8, 0), dims: [2, 4] } }));
    },
  ],
  [
    'a batch of 0',
    ShapeError,
    'feeds.embeddings',
    /is empty: dims \[0, 4\] have size 0 on axis 0/,
    async () =>
      (await compiledLoss()).graph.run(feeds({ embeddings: { data: new Float32Array(0), dims: [0, 4] }, labels: { data: new Int32Array(0), dims: [0] } })),
  ],
  [
    "a batch of 0 with validate: 'shapes'",
    ShapeError,
    'feeds.embeddings',
    /is empty/,
    async () =>
      (await compiledLoss({ validate: 'shapes' })).graph.run(
        feeds({ embeddings: { data: new Float32Array(0), dims: [0, 4] }, labels: { data: new Int32Array(0), dims: [0] } }),
      ),
  ],
  [
    'fractional dims',
    ShapeError,
    'feeds.embeddings',
    /expected an array of non-negative integers, got \[2\.5, 2\]/,
    async () => (await compiledLoss()).graph.run(feeds({ embeddings: { data: new Float32Array(5), dims: [2.5, 2] } })),
  ],
  [
    'negative dims whose product fills the data',
    ShapeError,
    'feeds.embeddings',
    /expected an array of non-negative integers, got \[-2, -4\]/,
    async () => (await compiledLoss()).graph.run(feeds({ embeddings: { data: new Float32Array(8), dims: [-2, -4] } })),
  ],
  [
    'NaN dims',
    ShapeError,
    'feeds.labels',
    /expected an array of non-negative integers, got \[NaN\]/,
    async () => (await compiledLoss()).graph.run(feeds({ labels: { data: new Int32Array(2), dims: [Number.NaN] } })),
  ],
  [
    'a Float64Array for a float32 input',
    DTypeError,
    'feeds.embeddings',
    /expected float32 data, got a Float64Array/,
    async () => (await compiledLoss()).graph.run(feeds({ embeddings: { data: new Float64Array(8), dims: [2, 4] } })),
  ],
  [
    "a Float64Array claiming type 'float32'",
    DTypeError,
    'feeds.embeddings',
    /expected float32 data in a Float32Array, got a Float64Array/,
    async () => (await compiledLoss()).graph.run(feeds({ embeddings: { type: 'float32', data: new Float64Array(8), dims: [2, 4] } })),
  ],
  [
    "a Uint8Array claiming type 'int32' for labels",
    DTypeError,
    'feeds.labels',
    /expected int32 data in a Int32Array, got a Uint8Array/,
    async () => (await compiledLoss()).graph.run(feeds({ labels: { type: 'int32', data: new Uint8Array(2), dims: [2] } })),
  ],
  [
    'a trainer fed a label −1 (its loss does not ignore −1)',
    LabelError,
    'labels',
    /labels\[0\] = -1 is not in \[0, 3\)/,
    async () => (await trainer(fresh(), adam())).step({ data: new Float32Array(8), dims: [2, 4] }, Int32Tensor([-1, 0])),
  ],
  [
    'a trainer fed a batch of 0',
    ShapeError,
    'embeddings',
    /is empty: shape \[0, 4\] has no rows/,
    async () => (await trainer(fresh(), adam())).step({ data: new Float32Array(0), dims: [0, 4] }, Int32Tensor([])),
  ],
  [
    'a trainer fed fractional dims',
    ShapeError,
    'embeddings',
    /expected an array of non-negative integers, got \[1\.5, 4\]/,
    async () => (await trainer(fresh(), adam())).step({ data: new Float32Array(6), dims: [1.5, 4] }, Int32Tensor([0])),
  ],
  [
    'a trainer fed a Float64Array',
    DTypeError,
    'embeddings',
    /expected float32 data in a Float32Array, got a Float64Array/,
    async () => (await trainer(fresh(), adam())).step({ data: new Float64Array(8), dims: [2, 4] } as never, Int32Tensor([0, 1])),
  ],
  [
    'a trainer fed float labels',
    DTypeError,
    'labels',
    /expected int32 data in a Int32Array, got a Float32Array/,
    async () => (await trainer(fresh(), adam())).step({ data: new Float32Array(8), dims: [2, 4] }, { data: new Float32Array(2), dims: [2] }),
  ],
  [
    'a feed whose data cannot be read (a GPU tensor)',
    InvalidArgumentError,
    'feeds.embeddings',
    /its data cannot be read on the CPU/,
    async () =>
      (await compiledLoss()).graph.run(
        feeds({
          embeddings: {
            type: 'float32',
            dims: [2, 4],
            get data(): never {
              throw new Error('The data is not on CPU');
            },
          },
        }),
      ),
  ],
  [
    'a trainer whose per-step inputs draw NaN',
    NonFiniteError,
    'options.inputs().u',
    /has a non-finite value NaN at \[1\]/,
    async () => {
      const b = fresh();
      const shifted = defineMargin({
        type: 'shifted',
        params: {},
        inputs: { u: { sample: (n) => new Float32Array(n) } },
        transform: (c) => ({ target: c.ops.sub(c.cosTarget, c.inputs['u']!) }),
      });
      const t = await headTrainer(b, {
        loss: marginSoftmaxStep(b, { margin: shifted }),
        inputs: (n) => ({ u: Float32Array.from({ length: n }, (_, i) => (i === 1 ? Number.NaN : 0.1)) }),
        centers: new Float32Array(12).fill(1),
        classes: 3,
        dim: 4,
        optimizer: sgd({ learningRate: 0.1 }),
      });
      return t.step({ data: new Float32Array(8).fill(1), dims: [2, 4] }, Int32Tensor([0, 1]));
    },
  ],
  [
    'a bad validate option',
    InvalidArgumentError,
    'options.validate',
    /expected 'full' or 'shapes', got fast/,
    async () => ortBackend(ort, { validate: 'fast' as 'full' }),
  ],
];

// Optimizer settings that cannot work in float32 (issue 10, class 2).
const optimizerCases: [string, ErrorClass, string, RegExp, () => unknown][] = [
  ['sgd with learning rate 1e39', NonFiniteError, 'sgd.learningRate', /overflows to Infinity in float32/, () => sgd({ learningRate: 1e39 })],
  ['sgd with learning rate 1e-50', InvalidArgumentError, 'sgd.learningRate', /below the smallest normal float32/, () => sgd({ learningRate: 1e-50 })],
  [
    'sgd with momentum that rounds to 1',
    InvalidArgumentError,
    'sgd.momentum',
    /rounds to 1 in float32/,
    () => sgd({ learningRate: 0.1, momentum: 0.999999999 }),
  ],
  ['adam with ε 1e-50', InvalidArgumentError, 'adam.epsilon', /below the smallest normal float32 .*0 \/ 0/, () => adam({ epsilon: 1e-50 })],
  ['adam with a subnormal ε', InvalidArgumentError, 'adam.epsilon', /below the smallest normal float32/, () => adam({ epsilon: 1e-39 })],
  ['adam with ε 1e39', NonFiniteError, 'adam.epsilon', /overflows to Infinity in float32/, () => adam({ epsilon: 1e39 })],
  ['adam with ε 3e38', NonFiniteError, 'adam.epsilon', /√v \+ ε can overflow float32/, () => adam({ epsilon: 3e38 })],
  ['adam with learning rate 1e39', NonFiniteError, 'adam.learningRate', /overflows to Infinity in float32/, () => adam({ learningRate: 1e39 })],
  [
    'adam whose first bias-corrected step overflows',
    NonFiniteError,
    'adam.learningRate',
    /η \/ \(1 − β₁\) = .* overflows float32/,
    () => adam({ learningRate: 1e38, beta1: 0.99 }),
  ],
  ['adam with β₂ that rounds to 1', InvalidArgumentError, 'adam.beta2', /rounds to 1 in float32/, () => adam({ beta2: 0.9999999999 })],
];

describe('issue 10: values are checked when data is fed; optimizers must work in float32', () => {
  it.each(feedCases)('%s', async (_, error, argument, message, action) => {
    await expectTypedRejection(action, { error, argument, message });
  });
  it.each(optimizerCases)('%s', (_, error, argument, message, action) => {
    expectTypedError(action, { error, argument, message });
  });

  it('a hand-written optimizer object is checked too', async () => {
    const b = fresh();
    await expectTypedRejection(() => trainer(b, { kind: 'sgd', learningRate: 1e39, momentum: 0 }), {
      error: NonFiniteError,
      argument: 'options.optimizer.learningRate',
    });
    await expectTypedRejection(() => trainer(b, { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-50 }), {
      error: InvalidArgumentError,
      argument: 'options.optimizer.epsilon',
    });
  });

  it("validate: 'shapes' skips the value checks (for speed)", async () => {
    const { graph } = await compiledLoss({ validate: 'shapes' });
    const out = await graph.run(feeds({ embeddings: { data: nanAt(8, 0), dims: [2, 4] } }));
    expect(Number.isNaN((out['loss']!.data as Float32Array)[0])).toBe(true);
  });

  it('a label −1 is accepted where the loss ignores it, and gives the loss of the other rows', async () => {
    const { graph } = await compiledLoss({}, true);
    const e = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0);
    const c = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0);
    const both = await graph.run({ embeddings: { data: e, dims: [2, 4] }, centers: { data: c, dims: [3, 4] }, labels: Int32Tensor([0, -1]) });
    const one = await graph.run({ embeddings: { data: e.slice(0, 4), dims: [1, 4] }, centers: { data: c, dims: [3, 4] }, labels: Int32Tensor([0]) });
    expect((both['loss']!.data as Float32Array)[0]).toBeCloseTo((one['loss']!.data as Float32Array)[0]!, 6);
  });

  /** Steps until one fails (at most 6); checks that it fails with NonFiniteError and leaves the trainer as it was. */
  async function stepUntilOverflow(t: Awaited<ReturnType<typeof headTrainer>>): Promise<NonFiniteError> {
    const embeddings = { data: Float32Array.of(1, 0.5, 0, 0, 0, 1, 0.5, 0), dims: [2, 4] };
    const labels = Int32Tensor([1, 0]); // misclassified: the gradients are not small
    for (let i = 0; i < 6; i++) {
      const centers = t.centers();
      const state = t.state();
      const steps = t.steps;
      let thrown: unknown;
      try {
        await t.step(embeddings, labels);
      } catch (e) {
        thrown = e;
      }
      if (thrown === undefined) continue;
      expect(thrown).toBeInstanceOf(NonFiniteError);
      const e = thrown as NonFiniteError;
      expect(e.argument).toMatch(/^step\./);
      expect(e.message.startsWith(`${e.argument}: `)).toBe(true);
      expect(e.message).toMatch(/the step was not taken/);
      expect(t.centers()).toEqual(centers);
      expect(t.state()).toEqual(state);
      expect(t.steps).toBe(steps);
      expect(t.centers().every(Number.isFinite)).toBe(true);
      // It fails the same way again: the optimizer state (velocity, moments) was not committed either.
      await expectTypedRejection(() => t.step(embeddings, labels), { error: NonFiniteError, argument: e.argument });
      expect(t.centers()).toEqual(centers);
      return e;
    }
    throw new Error('no step overflowed');
  }

  it.each([
    ['sgd', sgd({ learningRate: 3e38 })],
    ['sgd with momentum', sgd({ learningRate: 1e38, momentum: 0.9 })],
    ['adam', adam({ learningRate: 3e38, beta1: 0, epsilon: 1.2e-38 })],
  ] as const)('%s: a step whose result overflows float32 throws NonFiniteError and leaves the trainer as it was', async (_, optimizer) => {
    const b = fresh();
    const t = await headTrainer(b, {
      loss: marginSoftmaxLoss(b, { margin: arcface() }),
      centers: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0),
      classes: 3,
      dim: 4,
      optimizer,
    });
    await stepUntilOverflow(t);
    await t.dispose();
  });

  it('a failed step of a stateful loss leaves the margin state as it was', async () => {
    const b = fresh();
    const step = marginSoftmaxStep(b, { margin: counting() });
    const t = await headTrainer(b, {
      loss: step,
      centers: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0),
      classes: 3,
      dim: 4,
      optimizer: sgd({ learningRate: 3e38 }),
    });
    expect(Object.keys(t.state())).toEqual(['t']);
    await stepUntilOverflow(t);
    await t.dispose();
  });

  it('non-finite initial margin state is rejected', async () => {
    const b = fresh();
    const step = marginSoftmaxStep(b, { margin: counting() });
    await expectTypedRejection(
      () =>
        headTrainer(b, {
          loss: step,
          state: { t: Float32Array.of(Number.NaN) },
          centers: new Float32Array(12).fill(1),
          classes: 3,
          dim: 4,
          optimizer: sgd({ learningRate: 0.1 }),
        }),
      { error: NonFiniteError, argument: 'options.state.t', message: /NaN at \[0\]/ },
    );
  });
});

// tfjs and ORT agree on these edges: the same error class where tfjs throws. tfjs is not a
// dependency of this package, so its backend is loaded from the workspace source at run time.
type Edge = { embeddings: Float32Array; rows: number; labels: number[]; ignore?: boolean };
const edges: [string, Edge][] = [
  ['a label −1 without ignoreIndex', { embeddings: new Float32Array(8).fill(0.5), rows: 2, labels: [0, -1] }],
  ['a label equal to the class count', { embeddings: new Float32Array(8).fill(0.5), rows: 2, labels: [3, 0] }],
  ['a label −2 with ignoreIndex −1', { embeddings: new Float32Array(8).fill(0.5), rows: 2, labels: [-2, 0], ignore: true }],
  ['NaN embeddings', { embeddings: nanAt(8, 5), rows: 2, labels: [0, 1] }],
  ['Infinity embeddings', { embeddings: Float32Array.of(0, 0, 0, Number.NEGATIVE_INFINITY, 1, 1, 1, 1), rows: 2, labels: [0, 1] }],
  ['a batch of 0', { embeddings: new Float32Array(0), rows: 0, labels: [] }],
];

describe('tfjs and ORT agree on the feed-time edges', () => {
  const centers = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0);
  const caught = async (f: () => unknown): Promise<unknown> => {
    try {
      await f();
      return undefined;
    } catch (e) {
      return e;
    }
  };
  it.each(edges)('%s', async (_, edge) => {
    const tfjs = (spec: string) => import(/* @vite-ignore */ fileURLToPath(new URL(`../../backend-tfjs/src/${spec}`, import.meta.url)));
    const { tfjsBackend } = (await tfjs('backend.ts')) as { tfjsBackend(tf: unknown): Parameters<typeof marginSoftmaxLoss>[0] };
    const { useTfBackend } = (await tfjs('../test/tf-variants.ts')) as {
      useTfBackend(name: 'cpu'): Promise<{ tensor(values: ArrayLike<number>, shape: number[], dtype?: string): unknown }>;
    };
    const tf = await useTfBackend('cpu');
    const tb = tfjsBackend(tf);
    const options = { margin: arcface(), ...(edge.ignore ? { ignoreIndex: -1 as const } : {}) };
    const onTfjs = await caught(() =>
      marginSoftmaxLoss(tb, options)(tf.tensor(edge.embeddings, [edge.rows, 4]), tf.tensor(centers, [3, 4]), tf.tensor(edge.labels, [edge.rows], 'int32')),
    );
    const { graph } = await compiledLoss({}, edge.ignore);
    const onOrt = await caught(() =>
      graph.run({
        embeddings: { data: edge.embeddings, dims: [edge.rows, 4] },
        centers: { data: centers, dims: [3, 4] },
        labels: Int32Tensor(edge.labels),
      }),
    );
    expect(onTfjs, 'tfjs throws on this edge').toBeInstanceOf(MarginkitError);
    expect(onOrt).toBeInstanceOf((onTfjs as object).constructor);
    expect((onOrt as MarginkitError).constructor).toBe((onTfjs as object).constructor);
    expect((onOrt as InvalidArgumentError).argument).toBe(`feeds.${(onTfjs as InvalidArgumentError).argument}`);
  });
});
