import {
  InvalidBackendError,
  DTypeError,
  InvalidArgumentError,
  LabelError,
  MarginDomainError,
  NonFiniteError,
  RegistryError,
  ShapeError,
  arcface,
  combinedMargin,
  composeMargins,
  cosface,
  cosineLogits,
  createOps,
  createRegistry,
  defineMargin,
  degrees,
  marginLogits,
  marginSoftmaxLoss,
  marginSoftmaxStep,
  sphereface,
} from '@marginkit/core';
import * as tf from '@tensorflow/tfjs';
import * as tfc from '@tensorflow/tfjs-core';
import { type BadInputCase, expectTypedError } from '@marginkit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfjsBackend } from './backend.js';
import { marginHeadLayer } from './layer.js';
import { useTfBackend } from '../test/tf-variants.js';

/** Every row names its argument. */
type BadInput = BadInputCase & Required<Pick<BadInputCase, 'argument'>>;

const backend = tfjsBackend(tf);
const x = () =>
  tf.tensor2d([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const w = () =>
  tf.tensor2d([
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 1],
  ]);
const y = () => tf.tensor1d([0, 3], 'int32');
const stateful = defineMargin({
  type: 'stateful',
  params: {},
  state: { t: { shape: [], initial: () => [0] } },
  transform: ({ cosTarget }) => ({ target: cosTarget }),
});
const loss = (options: Record<string, unknown> = {}) => marginSoftmaxLoss(backend, { margin: arcface(), ...options });
// Calls with deliberately wrong types go through `unknown` parameters, not casts.
const call = (fn: (...args: never[]) => unknown, ...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args);

const TABLE: readonly BadInput[] = [
  // backend and options
  { what: 'null backend', run: () => call(marginSoftmaxLoss, null, { margin: arcface() }), error: InvalidBackendError, argument: 'backend' },
  {
    what: 'the tf module instead of a backend',
    run: () => call(marginSoftmaxLoss, tf, { margin: arcface() }),
    error: InvalidBackendError,
    argument: 'backend',
    message: /wrap it with tfjsBackend/,
  },
  { what: 'no options', run: () => call(marginSoftmaxLoss, backend), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.options' },
  { what: 'no margin', run: () => call(marginSoftmaxLoss, backend, { scale: 30 }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.margin' },
  { what: 'scale 0', run: () => loss({ scale: 0 }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.scale' },
  { what: 'scale < 0', run: () => loss({ scale: -64 }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.scale' },
  { what: 'scale NaN', run: () => loss({ scale: Number.NaN }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.scale' },
  { what: 'scale Infinity', run: () => loss({ scale: Number.POSITIVE_INFINITY }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.scale' },
  { what: 'unknown reduction', run: () => loss({ reduction: 'avg' }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.reduction' },
  { what: 'misspelt option', run: () => loss({ scael: 30 }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.scael', message: /expected one of/ },
  { what: 'epsilon too large', run: () => loss({ epsilon: 0.5 }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.epsilon' },
  { what: 'marginLogits without margin', run: () => call(marginLogits, backend, {}), error: InvalidArgumentError, argument: 'marginLogits.margin' },
  // tensors
  { what: 'embeddings of rank 1', run: () => loss()(tf.tensor1d([1, 2, 3]), w(), y()), error: ShapeError, argument: 'embeddings' },
  { what: 'embeddings of rank 3', run: () => loss()(tf.zeros([2, 3, 1]), w(), y()), error: ShapeError, argument: 'embeddings' },
  { what: 'empty batch', run: () => loss()(tf.zeros([0, 3]), w(), tf.tensor1d([], 'int32')), error: ShapeError, argument: 'embeddings', message: /empty/ },
  { what: 'centres of another dimension', run: () => loss()(x(), tf.zeros([4, 5]), y()), error: ShapeError, argument: 'centers' },
  { what: 'embeddings as a plain array', run: () => call(loss(), [[1, 2, 3]], w(), y()), error: InvalidArgumentError, argument: 'embeddings' },
  {
    what: 'int32 embeddings',
    run: () =>
      loss()(
        tf.tensor2d(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          undefined,
          'int32',
        ),
        w(),
        y(),
      ),
    error: DTypeError,
    argument: 'embeddings',
  },
  { what: 'float labels', run: () => loss()(x(), w(), tf.tensor1d([0, 3])), error: DTypeError, argument: 'labels', message: /int32/ },
  { what: 'labels of another length', run: () => loss()(x(), w(), tf.tensor1d([0, 1, 2], 'int32')), error: ShapeError, argument: 'labels' },
  { what: 'labels of rank 2', run: () => loss()(x(), w(), tf.tensor2d([[0], [3]], undefined, 'int32')), error: ShapeError, argument: 'labels' },
  {
    what: 'label = C (out of range)',
    run: () => loss()(x(), w(), tf.tensor1d([0, 4], 'int32')),
    error: LabelError,
    argument: 'labels',
    message: /labels\[1\] = 4 is not in \[0, 4\)/,
  },
  { what: 'negative label', run: () => loss()(x(), w(), tf.tensor1d([-1, 0], 'int32')), error: LabelError, argument: 'labels' },
  { what: 'non-integer label in an array', run: () => loss()(x(), w(), [0.5, 1]), error: LabelError, argument: 'labels', message: /not an integer/ },
  { what: 'label out of range in an array', run: () => loss()(x(), w(), [0, 9]), error: LabelError, argument: 'labels' },
  { what: 'labels as a string', run: () => call(loss(), x(), w(), '0,1'), error: InvalidArgumentError, argument: 'labels' },
  {
    what: 'NaN in embeddings',
    run: () =>
      loss()(
        tf.tensor2d([
          [1, Number.NaN, 3],
          [4, 5, 6],
        ]),
        w(),
        y(),
      ),
    error: NonFiniteError,
    argument: 'embeddings',
    message: /\[0, 1\]/,
  },
  {
    what: 'Infinity in centres',
    run: () =>
      loss()(
        x(),
        tf.tensor2d([
          [1, 0, 0],
          [0, Number.POSITIVE_INFINITY, 0],
          [0, 0, 1],
          [1, 1, 1],
        ]),
        y(),
      ),
    error: NonFiniteError,
    argument: 'centers',
  },
  { what: 'cosineLogits with mismatched dimensions', run: () => cosineLogits(backend)(x(), tf.zeros([4, 2])), error: ShapeError, argument: 'centers' },
  // margins
  { what: 'arcface m < 0', run: () => arcface({ m: -0.1 }), error: MarginDomainError, argument: 'arcface.m' },
  { what: 'arcface m = π', run: () => arcface({ m: Math.PI }), error: MarginDomainError, argument: 'arcface.m', message: /\[0, π\)/ },
  { what: 'arcface m NaN', run: () => arcface({ m: Number.NaN }), error: NonFiniteError, argument: 'arcface.m' },
  { what: 'arcface m as a string', run: () => call(arcface, { m: '0.5' }), error: InvalidArgumentError, argument: 'arcface.m' },
  { what: 'arcface unknown fallback', run: () => call(arcface, { fallback: 'linearr' }), error: InvalidArgumentError, argument: 'arcface.fallback' },
  { what: 'arcface unknown option', run: () => call(arcface, { margin: 0.5 }), error: InvalidArgumentError, argument: 'arcface.margin' },
  { what: 'sphereface m < 1', run: () => sphereface({ m: 0.5 }), error: MarginDomainError, argument: 'sphereface.m' },
  { what: "sphereface 'linear' with m ≠ 1", run: () => sphereface({ m: 4, fallback: 'linear' }), error: MarginDomainError, argument: 'sphereface.fallback' },
  { what: 'sphereface λ < 0', run: () => sphereface({ lambda: -1 }), error: MarginDomainError, argument: 'sphereface.lambda' },
  { what: 'combined m1 ≤ 0', run: () => combinedMargin({ m1: 0 }), error: MarginDomainError, argument: 'combinedMargin.m1' },
  {
    what: "combined 'linear' with m1 ≠ 1",
    run: () => combinedMargin({ m1: 0.9, fallback: 'linear' }),
    error: MarginDomainError,
    argument: 'combinedMargin.fallback',
  },
  { what: 'cosface m > 2', run: () => cosface({ m: 3 }), error: MarginDomainError, argument: 'cosface.m' },
  { what: "cosface 'psi' fallback", run: () => call(cosface, { fallback: 'psi' }), error: InvalidArgumentError, argument: 'cosface.fallback' },
  { what: 'compose of nothing', run: () => composeMargins(), error: InvalidArgumentError, argument: 'margins' },
  { what: 'compose of a non-margin', run: () => call(composeMargins, arcface(), {}), error: InvalidArgumentError, argument: 'margins[1]' },
  {
    what: 'defineMargin without targetLogit',
    run: () => call(defineMargin, { type: 'x', params: {} }),
    error: InvalidArgumentError,
    argument: 'definition.targetLogit',
  },
  {
    what: 'defineMargin with a NaN parameter',
    run: () => defineMargin({ type: 'x', params: { m: Number.NaN }, targetLogit: (c) => c }),
    error: InvalidArgumentError,
    argument: 'x.params.m',
  },
  { what: 'degrees(NaN)', run: () => degrees(Number.NaN), error: NonFiniteError, argument: 'degrees.value' },
  // registry
  {
    what: 'unknown margin type',
    run: () => createRegistry().margin({ type: 'nope' }),
    error: RegistryError,
    argument: 'config.type',
    message: /known: arcface/,
  },
  {
    what: '__proto__ key in a JSON config',
    run: () => createRegistry().margin(JSON.parse('{"__proto__":{"type":"arcface"}}')),
    error: RegistryError,
    argument: 'config.__proto__',
  },
  {
    what: 'constructor key in a config',
    run: () => createRegistry().margin({ type: 'arcface', constructor: 1 }),
    error: RegistryError,
    argument: 'config.constructor',
  },
  { what: 'prototype method name as a type', run: () => createRegistry().margin({ type: 'toString' }), error: RegistryError, argument: 'config.type' },
  {
    what: 'duplicate registration',
    run: () => createRegistry().registerMargin('arcface', () => arcface()),
    error: RegistryError,
    argument: 'type',
    message: /already registered/,
  },
  {
    what: 'registering __proto__',
    run: () => createRegistry({ builtins: false }).registerMargin('__proto__', () => arcface()),
    error: RegistryError,
    argument: 'type',
  },
  { what: 'a string as a config', run: () => createRegistry().margin('arcface'), error: RegistryError, argument: 'config' },
  {
    what: 'a misspelt margin parameter in a config',
    run: () => createRegistry().margin({ type: 'arcface', mm: 0.5 }),
    error: InvalidArgumentError,
    argument: 'arcface.mm',
  },
  {
    what: 'a misspelt loss option in a config',
    run: () => createRegistry().loss(backend, { margin: { type: 'arcface' }, scael: 3 }),
    error: RegistryError,
    argument: 'config.scael',
  },
  // ops and the backend package
  {
    what: 'matmul with mismatched inner dimensions',
    run: () => createOps(backend).matmul(tf.zeros([2, 3]), tf.zeros([2, 3])),
    error: ShapeError,
    argument: 'matmul.b',
  },
  { what: 'reduction axis out of range', run: () => createOps(backend).sum(tf.zeros([2, 3]), 2), error: InvalidArgumentError, argument: 'sum.axis' },
  { what: 'tfjsBackend of a non-module', run: () => call(tfjsBackend, {}), error: InvalidArgumentError, argument: 'tf' },
  { what: 'marginHeadLayer of tfjs-core (no layers)', run: () => call(marginHeadLayer, tfc), error: InvalidArgumentError, argument: 'tf' },
  {
    what: 'head layer with 0 classes',
    run: () => new (marginHeadLayer(tf))({ numClasses: 0, margin: arcface() }),
    error: InvalidArgumentError,
    argument: 'numClasses',
  },
  // options that pass a float64 check but cannot work in float32 (issue 10, class 2)
  {
    what: 'scale 1e7 (s·cos loses float32 precision)',
    run: () => loss({ scale: 1e7 }),
    error: InvalidArgumentError,
    argument: 'marginSoftmaxLoss.scale',
    message: /≤ 1000000.*float32/,
  },
  {
    what: 'scale 1e39 (beyond float32)',
    run: () => loss({ scale: 1e39 }),
    error: InvalidArgumentError,
    argument: 'marginSoftmaxLoss.scale',
    message: /float32/,
  },
  {
    what: 'marginLogits scale 1e300',
    run: () => marginLogits(backend, { margin: arcface(), scale: 1e300 }),
    error: InvalidArgumentError,
    argument: 'marginLogits.scale',
  },
  {
    what: 'a config with scale 1e9',
    run: () => createRegistry().loss(backend, { margin: { type: 'cosface' }, scale: 1e9 }),
    error: InvalidArgumentError,
    argument: 'marginSoftmaxLoss.scale',
  },
  {
    what: 'normEpsilon 1e-20 (its square underflows float32)',
    run: () => loss({ normEpsilon: 1e-20 }),
    error: InvalidArgumentError,
    argument: 'marginSoftmaxLoss.normEpsilon',
    message: /square.*float32/,
  },
  { what: 'normEpsilon 1e-50', run: () => loss({ normEpsilon: 1e-50 }), error: InvalidArgumentError, argument: 'marginSoftmaxLoss.normEpsilon' },
  {
    what: 'cosineLogits normEpsilon 1e-30',
    run: () => cosineLogits(backend, { normEpsilon: 1e-30 }),
    error: InvalidArgumentError,
    argument: 'cosineLogits.normEpsilon',
  },
  {
    what: 'sphereface m 1e5 (m·θ loses float32 precision)',
    run: () => sphereface({ m: 1e5 }),
    error: MarginDomainError,
    argument: 'sphereface.m',
    message: /float32/,
  },
  { what: 'sphereface m 1e308', run: () => sphereface({ m: 1e308 }), error: MarginDomainError, argument: 'sphereface.m' },
  {
    what: 'sphereface λ 1e39 (beyond float32)',
    run: () => sphereface({ lambda: 1e39 }),
    error: MarginDomainError,
    argument: 'sphereface.lambda',
    message: /float32/,
  },
  {
    what: 'sphereface λ 1e300 in a config',
    run: () => createRegistry().margin({ type: 'sphereface', lambda: 1e300 }),
    error: MarginDomainError,
    argument: 'sphereface.lambda',
  },
  { what: 'combined m1 1e6', run: () => combinedMargin({ m1: 1e6 }), error: MarginDomainError, argument: 'combinedMargin.m1', message: /float32/ },
  // tfjs edges: disposed tensors, string and complex dtypes (class 4)
  { what: 'disposed embeddings', run: () => loss()(disposed(x()), w(), y()), error: InvalidArgumentError, argument: 'embeddings', message: /disposed/ },
  { what: 'disposed centres', run: () => loss()(x(), disposed(w()), y()), error: InvalidArgumentError, argument: 'centers', message: /disposed/ },
  { what: 'disposed labels', run: () => loss()(x(), w(), disposed(y())), error: InvalidArgumentError, argument: 'labels', message: /disposed/ },
  { what: 'disposed centres to cosineLogits', run: () => cosineLogits(backend)(x(), disposed(w())), error: InvalidArgumentError, argument: 'centers' },
  {
    what: 'disposed tensor to an op',
    run: () => createOps(backend).add(x(), disposed(x())),
    error: InvalidArgumentError,
    argument: 'add.b',
    message: /disposed/,
  },
  { what: 'disposed tensor to reshape', run: () => createOps(backend).reshape(disposed(x()), [6]), error: InvalidArgumentError, argument: 'reshape.x' },
  { what: 'disposed variable as embeddings', run: () => loss()(disposed(tf.variable(x())), w(), y()), error: InvalidArgumentError, argument: 'embeddings' },
  {
    what: 'disposed state tensor of a step',
    run: () => marginSoftmaxStep(backend, { margin: stateful })(x(), w(), y(), { state: { t: disposed(tf.scalar(0)) } }),
    error: InvalidArgumentError,
    argument: 'options.state.t',
    message: /disposed/,
  },
  {
    what: 'string embeddings',
    run: () =>
      loss()(
        tf.tensor2d([
          ['a', 'b', 'c'],
          ['d', 'e', 'f'],
        ]),
        w(),
        y(),
      ),
    error: DTypeError,
    argument: 'embeddings',
    message: /expected float32, got string/,
  },
  {
    what: 'complex64 centres',
    run: () => loss()(x(), tf.complex(tf.zeros([4, 3]), tf.zeros([4, 3])), y()),
    error: DTypeError,
    argument: 'centers',
    message: /complex64/,
  },
  { what: 'string labels', run: () => loss()(x(), w(), tf.tensor1d(['0', '3'])), error: DTypeError, argument: 'labels', message: /string/ },
  {
    what: 'string tensor to an op',
    run: () => createOps(backend).exp(tf.tensor1d(['a'])),
    error: DTypeError,
    argument: 'exp.x',
    message: /expected float32, got string/,
  },
  { what: 'complex64 indices to oneHot', run: () => createOps(backend).oneHot(tf.complex([1], [0]), 2), error: DTypeError, argument: 'oneHot.indices' },
  {
    what: 'string condition to where',
    run: () => createOps(backend).where(tf.tensor1d(['a']), tf.zeros([1]), tf.zeros([1])),
    error: DTypeError,
    argument: 'where.condition',
  },
  { what: 'ops.dtype of a string tensor', run: () => createOps(backend).dtype(tf.tensor1d(['a'])), error: DTypeError, argument: 'dtype.x' },
  // registry limits (class 5)
  {
    what: 'compose nested 40 deep',
    run: () => createRegistry().margin(nested(40)),
    error: RegistryError,
    argument: 'config.margins[0]',
    message: /deeper than 32/,
  },
  {
    what: 'compose nested 100000 deep (no stack overflow)',
    run: () => createRegistry().margin(nested(100_000)),
    error: RegistryError,
    argument: 'config.margins[0]',
  },
  {
    what: 'compose of 2000 margins',
    run: () => createRegistry().margin(wide(2000)),
    error: RegistryError,
    argument: 'config.margins',
    message: /at most 1000/,
  },
  {
    what: 'compose of 10 × 200 margins (1000 in all)',
    run: () => createRegistry().margin({ type: 'compose', margins: Array.from({ length: 10 }, () => wide(200)) }),
    error: RegistryError,
    argument: 'config.margins[194]',
    message: /more than 1000 margins/,
  },
  {
    what: 'a 5 MB type name (the message stays short)',
    run: () => createRegistry().margin({ type: 'x'.repeat(5_000_000) }),
    error: RegistryError,
    argument: 'config.type',
    message: /^[\s\S]{0,400}$/,
  },
  {
    what: 'registering a 5 MB name',
    run: () => createRegistry().registerMargin('X'.repeat(5_000_000), () => arcface()),
    error: RegistryError,
    argument: 'type',
    message: /^[\s\S]{0,400}$/,
  },
  {
    what: 'a 5 MB fallback string',
    run: () => createRegistry().margin({ type: 'arcface', fallback: 'x'.repeat(5_000_000) }),
    error: InvalidArgumentError,
    argument: 'arcface.fallback',
    message: /^[\s\S]{0,400}$/,
  },
  {
    what: 'composeMargins nested 40 deep',
    run: () => Array.from({ length: 40 }).reduce<ReturnType<typeof arcface>>((m) => composeMargins(m), arcface()),
    error: InvalidArgumentError,
    argument: 'margins',
    message: /deeper than 32/,
  },
  {
    what: 'composeMargins of 1001 margins',
    run: () => composeMargins(...Array.from({ length: 1001 }, () => cosface())),
    error: InvalidArgumentError,
    argument: 'margins',
    message: /at most 1000/,
  },
  {
    what: 'a factory that returns null',
    run: () =>
      createRegistry()
        .registerMargin('broken', () => call(() => null) as never)
        .margin({ type: 'broken' }),
    error: RegistryError,
    argument: 'config',
    message: /"broken" returned null/,
  },
  {
    what: 'a factory that returns a non-margin',
    run: () =>
      createRegistry()
        .registerMargin('broken', () => ({ type: 'broken' }) as never)
        .margin({ type: 'broken' }),
    error: RegistryError,
    argument: 'config',
    message: /"broken".*not a margin/,
  },
  {
    what: 'a factory that returns null inside compose',
    run: () =>
      createRegistry()
        .registerMargin('broken', () => undefined as never)
        .margin({ type: 'compose', margins: [{ type: 'broken' }] }),
    error: RegistryError,
    argument: 'config.margins[0]',
  },
];

function disposed<T extends tf.Tensor>(t: T): T {
  t.dispose();
  return t;
}

function nested(depth: number): Record<string, unknown> {
  let config: Record<string, unknown> = { type: 'arcface' };
  for (let i = 0; i < depth; i++) config = { type: 'compose', margins: [config] };
  return config;
}

function wide(n: number): Record<string, unknown> {
  return { type: 'compose', margins: Array.from({ length: n }, () => ({ type: 'cosface', m: 0.1 })) };
}

describe('bad input gets a typed error naming the argument', () => {
  beforeAll(async () => {
    await useTfBackend('cpu');
  });

  it('covers at least 30 bad inputs', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
  });

  it.each(TABLE.map((t) => [t.what, t] as const))('%s', (_, t) => {
    expectTypedError(
      () =>
        tf.tidy(() => {
          t.run();
        }),
      t,
    );
  });
});
