/**
 * The demo's experiment: the same small network trained on 8 Fashion-MNIST classes with plain
 * softmax and with margin losses, each twice — with a 2-D embedding (the paper's picture) and a
 * higher-dimensional one — and open-set verification on held-out images of all 10 classes.
 */
import type { OrtBackend } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { InvalidArgumentError, type MarginConfig, createOps } from '@marginkit/core';
import { lfwTenFold, matrix, verificationReport } from '@marginkit/eval';
import { createLossRegistry } from '@marginkit/losses';
import type * as tf from '@tensorflow/tfjs';
import type { Split } from './data.js';
import { type FashionMnist, loadFashionMnist } from './fashion-mnist.js';
import { allPairs } from './pairs.js';
import type { LossRun, ReportData, TargetCurve, VerificationRun } from './report/model.js';
import { type EpochReport, type TrainResult, trainEmbedding } from './train.js';

/** One loss the demo can run. */
export interface LossSpec {
  /** Legend label. */
  readonly label: string;
  /** The margin config (core's margins and the catalogue), or null for plain softmax with bias. */
  readonly margin: MarginConfig | null;
  /** Sub-centres per class. */
  readonly subCenters?: number;
}

/** The losses the demo can run, by name (what `--losses` takes). */
export const LOSSES: Readonly<Record<string, LossSpec>> = {
  softmax: { label: 'Softmax (bias, unnormalised)', margin: null },
  normface: { label: 'NormFace (no margin)', margin: { type: 'none' } },
  sphereface: { label: 'SphereFace m=1.35', margin: { type: 'sphereface', m: 1.35 } },
  cosface: { label: 'CosFace m=0.35', margin: { type: 'cosface', m: 0.35 } },
  arcface: { label: 'ArcFace m=0.5', margin: { type: 'arcface', m: 0.5 } },
  combined: { label: 'Combined (1, 0.3, 0.2)', margin: { type: 'combined', m1: 1, m2: 0.3, m3: 0.2 } },
  cm2: { label: 'Combined (0.9, 0.4, 0.15)', margin: { type: 'combined', m1: 0.9, m2: 0.4, m3: 0.15 } },
  subcenter: { label: 'Sub-center ArcFace K=3', margin: { type: 'arcface', m: 0.5 }, subCenters: 3 },
  adacos: { label: 'AdaCos', margin: { type: 'adacos' } },
  curricularface: { label: 'CurricularFace m=0.5', margin: { type: 'curricularface', m: 0.5 } },
  magface: { label: 'MagFace', margin: { type: 'magface' } },
  adaface: { label: 'AdaFace m=0.4', margin: { type: 'adaface', m: 0.4 } },
  elasticface: { label: 'ElasticFace-Arc', margin: { type: 'elasticface', variant: 'arc' } },
  'elasticface-plus': { label: 'ElasticFace-Arc+', margin: { type: 'elasticface', variant: 'arc', plus: true } },
};

/** The paper's comparison: what the demo runs by default. */
export const DEFAULT_LOSSES = ['softmax', 'normface', 'sphereface', 'cosface', 'arcface', 'combined'] as const;

/** The classes trained on; the other two appear only in the verification pairs. */
export const SEEN_CLASSES = [0, 1, 2, 3, 4, 5, 6, 7] as const;

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  /** Keys of {@link LOSSES}. */
  readonly losses: readonly string[];
  /** A short run: fewer images and epochs. */
  readonly quick: boolean;
  /** Epochs per run (default 12, quick 3). */
  readonly epochs?: number;
  /** Dimension of the verification embedding. Default 32. */
  readonly dim?: number;
  /** The seed of everything. Default 11. */
  readonly seed?: number;
  /** Train margin heads on ONNX Runtime (the net stays on tfjs). */
  readonly ortHead?: OrtBackend;
  /** Progress: a run starts (`phase` 'picture' or 'verification'). */
  readonly onRunStart?: (key: string, phase: 'picture' | 'verification', epochs: number, batches: number) => void;
  /** Progress: after every batch. */
  readonly onBatch?: (batch: number, batches: number, loss: number) => void;
  /** Progress: after every epoch. */
  readonly onEpoch?: (report: EpochReport) => void;
  /** A run ended (both phases of one loss). */
  readonly onLossDone?: (run: LossRun) => void;
}

/** What {@link runExperiment} returns: the report's data and the verification embeddings. */
export interface ExperimentResult {
  /** Everything the report shows. */
  readonly report: ReportData;
  /** Per loss key, the raw verification embeddings of all held-out images [N, D]. */
  readonly embeddings: Readonly<Record<string, Float32Array>>;
  /** Labels (0..9) of all held-out images. */
  readonly testLabels: Int32Array;
  /** Per loss key, the cosine score of every pair i < j of held-out images (what the metrics come from). */
  readonly pairScores: Readonly<Record<string, Float32Array>>;
  /** 1 where a pair i < j shows the same class. */
  readonly pairLabels: Uint8Array;
}

const SCALE = 16;
const FAR_TARGETS = [1e-3, 1e-2] as const;

/** 2×2 average pooling: 28×28 images to 14×14 (196 inputs), which keeps the runs fast on 2 cores. */
export function downsample(images: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * 196);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < 14; r++) {
      for (let c = 0; c < 14; c++) {
        const at = (rr: number, cc: number) => images[n * 784 + rr * 28 + cc]!;
        out[n * 196 + r * 14 + c] = (at(2 * r, 2 * c) + at(2 * r, 2 * c + 1) + at(2 * r + 1, 2 * c) + at(2 * r + 1, 2 * c + 1)) / 4;
      }
    }
  }
  return out;
}

interface Prepared {
  readonly train: Split;
  readonly testSeen: Split;
  readonly testAll: tf.Tensor2D;
  readonly testLabels: Int32Array;
  dispose(): void;
}

/** The training split (seen classes only, `perClass` images each), and the held-out images. */
function prepare(t: typeof tf, data: FashionMnist, perClass: number): Prepared {
  const seen = new Map<number, number>(SEEN_CLASSES.map((c, i) => [c, i]));
  const pick = (labels: Int32Array, limit: number) => {
    const taken = new Map<number, number>();
    const idx: number[] = [];
    labels.forEach((y, i) => {
      const k = taken.get(y) ?? 0;
      if (seen.has(y) && k < limit) {
        idx.push(i);
        taken.set(y, k + 1);
      }
    });
    return idx;
  };
  const rows = (x: Float32Array, idx: readonly number[]) => {
    const out = new Float32Array(idx.length * 196);
    for (const [k, i] of idx.entries()) out.set(x.subarray(i * 196, i * 196 + 196), k * 196);
    return out;
  };
  const trainX = downsample(data.train.images, data.train.count);
  const testX = downsample(data.test.images, data.test.count);
  const trainIdx = pick(data.train.labels, perClass);
  const testIdx = pick(data.test.labels, Number.POSITIVE_INFINITY);
  const split = (x: Float32Array, labels: Int32Array, idx: number[]): Split => ({
    x: t.tensor2d(rows(x, idx), [idx.length, 196]),
    labels: t.tensor1d(
      idx.map((i) => seen.get(labels[i]!)!),
      'int32',
    ),
  });
  const train = split(trainX, data.train.labels, trainIdx);
  const testSeen = split(testX, data.test.labels, testIdx);
  const testAll = t.tensor2d(testX, [data.test.count, 196]);
  return {
    train,
    testSeen,
    testAll,
    testLabels: Int32Array.from(data.test.labels),
    dispose: () => t.dispose([train.x, train.labels, testSeen.x, testSeen.labels, testAll]),
  };
}

/** L2-normalised copies of [N, D] rows. */
export function unitRows(embeddings: Float32Array, dim: number): Float32Array {
  const unit = Float32Array.from(embeddings);
  for (let i = 0; i < unit.length / dim; i++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += unit[i * dim + c]! ** 2;
    const norm = Math.sqrt(Math.max(s, 1e-24));
    for (let c = 0; c < dim; c++) unit[i * dim + c]! /= norm;
  }
  return unit;
}

/**
 * Open-set verification on every pair of held-out images of all 10 classes (cosine scores): the
 * metrics, and the pairs they were computed from (which the demo saves for the eval CLI).
 */
export function verify(
  embeddings: Float32Array,
  labels: Int32Array,
  dim: number,
  seed: number,
): { metrics: Omit<VerificationRun, 'dim' | 'loss' | 'accuracy' | 'thetaTarget'>; pairs: { scores: Float32Array; same: Uint8Array } } {
  const unit = unitRows(embeddings, dim);
  const pairs = allPairs(unit, labels, dim);
  const report = verificationReport(pairs.scores, pairs.same, { farTargets: [...FAR_TARGETS] });
  const tenFold = tenFoldPairs(unit, labels, dim, seed);
  return { metrics: verificationMetrics(report, tenFold), pairs };
}

function verificationMetrics(report: ReturnType<typeof verificationReport>, tenFold: { mean: number; std: number }) {
  return {
    roc: report.roc,
    auc: report.auc,
    eer: report.eer.eer,
    tarAtFar: report.tarAtFar.map((r) => ({ far: r.target, tar: r.tar, interval: [r.tarInterval.lower, r.tarInterval.upper] as const })),
    tenFold,
    pairs: { genuine: report.positives, impostor: report.negatives },
  };
}

/** The LFW protocol on 3,000 genuine and 3,000 impostor pairs drawn with a seed (10 folds). */
function tenFoldPairs(unit: Float32Array, labels: Int32Array, dim: number, seed: number): { mean: number; std: number } {
  let state = seed >>> 0 || 1;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 4294967296) * n);
  };
  const a: number[] = [];
  const b: number[] = [];
  const same: number[] = [];
  // Genuine and impostor pairs alternate, so that every fold has both (LFW's folds are blocks).
  while (same.length < 6000) {
    const want = same.length % 2 === 0 ? 1 : 0;
    const i = rand(labels.length);
    const j = rand(labels.length);
    if (i === j || (labels[i] === labels[j]) !== (want === 1)) continue;
    a.push(i);
    b.push(j);
    same.push(want);
  }
  const gather = (idx: number[]) => {
    const out = new Float32Array(idx.length * dim);
    for (const [k, i] of idx.entries()) out.set(unit.subarray(i * dim, i * dim + dim), k * dim);
    return matrix(out, idx.length, dim);
  };
  const r = lfwTenFold(gather(a), gather(b), Uint8Array.from(same));
  return { mean: r.accuracy, std: r.accuracyStd };
}

/** Each margin's target logit against θ (0..180°), from core's margin functions. */
export function targetCurves(t: typeof tf, specs: readonly LossSpec[]): TargetCurve[] {
  const registry = createLossRegistry();
  const ops = createOps(tfjsBackend(t));
  const thetaDeg = Array.from({ length: 181 }, (_, i) => i);
  const out: TargetCurve[] = [];
  for (const spec of specs) {
    if (spec.margin === null) continue;
    const margin = registry.margin(spec.margin);
    if (!margin.targetLogit) continue; // whole-row and stateful margins have no one-line curve
    const target = t.tidy(() => {
      const c = ops.constant(
        thetaDeg.map((d) => Math.cos((d * Math.PI) / 180)),
        [thetaDeg.length],
      );
      return Array.from((margin.targetLogit!(c, { ops, epsilon: 2 ** -23 }) as tf.Tensor).dataSync());
    });
    out.push({ label: spec.label, thetaDeg, target });
  }
  return out;
}

/**
 * Runs the experiment: for each loss, a 2-D run and a verification run of the same network
 * (196 → 128 → 64 → D, relu), Adam, seeded; open-set verification on all held-out images.
 */
export async function runExperiment(t: typeof tf, o: ExperimentOptions): Promise<ExperimentResult> {
  const started = performance.now();
  const specs = o.losses.map((key) => {
    const spec = LOSSES[key];
    if (!spec) throw new InvalidArgumentError('losses', `unknown loss ${JSON.stringify(key)}; known: ${Object.keys(LOSSES).join(', ')}`);
    return [key, spec] as const;
  });
  const data = loadFashionMnist();
  const perClass = o.quick ? 250 : 600;
  const epochs = o.epochs ?? (o.quick ? 3 : 12);
  const dim = o.dim ?? 32;
  const seed = o.seed ?? 11;
  const prepared = prepare(t, data, perClass);
  const batchSize = 128;
  const batches = Math.ceil(prepared.train.x.shape[0] / batchSize);
  const runs: LossRun[] = [];
  const embeddings: Record<string, Float32Array> = {};
  const pairScores: Record<string, Float32Array> = {};
  let pairLabels: Uint8Array = new Uint8Array(0);
  try {
    for (const [key, spec] of specs) {
      const runStarted = performance.now();
      const common = {
        margin: spec.margin,
        scale: SCALE,
        ...(spec.subCenters ? { subCenters: spec.subCenters } : {}),
        hidden: [128, 64],
        epochs,
        batchSize,
        learningRate: 3e-3,
        seed,
        ...(o.ortHead ? { ortHead: o.ortHead } : {}),
        ...(o.onBatch ? { onBatch: o.onBatch } : {}),
        ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
      };
      o.onRunStart?.(key, 'picture', epochs, batches);
      const picture = await trainEmbedding(t, { train: prepared.train, test: prepared.testSeen }, { ...common, embeddingDim: 2 });
      o.onRunStart?.(key, 'verification', epochs, batches);
      const high: TrainResult = await trainEmbedding(
        t,
        { train: prepared.train, test: prepared.testSeen },
        { ...common, embeddingDim: dim, embed: prepared.testAll },
      );
      embeddings[key] = high.embedded!;
      const verified = verify(high.embedded!, prepared.testLabels, dim, seed);
      pairScores[key] = verified.pairs.scores;
      pairLabels = verified.pairs.same;
      const run: LossRun = {
        key,
        label: spec.label,
        margin: spec.margin,
        scale: spec.margin === null ? null : SCALE,
        picture: {
          features: picture.features,
          labels: Int32Array.from(await prepared.testSeen.labels.data(), (i) => SEEN_CLASSES[i]!),
          centers: picture.centers,
          loss: picture.epochs.map((e) => e.loss),
          accuracy: picture.epochs.at(-1)!.accuracy,
        },
        verification: {
          dim,
          loss: high.epochs.map((e) => e.loss),
          accuracy: high.epochs.at(-1)!.accuracy,
          thetaTarget: high.angles.thetaTarget,
          ...verified.metrics,
        },
        seconds: (performance.now() - runStarted) / 1000,
      };
      runs.push(run);
      o.onLossDone?.(run);
    }
  } finally {
    prepared.dispose();
  }
  const report: ReportData = {
    title: 'What margins do: softmax, NormFace, SphereFace, CosFace, ArcFace and the combined margin on Fashion-MNIST',
    classNames: data.classNames,
    seenClasses: [...SEEN_CLASSES],
    unseenClasses: [8, 9],
    runs,
    targetCurves: targetCurves(
      t,
      specs.map(([, s]) => s),
    ),
    settings: {
      dataset: `Fashion-MNIST subset: ${perClass} training images per seen class, ${data.test.count} held-out images (all 10 classes)`,
      input: '28×28 images pooled to 14×14',
      network: `196 → 128 → 64 → D (relu), D = 2 for the picture, ${dim} for verification`,
      epochs,
      batchSize,
      optimizer: 'Adam, learning rate 3e-3',
      scale: SCALE,
      seed,
      backend: `tfjs ${t.getBackend()}${o.ortHead ? ', margin heads on ONNX Runtime' : ''}`,
      quick: o.quick,
    },
    totalSeconds: (performance.now() - started) / 1000,
    date: new Date().toISOString(),
  };
  return { report, embeddings, testLabels: prepared.testLabels, pairScores, pairLabels };
}
