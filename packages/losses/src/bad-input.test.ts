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
  composeMargins,
  cosface,
  createRegistry,
  defineMargin,
  marginLogits,
  marginSoftmaxLoss,
  marginSoftmaxStep,
} from '@marginkit/core';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import * as tf from '@tensorflow/tfjs';
import { type BadInputCase, expectTypedError } from '@marginkit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HeadCheckpoint, decodeCheckpoint, encodeCheckpoint, mergeCheckpoints, splitCheckpoint } from './checkpoint.js';
import { MarginHead } from './head.js';
import {
  AdaCosLoss,
  AdaFaceLoss,
  ArcFaceLoss,
  CosFaceLoss,
  CurricularFaceLoss,
  ElasticFaceLoss,
  MagFaceLoss,
  NormFaceLoss,
  SubCenterArcFaceLoss,
} from './heads.js';
import { adaface } from './margins/adaface.js';
import { curricularface } from './margins/curricularface.js';
import { elasticface } from './margins/elasticface.js';
import { magface } from './margins/magface.js';
import { createHead, createLossRegistry, loadHead, registerCatalogue } from './registry.js';

/** Every row names its argument and a message pattern. */
type BadInput = BadInputCase & Required<Pick<BadInputCase, 'argument' | 'message'>>;

const backend = tfjsBackend(tf);
// Calls with deliberately wrong types go through `unknown` parameters, not casts of the values.
const call = (fn: (...args: never[]) => unknown, ...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args);
const construct = (cls: abstract new (...args: never[]) => unknown, ...args: unknown[]) => new (cls as unknown as new (...a: unknown[]) => unknown)(...args);
const setProp = (target: object, key: string, value: unknown) => {
  (target as Record<string, unknown>)[key] = value;
};

const C = 5;
const D = 4;
const base = { numClasses: C, embeddingSize: D } as const;
/** Two embeddings [2, D]. */
const x = () =>
  tf.tensor2d([
    [1, 2, 3, 4],
    [-1, 0.5, 2, 0],
  ]);

// Checkpoints for the checkpoint rows, made once (saving is asynchronous).
interface Fixtures {
  arc: ArcFaceLoss<tf.Tensor, tf.Scalar>;
  arcCkpt: HeadCheckpoint;
  arcBytes: Uint8Array;
  arc6: HeadCheckpoint; // C = 6
  arcD5: HeadCheckpoint; // D = 5
  arcM03: HeadCheckpoint; // m = 0.3
  arcScale32: HeadCheckpoint;
  cosCkpt: HeadCheckpoint; // another margin type, same sizes
  sub2: SubCenterArcFaceLoss<tf.Tensor, tf.Scalar>;
  sub3Ckpt: HeadCheckpoint; // K = 3 into a K = 2 head
  curricular: CurricularFaceLoss<tf.Tensor, tf.Scalar>;
  curricularCkpt: HeadCheckpoint;
  adafaceCkpt: HeadCheckpoint;
  adafaceBytes: Uint8Array;
  shards: HeadCheckpoint[]; // the ArcFace checkpoint in 3 shards: [0, 2), [2, 4), [4, 5)
}
let fx: Fixtures;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const arc = new ArcFaceLoss(backend, { ...base, seed: 1 });
  const arcCkpt = await arc.save();
  const curricular = new CurricularFaceLoss(backend, { ...base, seed: 2 });
  const ada = new AdaFaceLoss(backend, { ...base, seed: 3 });
  // A training step moves AdaFace's μ and σ off their round initial values (20, 100).
  tf.tidy(() => {
    ada.loss(x(), [0, 1]);
  });
  const adafaceCkpt = await ada.save();
  const sub2 = new SubCenterArcFaceLoss(backend, { ...base, subCenters: 2 });
  fx = {
    arc,
    arcCkpt,
    arcBytes: encodeCheckpoint(arcCkpt),
    arc6: await new ArcFaceLoss(backend, { numClasses: 6, embeddingSize: D }).save(),
    arcD5: await new ArcFaceLoss(backend, { numClasses: C, embeddingSize: 5 }).save(),
    arcM03: await new ArcFaceLoss(backend, { ...base, margin: 0.3 }).save(),
    arcScale32: await new ArcFaceLoss(backend, { ...base, scale: 32 }).save(),
    cosCkpt: await new CosFaceLoss(backend, base).save(),
    sub2,
    sub3Ckpt: await new SubCenterArcFaceLoss(backend, { ...base, subCenters: 3 }).save(),
    curricular,
    curricularCkpt: await curricular.save(),
    adafaceCkpt,
    adafaceBytes: encodeCheckpoint(adafaceCkpt),
    shards: splitCheckpoint(arcCkpt, 3),
  };
});

/** Deterministic pseudo-random bytes (not the library's generator). */
function noise(n: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
}

/** The offset where the centres start in MKHD bytes (after magic, length, header and padding). */
function bodyStart(bytes: Uint8Array): number {
  const h = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  return 8 + h + ((4 - ((8 + h) % 4)) % 4);
}

/** A copy of `bytes` with one digit of the JSON header, just after `marker`, changed (still valid JSON). */
function changeDigitAfter(bytes: Uint8Array, marker: string): Uint8Array {
  const out = Uint8Array.from(bytes);
  const h = new DataView(out.buffer).getUint32(4, true);
  const text = new TextDecoder().decode(out.subarray(8, 8 + h));
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in the header`);
  let i = at + marker.length;
  while (!/[0-9]/.test(text[i]!)) i++;
  const digit = text.charCodeAt(i) - 48;
  out[8 + i] = 48 + ((digit + 1) % 10); // ASCII, so the character index is the byte index
  return out;
}

const withCenters = (c: HeadCheckpoint, centers: Float32Array): HeadCheckpoint => ({ ...c, centers });
const withState = (c: HeadCheckpoint, state: HeadCheckpoint['state']): HeadCheckpoint => ({ ...c, state });
const withRandom = (c: HeadCheckpoint, random: readonly number[]): HeadCheckpoint => ({ ...c, random });

const TABLE: readonly BadInput[] = [
  // ---- head constructors -------------------------------------------------------------------
  {
    what: 'numClasses 0',
    run: () => new MarginHead(backend, { margin: arcface(), numClasses: 0, embeddingSize: D }),
    error: InvalidArgumentError,
    argument: 'options.numClasses',
    message: /positive integer/,
  },
  {
    what: 'numClasses 1.5',
    run: () => new ArcFaceLoss(backend, { numClasses: 1.5, embeddingSize: D }),
    error: InvalidArgumentError,
    argument: 'options.numClasses',
    message: /positive integer.*1\.5/,
  },
  {
    what: "numClasses '10' (a string)",
    run: () => construct(ArcFaceLoss, backend, { numClasses: '10', embeddingSize: D }),
    error: InvalidArgumentError,
    argument: 'options.numClasses',
    message: /positive integer.*string/,
  },
  {
    what: 'numClasses missing',
    run: () => construct(CosFaceLoss, backend, { embeddingSize: D }),
    error: InvalidArgumentError,
    argument: 'options.numClasses',
    message: /positive integer/,
  },
  {
    what: 'embeddingSize 0',
    run: () => new CosFaceLoss(backend, { numClasses: C, embeddingSize: 0 }),
    error: InvalidArgumentError,
    argument: 'options.embeddingSize',
    message: /positive integer/,
  },
  {
    what: 'subCenters K = 0',
    run: () => new SubCenterArcFaceLoss(backend, { ...base, subCenters: 0 }),
    error: InvalidArgumentError,
    argument: 'options.subCenters',
    message: /positive integer/,
  },
  {
    what: 'subCenters K = 1.5',
    run: () => new SubCenterArcFaceLoss(backend, { ...base, subCenters: 1.5 }),
    error: InvalidArgumentError,
    argument: 'options.subCenters',
    message: /positive integer/,
  },
  {
    what: 'subCenters K = -2 on MarginHead',
    run: () => new MarginHead(backend, { ...base, margin: arcface(), subCenters: -2 }),
    error: InvalidArgumentError,
    argument: 'options.subCenters',
    message: /positive integer/,
  },
  {
    what: 'unknown option key (numClass)',
    run: () => construct(ArcFaceLoss, backend, { numClass: C, numClasses: C, embeddingSize: D }),
    error: InvalidArgumentError,
    argument: 'options.numClass',
    message: /unknown option/,
  },
  {
    what: 'unknown option key on NormFaceLoss',
    run: () => construct(NormFaceLoss, backend, { ...base, m: 0.5 }),
    error: InvalidArgumentError,
    argument: 'options.m',
    message: /unknown option/,
  },
  {
    what: '__proto__ key in head options',
    run: () => construct(ArcFaceLoss, backend, JSON.parse('{"numClasses": 5, "embeddingSize": 4, "__proto__": {"scale": 1}}')),
    error: InvalidArgumentError,
    argument: 'options.__proto__',
    message: /forbidden/,
  },
  {
    what: 'options null',
    run: () => construct(ArcFaceLoss, backend, null),
    error: InvalidArgumentError,
    argument: 'ArcFaceLoss.options',
    message: /numClasses/,
  },
  { what: 'seed 1.5', run: () => new ArcFaceLoss(backend, { ...base, seed: 1.5 }), error: InvalidArgumentError, argument: 'options.seed', message: /integer/ },
  {
    what: "seed '7' (a string)",
    run: () => construct(ArcFaceLoss, backend, { ...base, seed: '7' }),
    error: InvalidArgumentError,
    argument: 'options.seed',
    message: /integer/,
  },
  {
    what: 'seed NaN',
    run: () => new ArcFaceLoss(backend, { ...base, seed: Number.NaN }),
    error: InvalidArgumentError,
    argument: 'options.seed',
    message: /integer/,
  },
  {
    what: "init kind 'uniform'",
    run: () => construct(ArcFaceLoss, backend, { ...base, init: { kind: 'uniform' } }),
    error: InvalidArgumentError,
    argument: 'options.init.kind',
    message: /'normal' or 'xavier'/,
  },
  {
    what: 'init without kind',
    run: () => construct(ArcFaceLoss, backend, { ...base, init: { std: 0.1 } }),
    error: InvalidArgumentError,
    argument: 'options.init.kind',
    message: /'normal' or 'xavier'/,
  },
  {
    what: 'init normal std 0',
    run: () => new ArcFaceLoss(backend, { ...base, init: { kind: 'normal', std: 0 } }),
    error: InvalidArgumentError,
    argument: 'options.init.std',
    message: /\(0, ∞\)/,
  },
  {
    what: 'init normal std -0.01',
    run: () => new ArcFaceLoss(backend, { ...base, init: { kind: 'normal', std: -0.01 } }),
    error: InvalidArgumentError,
    argument: 'options.init.std',
    message: /\(0, ∞\)/,
  },
  {
    what: 'init normal std NaN',
    run: () => new ArcFaceLoss(backend, { ...base, init: { kind: 'normal', std: Number.NaN } }),
    error: NonFiniteError,
    argument: 'options.init.std',
    message: /finite/,
  },
  {
    what: 'init xavier with a std',
    run: () => construct(ArcFaceLoss, backend, { ...base, init: { kind: 'xavier', std: 0.1 } }),
    error: InvalidArgumentError,
    argument: 'options.init.std',
    message: /normal/,
  },
  {
    what: 'init unknown key',
    run: () => construct(ArcFaceLoss, backend, { ...base, init: { kind: 'normal', mean: 1 } }),
    error: InvalidArgumentError,
    argument: 'options.init.mean',
    message: /unknown option/,
  },
  {
    what: 'ignoreIndex 0',
    run: () => construct(ArcFaceLoss, backend, { ...base, ignoreIndex: 0 }),
    error: InvalidArgumentError,
    argument: 'options.ignoreIndex',
    message: /-1 or null/,
  },
  {
    what: 'ignoreIndex -100 (the PyTorch default)',
    run: () => construct(ArcFaceLoss, backend, { ...base, ignoreIndex: -100 }),
    error: InvalidArgumentError,
    argument: 'options.ignoreIndex',
    message: /-1 or null.*-100/,
  },
  {
    what: 'reduction none (heads reduce)',
    run: () => construct(ArcFaceLoss, backend, { ...base, reduction: 'none' }),
    error: InvalidArgumentError,
    argument: 'options.reduction',
    message: /'mean', 'sum'/,
  },
  // The head's options are `options.*` everywhere else; scale and epsilon are the head's options too.
  { what: 'scale 0', run: () => new ArcFaceLoss(backend, { ...base, scale: 0 }), error: InvalidArgumentError, argument: 'options.scale', message: /\(0, ∞\)/ },
  {
    what: 'scale -1',
    run: () => new CosFaceLoss(backend, { ...base, scale: -1 }),
    error: InvalidArgumentError,
    argument: 'options.scale',
    message: /\(0, ∞\)/,
  },
  {
    what: 'scale NaN',
    run: () => new ArcFaceLoss(backend, { ...base, scale: Number.NaN }),
    error: NonFiniteError,
    argument: 'options.scale',
    message: /finite/,
  },
  {
    what: 'epsilon 0.5 (> 0.1)',
    run: () => new ArcFaceLoss(backend, { ...base, epsilon: 0.5 }),
    error: InvalidArgumentError,
    argument: 'options.epsilon',
    message: /\(0, 0\.1\]/,
  },
  {
    what: 'AdaCosLoss with a scale',
    run: () => construct(AdaCosLoss, backend, { ...base, scale: 30 }),
    error: InvalidArgumentError,
    argument: 'AdaCosLoss.options.scale',
    message: /adapts its scale/,
  },
  {
    what: 'AdaCosLoss with 2 classes (s₀ = √2·ln(C − 1) needs C ≥ 3)',
    run: () => new AdaCosLoss(backend, { numClasses: 2, embeddingSize: D }),
    error: MarginDomainError,
    argument: 'adacos',
    message: /at least 3 classes/,
  },
  {
    what: 'MagFaceLoss λ_g 20 below the bound 22.587 at scale 64',
    run: () => new MagFaceLoss(backend, { ...base, margin: { lambdaG: 20 } }),
    error: MarginDomainError,
    argument: 'magface.lambdaG',
    message: /at least 22\.587.*got 20/,
  },
  {
    what: 'MagFaceLoss λ_g 40 below the bound 45.17 at scale 128',
    run: () => new MagFaceLoss(backend, { ...base, scale: 128, margin: { lambdaG: 40 } }),
    error: MarginDomainError,
    argument: 'magface.lambdaG',
    message: /at least 45\.17/,
  },
  {
    what: 'MagFaceLoss λ_g past what float32 holds',
    run: () => new MagFaceLoss(backend, { ...base, margin: { lambdaG: 1e31 } }),
    error: MarginDomainError,
    argument: 'magface.lambdaG',
    message: /float32/,
  },
  {
    what: 'MagFaceLoss upperNorm whose square overflows float32',
    run: () => new MagFaceLoss(backend, { ...base, margin: { upperNorm: 1e20 } }),
    error: MarginDomainError,
    argument: 'magface.upperNorm',
    message: /float32/,
  },
  {
    what: 'MagFaceLoss upperNorm = lowerNorm',
    run: () => new MagFaceLoss(backend, { ...base, margin: { lowerNorm: 10, upperNorm: 10 } }),
    error: MarginDomainError,
    argument: 'magface.upperNorm',
    message: /greater than lowerNorm/,
  },
  {
    what: 'MagFaceLoss upperNorm < lowerNorm',
    run: () => new MagFaceLoss(backend, { ...base, margin: { lowerNorm: 20, upperNorm: 5 } }),
    error: MarginDomainError,
    argument: 'magface.upperNorm',
    message: /greater than lowerNorm \(20\)/,
  },
  {
    what: 'MagFaceLoss upperMargin < lowerMargin',
    run: () => new MagFaceLoss(backend, { ...base, margin: { lowerMargin: 0.5, upperMargin: 0.4 } }),
    error: MarginDomainError,
    argument: 'magface.upperMargin',
    message: /at least lowerMargin/,
  },
  {
    what: 'AdaFaceLoss m = π/2',
    run: () => new AdaFaceLoss(backend, { ...base, margin: { m: Math.PI / 2 } }),
    error: MarginDomainError,
    argument: 'adaface.m',
    message: /\[0, π\/2\)/,
  },
  {
    what: 'AdaFaceLoss m = 2',
    run: () => new AdaFaceLoss(backend, { ...base, margin: { m: 2 } }),
    error: MarginDomainError,
    argument: 'adaface.m',
    message: /\[0, π\/2\)/,
  },
  // Angles past π are read as degrees given by mistake: the message points to degrees().
  {
    what: 'adaface m = 22.9 (degrees by mistake)',
    run: () => adaface({ m: 22.9 }),
    error: MarginDomainError,
    argument: 'adaface.m',
    message: /radians, got 22\.9: .*degrees\(22\.9\) = 0\.3997 rad/,
  },
  {
    what: 'curricularface m = 28.6 (degrees by mistake)',
    run: () => curricularface({ m: 28.6 }),
    error: MarginDomainError,
    argument: 'curricularface.m',
    message: /degrees\(28\.6\) = 0\.4992 rad/,
  },
  {
    what: 'elasticface arc m = 28.6 (degrees by mistake)',
    run: () => elasticface({ m: 28.6 }),
    error: MarginDomainError,
    argument: 'elasticface.m',
    message: /degrees\(28\.6\) = 0\.4992 rad/,
  },
  {
    what: 'magface upperMargin = 45 (degrees by mistake)',
    run: () => magface({ upperMargin: 45 }),
    error: MarginDomainError,
    argument: 'magface.upperMargin',
    message: /degrees\(45\) = 0\.7854 rad/,
  },
  {
    what: 'AdaFaceLoss m = 2 (below π: no degrees hint)',
    run: () => adaface({ m: 2 }),
    error: MarginDomainError,
    argument: 'adaface.m',
    message: /^adaface\.m: must be in \[0, π\/2\), got 2$/,
  },
  {
    what: 'AdaFaceLoss tAlpha 1.5',
    run: () => new AdaFaceLoss(backend, { ...base, margin: { tAlpha: 1.5 } }),
    error: MarginDomainError,
    argument: 'adaface.tAlpha',
    message: /\[0, 1\]/,
  },
  {
    what: 'AdaFaceLoss unknown margin option',
    run: () => construct(AdaFaceLoss, backend, { ...base, margin: { mm: 0.4 } }),
    error: InvalidArgumentError,
    argument: 'adaface.mm',
    message: /unknown option/,
  },
  {
    what: "ElasticFaceLoss variant 'x'",
    run: () => construct(ElasticFaceLoss, backend, { ...base, margin: { variant: 'x' } }),
    error: InvalidArgumentError,
    argument: 'elasticface.variant',
    message: /'arc', 'cos'/,
  },
  {
    what: 'ElasticFaceLoss std < 0',
    run: () => new ElasticFaceLoss(backend, { ...base, margin: { std: -0.01 } }),
    error: MarginDomainError,
    argument: 'elasticface.std',
    message: /\[0, 1\]/,
  },
  {
    what: "ElasticFaceLoss plus 'yes'",
    run: () => construct(ElasticFaceLoss, backend, { ...base, margin: { plus: 'yes' } }),
    error: InvalidArgumentError,
    argument: 'elasticface.plus',
    message: /boolean/,
  },
  {
    what: 'CurricularFaceLoss m = 2',
    run: () => new CurricularFaceLoss(backend, { ...base, margin: 2 }),
    error: MarginDomainError,
    argument: 'curricularface.m',
    message: /\[0, π\/2\)/,
  },
  {
    what: 'CurricularFaceLoss momentum 1.5',
    run: () => new CurricularFaceLoss(backend, { ...base, margin: { momentum: 1.5 } }),
    error: MarginDomainError,
    argument: 'curricularface.momentum',
    message: /\[0, 1\]/,
  },
  {
    what: 'ArcFaceLoss m = π',
    run: () => new ArcFaceLoss(backend, { ...base, margin: Math.PI }),
    error: MarginDomainError,
    argument: 'arcface.m',
    message: /\[0, π\)/,
  },
  {
    what: 'not a backend',
    run: () => construct(ArcFaceLoss, {}, base),
    error: InvalidBackendError,
    argument: 'backend',
    message: /not a marginkit v1 backend/,
  },
  {
    what: 'MarginHead without a margin',
    run: () => construct(MarginHead, backend, base),
    error: InvalidArgumentError,
    argument: 'options.margin',
    message: /expected a margin/,
  },

  // ---- calls --------------------------------------------------------------------------------
  // The head owns its centres, so a dimension mismatch is the embeddings' fault, not the centres'.
  {
    what: 'embeddings of dimension 3 for D = 4',
    run: () => fx.arc.loss(tf.zeros([2, 3]).add(1), [0, 1]),
    error: ShapeError,
    argument: 'embeddings',
    message: /3.*4|4.*3/,
  },
  { what: 'logits of embeddings of dimension 5', run: () => fx.arc.logits(tf.ones([2, 5])), error: ShapeError, argument: 'embeddings', message: /5.*4|4.*5/ },
  { what: 'embeddings of rank 1', run: () => fx.arc.loss(tf.ones([4]), [0]), error: ShapeError, argument: 'embeddings', message: /expected \[B, 4\]/ },
  { what: 'embeddings int32', run: () => fx.arc.loss(tf.ones([2, D], 'int32'), [0, 1]), error: DTypeError, argument: 'embeddings', message: /float32/ },
  {
    what: 'embeddings disposed',
    run: () => {
      const x = tf.ones([2, D]);
      x.dispose();
      return fx.arc.loss(x, [0, 1]);
    },
    error: InvalidArgumentError,
    argument: 'embeddings',
    message: /disposed/,
  },
  { what: 'embeddings of strings', run: () => fx.arc.loss(tf.tensor([['a', 'b']]), [0]), error: DTypeError, argument: 'embeddings', message: /string/ },
  {
    what: 'logits of disposed embeddings',
    run: () => {
      const x = tf.ones([2, D]);
      x.dispose();
      return fx.arc.logits(x);
    },
    error: InvalidArgumentError,
    argument: 'embeddings',
    message: /disposed/,
  },
  {
    what: 'embeddings not a tensor',
    run: () => call(fx.arc.loss.bind(fx.arc), [[1, 2, 3, 4]], [0]),
    error: InvalidArgumentError,
    argument: 'embeddings',
    message: /tensor/,
  },
  { what: 'label C (= 5)', run: () => fx.arc.loss(x(), [0, 5]), error: LabelError, argument: 'labels', message: /labels\[1\] = 5 is not in \[0, 5\)/ },
  { what: 'label −2', run: () => fx.arc.loss(x(), [-2, 1]), error: LabelError, argument: 'labels', message: /labels\[0\] = -2/ },
  { what: 'label 1.5', run: () => fx.arc.loss(x(), [0, 1.5]), error: LabelError, argument: 'labels', message: /not an integer/ },
  {
    what: 'label tensor out of range',
    run: () => fx.arc.loss(x(), tf.tensor1d([7, 0], 'int32')),
    error: LabelError,
    argument: 'labels',
    message: /labels\[0\] = 7/,
  },
  { what: 'label tensor float32', run: () => fx.arc.loss(x(), tf.tensor1d([0, 1], 'float32')), error: DTypeError, argument: 'labels', message: /int32/ },
  {
    what: 'label −1 with ignoreIndex null',
    run: () => new ArcFaceLoss(backend, { ...base, ignoreIndex: null }).loss(x(), [0, -1]),
    error: LabelError,
    argument: 'labels',
    message: /labels\[1\] = -1/,
  },
  { what: 'labels of length 3 for 2 rows', run: () => fx.arc.loss(x(), [0, 1, 2]), error: ShapeError, argument: 'labels', message: /3 entries.*2 rows/ },
  {
    what: 'labels tensor of length 1 for 2 rows',
    run: () => fx.arc.loss(x(), tf.tensor1d([0], 'int32')),
    error: ShapeError,
    argument: 'labels',
    message: /1 entries.*2 rows/,
  },
  { what: 'labels a string', run: () => call(fx.arc.loss.bind(fx.arc), x(), '01'), error: InvalidArgumentError, argument: 'labels', message: /Int32Array/ },
  {
    what: 'NaN in the embeddings',
    run: () =>
      fx.arc.loss(
        tf.tensor2d([
          [1, 2, 3, 4],
          [0, Number.NaN, 0, 1],
        ]),
        [0, 1],
      ),
    error: NonFiniteError,
    argument: 'embeddings',
    message: /NaN at \[1, 1\]/,
  },
  {
    what: 'Infinity in the embeddings (logits)',
    run: () => fx.arc.logits(tf.tensor2d([[Number.POSITIVE_INFINITY, 0, 0, 0]])),
    error: NonFiniteError,
    argument: 'embeddings',
    message: /Infinity at \[0, 0\]/,
  },
  {
    what: "training 'yes'",
    run: () => call(fx.arc.loss.bind(fx.arc), x(), [0, 1], { training: 'yes' }),
    error: InvalidArgumentError,
    argument: 'options.training',
    message: /boolean/,
  },
  {
    what: 'training 1 (forward)',
    run: () => call(fx.arc.forward.bind(fx.arc), x(), [0, 1], { training: 1 }),
    error: InvalidArgumentError,
    argument: 'options.training',
    message: /boolean/,
  },
  {
    what: 'unknown call option',
    run: () => call(fx.arc.loss.bind(fx.arc), x(), [0, 1], { train: true }),
    error: InvalidArgumentError,
    argument: 'options.train',
    message: /unknown option/,
  },

  // ---- centres ------------------------------------------------------------------------------
  {
    what: 'centres tensor [4, D] for C = 5',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', tf.zeros([4, D])),
    error: ShapeError,
    argument: 'centers',
    message: /expected \[5, 4\], got \[4, 4\]/,
  },
  {
    what: 'centres tensor [C, D, 1]',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', tf.zeros([C, D, 1])),
    error: ShapeError,
    argument: 'centers',
    message: /expected \[5, 4\]/,
  },
  {
    what: 'centres [C, D] for a K = 2 head (needs [C·K, D])',
    run: () => setProp(new SubCenterArcFaceLoss(backend, { ...base, subCenters: 2 }), 'centers', tf.ones([C, D])),
    error: ShapeError,
    argument: 'centers',
    message: /expected \[10, 4\]/,
  },
  {
    what: 'centres Float32Array of 19 values',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', new Float32Array(C * D - 1).fill(1)),
    error: ShapeError,
    argument: 'centers',
    message: /19 values.*needs 20/,
  },
  {
    what: 'centres Float32Array with NaN',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', new Float32Array(C * D).fill(1).fill(Number.NaN, 6, 7)),
    error: NonFiniteError,
    argument: 'centers',
    message: /NaN at \[1, 2\]/,
  },
  {
    what: 'centres Float32Array with −Infinity',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', new Float32Array(C * D).fill(Number.NEGATIVE_INFINITY)),
    error: NonFiniteError,
    argument: 'centers',
    message: /non-finite/,
  },
  // The setter promises finite values only; a tensor should be held to that as a Float32Array is.
  {
    what: 'centres from a disposed tensor',
    run: () => {
      const w = tf.ones([C, D]);
      w.dispose();
      return setProp(new ArcFaceLoss(backend, base), 'centers', w);
    },
    error: InvalidArgumentError,
    argument: 'centers',
    message: /disposed/,
  },
  {
    what: 'centres from a string tensor',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', tf.fill([C, D], 'a')),
    error: DTypeError,
    argument: 'centers',
    message: /string/,
  },
  {
    what: 'centres tensor with NaN',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', tf.fill([C, D], Number.NaN)),
    error: NonFiniteError,
    argument: 'centers',
    message: /non-finite/,
  },
  {
    what: 'centres int32 tensor',
    run: () => setProp(new ArcFaceLoss(backend, base), 'centers', tf.ones([C, D], 'int32')),
    error: DTypeError,
    argument: 'centers',
    message: /float32/,
  },
  {
    what: 'centres a plain array',
    run: () =>
      setProp(
        new ArcFaceLoss(backend, base),
        'centers',
        Array.from({ length: C * D }, () => 1),
      ),
    error: InvalidArgumentError,
    argument: 'centers',
    message: /Float32Array/,
  },

  // ---- state --------------------------------------------------------------------------------
  {
    what: 'AdaFace state missing batchStd',
    run: () => setProp(new AdaFaceLoss(backend, base), 'state', { batchMean: [20] }),
    error: ShapeError,
    argument: 'state.batchStd',
    message: /needs 1 value.*got none/,
  },
  {
    what: 'AdaFace state of wrong length',
    run: () => setProp(new AdaFaceLoss(backend, base), 'state', { batchMean: [20, 21], batchStd: [100] }),
    error: ShapeError,
    argument: 'state.batchMean',
    message: /needs 1 value.*got 2/,
  },
  {
    what: 'AdaFace state a bare number',
    run: () => setProp(new AdaFaceLoss(backend, base), 'state', { batchMean: 20, batchStd: [100] }),
    error: ShapeError,
    argument: 'state.batchMean',
    message: /needs 1 value/,
  },
  {
    what: 'CurricularFace state NaN',
    run: () => setProp(new CurricularFaceLoss(backend, base), 'state', { t: [Number.NaN] }),
    error: NonFiniteError,
    argument: 'state.t',
    message: /non-finite/,
  },
  {
    what: 'CurricularFace state Infinity (Float32Array)',
    run: () => setProp(new CurricularFaceLoss(backend, base), 'state', { t: Float32Array.of(Number.POSITIVE_INFINITY) }),
    error: NonFiniteError,
    argument: 'state.t',
    message: /non-finite/,
  },
  {
    what: 'CurricularFace state with an unknown key',
    run: () => setProp(new CurricularFaceLoss(backend, base), 'state', { t: [0], s: [1] }),
    error: InvalidArgumentError,
    argument: 'state.s',
    message: /unknown option; expected one of: t/,
  },
  {
    what: 'AdaFace state into CurricularFace',
    run: () => setProp(new CurricularFaceLoss(backend, base), 'state', new AdaFaceLoss(backend, base).state),
    error: InvalidArgumentError,
    argument: 'state.batchMean',
    message: /expected one of: t/,
  },
  {
    what: 'state on a stateless head',
    run: () => setProp(new ArcFaceLoss(backend, base), 'state', { t: [0] }),
    error: InvalidArgumentError,
    argument: 'state.t',
    message: /\(none\)/,
  },
  { what: 'state null', run: () => setProp(new AdaCosLoss(backend, base), 'state', null), error: InvalidArgumentError, argument: 'state', message: /object/ },

  // ---- checkpoints: load ---------------------------------------------------------------------
  {
    what: 'load a checkpoint of C = 6 into C = 5',
    run: () => fx.arc.load(fx.arc6),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /does not match this head/,
  },
  {
    what: 'load a checkpoint of D = 5 into D = 4',
    run: () => fx.arc.load(fx.arcD5),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /does not match this head/,
  },
  {
    what: 'load a checkpoint of K = 3 into K = 2',
    run: () => fx.sub2.load(fx.sub3Ckpt),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /does not match this head/,
  },
  {
    what: 'load a CosFace checkpoint into ArcFace',
    run: () => fx.arc.load(fx.cosCkpt),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /cosface/,
  },
  {
    what: 'load an ArcFace m 0.3 checkpoint into m 0.5',
    run: () => fx.arc.load(fx.arcM03),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /0\.3/,
  },
  {
    what: 'load a scale 32 checkpoint into scale 64',
    run: () => fx.arc.load(fx.arcScale32),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /does not match/,
  },
  {
    what: 'load an AdaFace checkpoint into CurricularFace',
    run: () => fx.curricular.load(fx.adafaceCkpt),
    error: InvalidArgumentError,
    argument: 'checkpoint.config',
    message: /adaface/,
  },
  {
    what: 'load a shard (classes [0, 2) of 5)',
    run: () => fx.arc.load(fx.shards[0]!),
    error: ShapeError,
    argument: 'checkpoint.classRange',
    message: /shard \[0, 2\).*mergeCheckpoints/,
  },
  {
    what: 'load a merge of two of three shards',
    run: () => fx.arc.load(mergeCheckpoints(fx.shards.slice(1))),
    error: ShapeError,
    argument: 'checkpoint.classRange',
    message: /shard \[2, 5\)/,
  },
  {
    what: 'load centres with NaN',
    run: () => fx.arc.load(withCenters(fx.arcCkpt, new Float32Array(C * D).fill(Number.NaN))),
    error: NonFiniteError,
    argument: 'checkpoint.centers',
    message: /non-finite/,
  },
  {
    what: 'load centres of the wrong length',
    run: () => fx.arc.load(withCenters(fx.arcCkpt, new Float32Array(C * D + 4))),
    error: ShapeError,
    argument: 'checkpoint.centers',
    message: /24 values/,
  },
  {
    what: 'load centres as a plain array',
    run: () => call(fx.arc.load.bind(fx.arc), { ...fx.arcCkpt, centers: Array.from(fx.arcCkpt.centers) }),
    error: InvalidArgumentError,
    argument: 'checkpoint.centers',
    message: /Float32Array/,
  },
  {
    what: 'load an object of another format',
    run: () => call(fx.arc.load.bind(fx.arc), { ...fx.arcCkpt, format: 'safetensors' }),
    error: InvalidArgumentError,
    argument: 'checkpoint.format',
    message: /marginkit-head/,
  },
  { what: 'load null', run: () => call(fx.arc.load.bind(fx.arc), null), error: InvalidArgumentError, argument: 'checkpoint', message: /checkpoint object/ },
  {
    what: 'load a generator state of three integers',
    run: () => fx.arc.load(withRandom(fx.arcCkpt, [1, 2, 3])),
    error: InvalidArgumentError,
    argument: 'checkpoint.random',
    message: /four integers/,
  },
  {
    what: 'load a generator state with a fraction',
    run: () => fx.arc.load(withRandom(fx.arcCkpt, [1, 2, 3, 0.5])),
    error: InvalidArgumentError,
    argument: 'checkpoint.random',
    message: /integers/,
  },
  {
    what: 'load a CurricularFace state NaN',
    run: () => fx.curricular.load(withState(fx.curricularCkpt, { t: { shape: [], data: [Number.NaN] } })),
    error: NonFiniteError,
    argument: 'checkpoint.state.t',
    message: /non-finite/,
  },
  {
    what: 'load a CurricularFace state without t',
    run: () => fx.curricular.load(withState(fx.curricularCkpt, {})),
    error: ShapeError,
    argument: 'checkpoint.state.t',
    message: /got none/,
  },
  {
    what: 'load an AdaFace state into a CurricularFace checkpoint',
    run: () => fx.curricular.load(withState(fx.curricularCkpt, fx.adafaceCkpt.state)),
    error: InvalidArgumentError,
    argument: 'checkpoint.state.batchMean',
    message: /expected one of: t/,
  },
  {
    what: 'load a state entry that is not { shape, data }',
    run: () => call(fx.curricular.load.bind(fx.curricular), { ...fx.curricularCkpt, state: { t: [0] } }),
    error: InvalidArgumentError,
    argument: 'checkpoint.state.t',
    message: /shape, data/,
  },

  // ---- checkpoints: bytes ------------------------------------------------------------------
  { what: 'decode random bytes', run: () => decodeCheckpoint(noise(256, 7)), error: InvalidArgumentError, argument: 'checkpoint', message: /no MKHD magic/ },
  {
    what: 'decode MKHD followed by random bytes',
    run: () => decodeCheckpoint(Uint8Array.from([0x4d, 0x4b, 0x48, 0x44, ...noise(252, 8)])),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /truncated|damaged/,
  },
  {
    what: 'decode three bytes',
    run: () => decodeCheckpoint(new Uint8Array([1, 2, 3])),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /no MKHD magic/,
  },
  {
    what: 'decode an ArrayBuffer (not a Uint8Array)',
    run: () => call(decodeCheckpoint, fx.arcBytes.slice().buffer),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /Uint8Array/,
  },
  {
    what: 'decode bytes truncated in the header',
    run: () => decodeCheckpoint(fx.arcBytes.subarray(0, 40)),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /truncated/,
  },
  {
    what: 'decode bytes missing the last float',
    run: () => decodeCheckpoint(fx.arcBytes.subarray(0, fx.arcBytes.length - 4)),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /truncated/,
  },
  {
    what: 'decode bytes missing one byte',
    run: () => decodeCheckpoint(fx.arcBytes.subarray(0, fx.arcBytes.length - 1)),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /truncated/,
  },
  {
    what: 'decode bytes with 4 extra bytes',
    run: () => decodeCheckpoint(Uint8Array.from([...fx.arcBytes, 0, 0, 0, 0])),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /padded/,
  },
  {
    what: 'decode with one flipped byte in the centres (CRC)',
    run: () => {
      const b = Uint8Array.from(fx.arcBytes);
      b[bodyStart(b) + 13]! ^= 0x01;
      return decodeCheckpoint(b);
    },
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /CRC-32/,
  },
  {
    what: 'decode with a damaged JSON header',
    run: () => {
      const b = Uint8Array.from(fx.arcBytes);
      b[8] = 0x78; // '{' → 'x'
      return decodeCheckpoint(b);
    },
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /damaged header/,
  },
  {
    what: 'decode with invalid UTF-8 in the header',
    run: () => {
      const b = Uint8Array.from(fx.arcBytes);
      b[20] = 0xff;
      return decodeCheckpoint(b);
    },
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /damaged header/,
  },
  // A damaged header that still parses: one digit of AdaFace's μ, or of the generator state,
  // changed. "Damaged bytes throw": the header needs the checksum as much as the centres do.
  {
    what: 'decode with one digit of the state changed in the header',
    run: () => decodeCheckpoint(changeDigitAfter(fx.adafaceBytes, '"batchMean":')),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /corrupt|CRC|damaged/,
  },
  {
    what: 'decode with one digit of the generator state changed in the header',
    run: () => decodeCheckpoint(changeDigitAfter(fx.adafaceBytes, '"random":')),
    error: InvalidArgumentError,
    argument: 'checkpoint',
    message: /corrupt|CRC|damaged/,
  },
  {
    what: 'encode a shard with centres of the wrong length',
    run: () => encodeCheckpoint(withCenters(fx.shards[1]!, new Float32Array(3))),
    error: ShapeError,
    argument: 'checkpoint.centers',
    message: /3 values/,
  },

  // ---- checkpoints: split and merge -----------------------------------------------------------
  { what: 'split into 0 parts', run: () => splitCheckpoint(fx.arcCkpt, 0), error: InvalidArgumentError, argument: 'parts', message: /\[1, 5\], got 0/ },
  { what: 'split into C + 1 parts', run: () => splitCheckpoint(fx.arcCkpt, C + 1), error: InvalidArgumentError, argument: 'parts', message: /\[1, 5\], got 6/ },
  { what: 'split into 1.5 parts', run: () => splitCheckpoint(fx.arcCkpt, 1.5), error: InvalidArgumentError, argument: 'parts', message: /integer/ },
  {
    what: 'split a 2-class shard into 3 parts',
    run: () => splitCheckpoint(fx.shards[0]!, 3),
    error: InvalidArgumentError,
    argument: 'parts',
    message: /\[1, 2\]/,
  },
  { what: 'merge no shards', run: () => mergeCheckpoints([]), error: InvalidArgumentError, argument: 'shards', message: /at least one/ },
  {
    what: 'merge with a gap ([0, 2) and [4, 5))',
    run: () => mergeCheckpoints([fx.shards[0]!, fx.shards[2]!]),
    error: ShapeError,
    argument: 'shards[1]',
    message: /do not tile: shards\[0\] ends at 2, shards\[1\] starts at 4/,
  },
  {
    what: 'merge with an overlap (a shard twice)',
    run: () => mergeCheckpoints([fx.shards[0]!, fx.shards[1]!, fx.shards[1]!, fx.shards[2]!]),
    error: ShapeError,
    argument: 'shards[2]',
    message: /do not tile/,
  },
  {
    what: 'merge shards of different configs',
    run: () => mergeCheckpoints([fx.shards[0]!, { ...fx.shards[1]!, config: { ...fx.shards[1]!.config, scale: 32 } }, fx.shards[2]!]),
    error: InvalidArgumentError,
    argument: 'shards[1]',
    message: /another config, state or generator state/,
  },
  {
    what: 'merge shards of different generator states',
    run: () => mergeCheckpoints([fx.shards[0]!, fx.shards[1]!, withRandom(fx.shards[2]!, [1, 2, 3, 4])]),
    error: InvalidArgumentError,
    argument: 'shards[2]',
    message: /another config, state or generator state/,
  },
  {
    what: 'merge shards of different states',
    run: () => {
      const s = splitCheckpoint(fx.adafaceCkpt, 2);
      return mergeCheckpoints([s[0]!, withState(s[1]!, { ...s[1]!.state, batchMean: { shape: [], data: [3] } })]);
    },
    error: InvalidArgumentError,
    argument: 'shards[1]',
    message: /another config, state or generator state/,
  },
  // The error should name the odd shard as the caller indexed it: here shards[2], given out of order.
  {
    what: 'merge shards out of order, the odd one named by its index in the argument',
    run: () => mergeCheckpoints([fx.shards[2]!, fx.shards[0]!, withRandom(fx.shards[1]!, [9, 9, 9, 9])]),
    error: InvalidArgumentError,
    argument: 'shards[2]',
    message: /another config, state or generator state/,
  },

  // ---- registry and createHead --------------------------------------------------------------
  {
    what: 'createHead of an unknown margin type',
    run: () => createHead(backend, { margin: { type: 'arcfce' }, ...base }),
    error: RegistryError,
    argument: 'config.type',
    message: /unknown margin type "arcfce"; known: adacos, adaface, arcface/,
  },
  {
    what: 'createHead of a catalogue type on a core-only registry',
    run: () => createHead(backend, { margin: { type: 'adaface' }, ...base }, createRegistry()),
    error: RegistryError,
    argument: 'config.type',
    message: /unknown margin type "adaface"/,
  },
  {
    what: 'createHead without a margin',
    run: () => call(createHead, backend, { ...base }),
    error: RegistryError,
    argument: 'spec.margin',
    message: /margin config/,
  },
  {
    what: 'createHead with an unknown spec key',
    run: () => call(createHead, backend, { margin: { type: 'arcface' }, ...base, scael: 3 }),
    error: InvalidArgumentError,
    argument: 'spec.scael',
    message: /unknown option/,
  },
  {
    what: '__proto__ key in a margin config',
    run: () => createHead(backend, { margin: JSON.parse('{"type": "arcface", "__proto__": {"m": 3}}'), ...base }),
    error: RegistryError,
    argument: 'config.__proto__',
    message: /forbidden/,
  },
  {
    what: '__proto__ key in a head spec',
    run: () => createHead(backend, JSON.parse('{"margin": {"type": "cosface"}, "numClasses": 5, "embeddingSize": 4, "__proto__": {}}')),
    error: InvalidArgumentError,
    argument: 'spec.__proto__',
    message: /forbidden/,
  },
  {
    what: 'constructor key in a catalogue margin config',
    run: () => createHead(backend, { margin: { type: 'adaface', constructor: 1 }, ...base }),
    error: RegistryError,
    argument: 'config.constructor',
    message: /forbidden/,
  },
  {
    what: 'createHead of adaface m 2',
    run: () => createHead(backend, { margin: { type: 'adaface', m: 2 }, ...base }),
    error: MarginDomainError,
    argument: 'adaface.m',
    message: /\[0, π\/2\)/,
  },
  {
    what: 'createHead of magface λ_g 20 at scale 64',
    run: () => createHead(backend, { margin: { type: 'magface', lambdaG: 20 }, ...base }),
    error: MarginDomainError,
    argument: 'magface.lambdaG',
    message: /22\.587/,
  },
  {
    what: 'createHead of adacos with a parameter',
    run: () => createHead(backend, { margin: { type: 'adacos', s: 30 }, ...base }),
    error: InvalidArgumentError,
    argument: 'adacos.s',
    message: /unknown option/,
  },
  {
    what: 'registerCatalogue twice on one registry',
    run: () => registerCatalogue(registerCatalogue(createRegistry())),
    error: RegistryError,
    argument: 'type',
    message: /"adacos" is already registered/,
  },
  {
    what: 'registerCatalogue on createLossRegistry()',
    run: () => registerCatalogue(createLossRegistry()),
    error: RegistryError,
    argument: 'type',
    message: /already registered/,
  },
  { what: 'loadHead of null', run: () => call(loadHead, backend, null), error: InvalidArgumentError, argument: 'checkpoint', message: /checkpoint/ },
  { what: 'loadHead of a shard', run: () => loadHead(backend, fx.shards[1]!), error: ShapeError, argument: 'checkpoint.classRange', message: /shard \[2, 4\)/ },

  // ---- core -----------------------------------------------------------------------------------
  // MagFace's λ_g bound depends on the loss's scale: every loss built with the margin checks it.
  {
    what: 'marginSoftmaxLoss with magface({ lambdaG: 20 }) at scale 64 (bound 22.587)',
    run: () => marginSoftmaxLoss(backend, { margin: magface({ lambdaG: 20 }), scale: 64 }),
    error: MarginDomainError,
    argument: 'magface.lambdaG',
    message: /at least 22\.587/,
  },
  {
    what: 'marginSoftmaxStep with MagFace inside composeMargins, scale 32 (bound 11.293)',
    run: () => marginSoftmaxStep(backend, { margin: composeMargins(cosface({ m: 0.1 }), magface({ lambdaG: 11 })), scale: 32 }),
    error: MarginDomainError,
    argument: 'magface.lambdaG',
    message: /at least 11\.293/,
  },
  {
    what: 'marginSoftmaxLoss with adaface() (state)',
    run: () => marginSoftmaxLoss(backend, { margin: adaface() }),
    error: InvalidArgumentError,
    argument: 'marginSoftmaxLoss.margin',
    message: /state \(batchMean, batchStd\).*marginSoftmaxStep/,
  },
  {
    what: 'marginSoftmaxLoss with elasticface() (per-step inputs)',
    run: () => marginSoftmaxLoss(backend, { margin: elasticface() }),
    error: InvalidArgumentError,
    argument: 'marginSoftmaxLoss.margin',
    message: /per-step inputs \(margins\)/,
  },
  {
    what: 'marginLogits with curricularface() (state)',
    run: () => marginLogits(backend, { margin: curricularface() }),
    error: InvalidArgumentError,
    argument: 'marginLogits.margin',
    message: /state \(t\)/,
  },
  {
    what: 'marginSoftmaxStep of elasticface without inputs.margins',
    run: () => marginSoftmaxStep(backend, { margin: elasticface() })(x(), tf.ones([C, D]), [0, 1]),
    error: InvalidArgumentError,
    argument: 'options.inputs.margins',
    message: /required by margin 'elasticface'/,
  },
  {
    what: 'marginSoftmaxStep of elasticface with inputs.margins of 3 rows for 2',
    run: () => marginSoftmaxStep(backend, { margin: elasticface() })(x(), tf.ones([C, D]), [0, 1], { inputs: { margins: tf.zeros([3]) } }),
    error: ShapeError,
    argument: 'options.inputs.margins',
    message: /expected shape \[2\]/,
  },
  {
    what: 'marginSoftmaxStep with a state of the wrong shape',
    run: () => marginSoftmaxStep(backend, { margin: adaface() })(x(), tf.ones([C, D]), [0, 1], { state: { batchMean: tf.zeros([2]) } }),
    error: ShapeError,
    argument: 'options.state.batchMean',
    message: /expected shape \[\] for margin 'adaface', got \[2\]/,
  },
  {
    what: 'marginSoftmaxStep with an unknown state key',
    run: () => marginSoftmaxStep(backend, { margin: curricularface() })(x(), tf.ones([C, D]), [0, 1], { state: { s: tf.zeros([]) } }),
    error: InvalidArgumentError,
    argument: 'options.state.s',
    message: /unknown option/,
  },
  {
    what: 'marginSoftmaxStep with a state that is not a tensor',
    run: () => call(marginSoftmaxStep(backend, { margin: curricularface() }), x(), tf.ones([C, D]), [0, 1], { state: { t: [0] } }),
    error: InvalidArgumentError,
    argument: 'options.state.t',
    message: /tensor/,
  },
  {
    what: "marginSoftmaxStep with training 'no'",
    run: () => call(marginSoftmaxStep(backend, { margin: cosface() }), x(), tf.ones([C, D]), [0, 1], { training: 'no' }),
    error: InvalidArgumentError,
    argument: 'options.training',
    message: /boolean/,
  },
  {
    what: 'defineMargin with both targetLogit and transform',
    run: () => defineMargin({ type: 'both', params: {}, targetLogit: (c) => c, transform: ({ cosTarget }) => ({ target: cosTarget }) }),
    error: InvalidArgumentError,
    argument: 'definition.targetLogit',
    message: /exactly one of targetLogit/,
  },
  {
    what: 'defineMargin with neither',
    run: () => defineMargin({ type: 'neither', params: {} }),
    error: InvalidArgumentError,
    argument: 'definition.targetLogit',
    message: /exactly one of targetLogit/,
  },
  {
    what: 'defineMargin one-line with state',
    run: () => defineMargin({ type: 'oneline-state', params: {}, targetLogit: (c) => c, state: { t: { shape: [], initial: () => [0] } } }),
    error: InvalidArgumentError,
    argument: 'definition.state',
    message: /wide form/,
  },
];

describe('bad input gets a typed error naming the argument', () => {
  it('covers every family of bad input', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(120);
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

describe('inputs at the edge of the domain are accepted', () => {
  it('label −1 is ignored by default (ignoreIndex −1) and gives a finite loss', () => {
    const head = new ArcFaceLoss(backend, { ...base, scale: 8 });
    tf.tidy(() => {
      const v = head.loss(x(), [-1, 2]).dataSync()[0]!;
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
      // Every row ignored: nothing counts, the mean is 0 (not NaN).
      expect(head.loss(x(), [-1, -1]).dataSync()[0]).toBe(0);
    });
  });

  it('label −1 as an int32 tensor is ignored too', () => {
    const head = new CosFaceLoss(backend, { ...base, scale: 8 });
    tf.tidy(() => {
      expect(Number.isFinite(head.loss(x(), tf.tensor1d([-1, 4], 'int32')).dataSync()[0]!)).toBe(true);
    });
  });

  it('MagFace λ_g 20 is enough at scale 32 (bound 11.29), and the bound is exactly s·k·u²l²/(u² − l²)', () => {
    expect(() => new MagFaceLoss(backend, { ...base, scale: 32, margin: { lambdaG: 20 } })).not.toThrow();
    // k = 0.35/100; 64·0.0035·110²·10²/(110² − 10²) = 22.5866…: 22.59 passes, 22.58 does not.
    expect(() => new MagFaceLoss(backend, { ...base, margin: { lambdaG: 22.59 } })).not.toThrow();
    expect(() => new MagFaceLoss(backend, { ...base, margin: { lambdaG: 22.58 } })).toThrow(MarginDomainError);
  });

  it('AdaFace m just below π/2, ElasticFace std 0, CurricularFace momentum 0 and 1, seed −3', () => {
    expect(() => new AdaFaceLoss(backend, { ...base, margin: { m: Math.PI / 2 - 1e-9 } })).not.toThrow();
    expect(() => new ElasticFaceLoss(backend, { ...base, margin: { std: 0 } })).not.toThrow();
    expect(() => new CurricularFaceLoss(backend, { ...base, margin: { momentum: 0 } })).not.toThrow();
    expect(() => new CurricularFaceLoss(backend, { ...base, margin: { momentum: 1 } })).not.toThrow();
    expect(() => new ArcFaceLoss(backend, { ...base, seed: -3 })).not.toThrow();
  });
});

describe('a failed load leaves the head exactly as it was', () => {
  /** Everything observable about a head: its checkpoint (centres, state, generator) and the generator state. */
  async function snapshot(head: MarginHead<tf.Tensor, tf.Scalar>) {
    const c = await head.save();
    return { centers: Array.from(c.centers), state: c.state, random: c.random, randomState: head.randomState, live: head.state };
  }

  it.each([
    ['AdaFaceLoss', (seed: number) => new AdaFaceLoss(backend, { ...base, seed, margin: { tAlpha: 0.5 } })],
    ['CurricularFaceLoss', (seed: number) => new CurricularFaceLoss(backend, { ...base, seed })],
    ['ElasticFaceLoss', (seed: number) => new ElasticFaceLoss(backend, { ...base, seed })],
  ] as const)('%s', async (_, make) => {
    const head = make(11);
    const other = make(12);
    // Move both away from their initial state: trained centres, advanced state and generator.
    const optimizer = tf.train.sgd(0.5);
    for (const h of [head, other]) {
      for (let i = 0; i < 2; i++) optimizer.minimize(() => h.loss(x(), [i, 3]));
    }
    const good = await other.save();
    const before = await snapshot(head);
    const badOnes: readonly [string, HeadCheckpoint][] = [
      ['another C', { ...good, config: { ...good.config, numClasses: 6 } }],
      ['a shard', splitCheckpoint(good, 2)[1]!],
      [
        'NaN centres',
        withCenters(
          good,
          Float32Array.from(good.centers, (v, i) => (i === good.centers.length - 1 ? Number.NaN : v)),
        ),
      ],
      ...(Object.keys(good.state).length === 0
        ? []
        : ([['a NaN state', withState(good, Object.fromEntries(Object.entries(good.state).map(([k, v]) => [k, { shape: v.shape, data: [Number.NaN] }])))]] as [
            string,
            HeadCheckpoint,
          ][])),
      ['an extra state key', withState(good, { ...good.state, extra: { shape: [], data: [1] } })],
      ['a bad generator state (last check)', withRandom(good, [good.random[0]!, good.random[1]!, good.random[2]!, 2 ** 33])],
    ];
    for (const [what, bad] of badOnes) {
      expect(() => head.load(bad), what).toThrow(InvalidArgumentError);
      expect(await snapshot(head), what).toEqual(before);
    }
    // And a good load afterwards still works: the head takes the other's checkpoint.
    head.load(good);
    expect(await snapshot(head)).toEqual(await snapshot(other));
  });
});
