/**
 * A deterministic synthetic ReportData, for the report's tests and for looking at the report
 * without running the demo. Features, angles and verification scores are drawn from a seeded
 * generator; a run's `quality` sets how tight its classes are and how well it verifies. The
 * verification numbers (ROC, AUC, EER, TAR@FAR with intervals) are computed from the synthetic
 * scores by @marginkit/eval, as the demo computes them.
 */
import type { MarginConfig } from '@marginkit/core';
import { verificationReport } from '@marginkit/eval';
import type { LossRun, ReportData, TargetCurve } from './model.js';

/** One synthetic loss. */
export interface SyntheticRun {
  readonly key: string;
  readonly label: string;
  readonly margin: MarginConfig | null;
  readonly scale: number | null;
  /** Larger: tighter classes, smaller angles, better verification (softmax-like ≈ 1, good margins ≈ 2). */
  readonly quality: number;
  /** Points of the 2-D picture; default 800. */
  readonly points?: number;
}

/** Options of {@link syntheticReportData}. */
export interface SyntheticOptions {
  readonly seed?: number;
  readonly runs?: readonly SyntheticRun[];
  readonly title?: string;
  /** Genuine and impostor verification pairs per run; default 1500 and 15000. */
  readonly genuine?: number;
  readonly impostor?: number;
  readonly epochs?: number;
  readonly dim?: number;
}

/** Fashion-MNIST's class names. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The default runs: plain softmax (1600 picture points, so the report subsamples it), CosFace and ArcFace. */
export const DEFAULT_RUNS: readonly SyntheticRun[] = [
  { key: 'softmax', label: 'Softmax', margin: null, scale: null, quality: 1, points: 1600 },
  { key: 'cosface', label: 'CosFace m=0.35', margin: { type: 'cosface', m: 0.35 }, scale: 30, quality: 1.7 },
  { key: 'arcface', label: 'ArcFace m=0.5', margin: { type: 'arcface', m: 0.5 }, scale: 30, quality: 2.1 },
];

/** A seeded generator: uniform in [0, 1) (mulberry32) and standard normal (Box–Muller). */
export function seeded(seed: number): { uniform: () => number; normal: () => number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** The target logit of a margin at θ (radians), as the margin papers define it (ArcFace with the linear fallback past π − m). */
export function targetLogit(margin: MarginConfig, theta: number): number {
  const m = typeof margin['m'] === 'number' ? margin['m'] : 0;
  switch (margin.type) {
    case 'cosface':
      return Math.cos(theta) - m;
    case 'arcface':
      return theta + m <= Math.PI ? Math.cos(theta + m) : Math.cos(theta) - m * Math.sin(m);
    case 'sphereface': {
      const u = (m || 4) * theta;
      const k = Math.floor(u / Math.PI);
      return (k % 2 ? -1 : 1) * Math.cos(u) - 2 * k;
    }
    default:
      return Math.cos(theta);
  }
}

function pictureRun(rng: ReturnType<typeof seeded>, run: SyntheticRun, seen: readonly number[], epochs: number) {
  const C = seen.length;
  const softmax = run.margin === null;
  const centers = new Float32Array(2 * C);
  const dirs: number[] = [];
  for (let k = 0; k < C; k++) {
    const a = (2 * Math.PI * k) / C + (0.35 * rng.normal()) / run.quality;
    const r = softmax ? 0.6 + 1.4 * rng.uniform() : 1;
    dirs.push(a);
    centers[2 * k] = r * Math.cos(a);
    centers[2 * k + 1] = r * Math.sin(a);
  }
  const n = run.points ?? 800;
  const features = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rng.uniform() * C);
    labels[i] = seen[k]!;
    const a = dirs[k]! + (0.42 / run.quality) * rng.normal();
    const r = softmax ? Math.abs(2 + 6 * rng.uniform() + rng.normal()) : 4 + 0.8 * rng.normal();
    const x = r * Math.cos(a);
    const y = r * Math.sin(a);
    features[2 * i] = x;
    features[2 * i + 1] = y;
    // Nearest centre by cosine.
    let best = -1;
    let bestCos = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) {
      const cos = (x * Math.cos(dirs[c]!) + y * Math.sin(dirs[c]!)) / Math.hypot(x, y);
      if (cos > bestCos) [best, bestCos] = [c, cos];
    }
    if (best === k) correct++;
  }
  const loss = lossCurve(rng, run, epochs, 1);
  return { features, labels, centers, loss, accuracy: correct / n };
}

function lossCurve(rng: ReturnType<typeof seeded>, run: SyntheticRun, epochs: number, factor: number): number[] {
  const start = (run.margin === null ? 2.2 : 9 + 3 * rng.uniform()) * factor;
  const floor = run.margin === null ? 0.25 : 2.5;
  return Array.from({ length: epochs }, (_, e) => floor + (start - floor) * Math.exp(-0.32 * e) * (1 + 0.03 * rng.normal()));
}

function verificationRun(
  rng: ReturnType<typeof seeded>,
  run: SyntheticRun,
  options: Required<Pick<SyntheticOptions, 'genuine' | 'impostor' | 'epochs' | 'dim'>>,
) {
  const { genuine, impostor } = options;
  const scores = new Float64Array(genuine + impostor);
  const same = new Uint8Array(genuine + impostor);
  const mu = 0.16 + 0.16 * run.quality;
  for (let i = 0; i < genuine; i++) {
    scores[i] = mu + 0.14 * rng.normal();
    same[i] = 1;
  }
  for (let i = genuine; i < scores.length; i++) scores[i] = 0.12 * rng.normal();
  const v = verificationReport(scores, same, { farTargets: [1e-3, 1e-2] });
  const thetaTarget = Float64Array.from({ length: 600 }, () => Math.abs(52 / run.quality + (14 / run.quality) * rng.normal()));
  const eer = v.eer.eer;
  return {
    dim: options.dim,
    loss: lossCurve(rng, run, options.epochs, 1.15),
    accuracy: Math.min(0.995, 0.72 + 0.12 * run.quality),
    thetaTarget,
    roc: v.roc,
    auc: v.auc,
    eer,
    tarAtFar: v.tarAtFar.map((t) => ({ far: t.target, tar: t.tar, interval: [t.tarInterval.lower, t.tarInterval.upper] as const })),
    tenFold: { mean: 1 - 0.9 * eer, std: 0.004 + 0.01 / run.quality },
    pairs: { genuine: v.positives, impostor: v.negatives },
  };
}

/** A synthetic ReportData: 10 classes (8 seen, 2 unseen), the given runs (default {@link DEFAULT_RUNS}). */
export function syntheticReportData(options: SyntheticOptions = {}): ReportData {
  const rng = seeded(options.seed ?? 1);
  const seenClasses = [0, 1, 2, 3, 4, 5, 6, 7];
  const unseenClasses = [8, 9];
  const epochs = options.epochs ?? 12;
  const settings = { genuine: options.genuine ?? 1500, impostor: options.impostor ?? 15000, epochs, dim: options.dim ?? 64 };
  const specs = options.runs ?? DEFAULT_RUNS;
  const runs: LossRun[] = specs.map((spec) => ({
    key: spec.key,
    label: spec.label,
    margin: spec.margin,
    scale: spec.scale,
    picture: pictureRun(rng, spec, seenClasses, epochs),
    verification: verificationRun(rng, spec, settings),
    seconds: 2 + 6 * rng.uniform(),
  }));
  const thetaDeg = Array.from({ length: 181 }, (_, i) => i);
  const targetCurves: TargetCurve[] = specs
    .filter((s) => s.margin !== null)
    .map((s) => ({ label: s.label, thetaDeg, target: thetaDeg.map((t) => targetLogit(s.margin!, (t * Math.PI) / 180)) }));
  return {
    title: options.title ?? 'marginkit demo: margin losses on Fashion-MNIST (synthetic data)',
    classNames: FASHION_MNIST_CLASSES,
    seenClasses,
    unseenClasses,
    runs,
    targetCurves,
    settings: {
      dataset: 'synthetic (seeded)',
      seed: options.seed ?? 1,
      epochs,
      'embedding dim': settings.dim,
      'picture dim': 2,
      backend: 'cpu',
      'genuine pairs': settings.genuine,
      'impostor pairs': settings.impostor,
      quick: false,
    },
    totalSeconds: runs.reduce((s, r) => s + r.seconds, 0),
    date: '2025-01-02T03:04:05.000Z',
  };
}
