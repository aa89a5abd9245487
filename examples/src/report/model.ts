/**
 * What the demo's report shows: the data of one experiment run (several losses, each trained twice:
 * with a 2-D embedding for the picture and a higher-dimensional one for verification).
 * `renderReport` (render.ts) turns it into one self-contained HTML file.
 */
import type { MarginConfig } from '@marginkit/core';
import type { RocCurve } from '@marginkit/eval';

/** TAR at one FAR target, with its confidence interval. */
export interface TarPoint {
  /** The FAR target, e.g. 1e-3. */
  readonly far: number;
  /** The true accept rate there. */
  readonly tar: number;
  /** A 95% interval of the TAR, [lo, hi]. */
  readonly interval: readonly [number, number];
}

/** The 2-D run of one loss: what the paper's figure plots. */
export interface PictureRun {
  /** Raw (unnormalised) 2-D features of held-out images of the seen classes, row-major [N, 2]. */
  readonly features: Float32Array;
  /** Their labels (indices into ReportData.classNames). */
  readonly labels: Int32Array;
  /** The class centres / weight rows of the seen classes, [C, 2] row-major, in seenClasses order. */
  readonly centers: Float32Array;
  /** Training loss per epoch. */
  readonly loss: readonly number[];
  /** Closed-set held-out accuracy (nearest centre), 0..1. */
  readonly accuracy: number;
}

/** The higher-dimensional run of one loss: open-set verification. */
export interface VerificationRun {
  /** Embedding dimension. */
  readonly dim: number;
  /** Training loss per epoch. */
  readonly loss: readonly number[];
  /** Closed-set held-out accuracy on the seen classes, 0..1. */
  readonly accuracy: number;
  /** θ_y in degrees between each held-out seen-class embedding and its class centre. */
  readonly thetaTarget: Float64Array;
  /** The ROC of the verification pairs (all 10 classes, so 2 are unseen: open-set). */
  readonly roc: RocCurve;
  /** Area under the ROC. */
  readonly auc: number;
  /** Equal error rate. */
  readonly eer: number;
  /** TAR at FAR 1e-3 and 1e-2, with intervals. */
  readonly tarAtFar: readonly TarPoint[];
  /** The 10-fold verification accuracy (LFW protocol): mean and standard deviation. */
  readonly tenFold: { readonly mean: number; readonly std: number };
  /** Number of genuine and impostor pairs. */
  readonly pairs: { readonly genuine: number; readonly impostor: number };
}

/** One loss of the experiment. */
export interface LossRun {
  /** A short key, e.g. 'arcface' (what --losses takes). */
  readonly key: string;
  /** A label for legends, e.g. 'ArcFace m=0.5'. */
  readonly label: string;
  /** The margin config, or null for plain softmax (with bias, unnormalised). */
  readonly margin: MarginConfig | null;
  /** The scale s, or null for plain softmax. */
  readonly scale: number | null;
  /** The 2-D run. */
  readonly picture: PictureRun;
  /** The verification run. */
  readonly verification: VerificationRun;
  /** Wall time of both runs, seconds. */
  readonly seconds: number;
}

/** A margin's target logit as a function of θ_y (before scaling), for the paper's second figure. */
export interface TargetCurve {
  /** Legend label. */
  readonly label: string;
  /** θ in degrees, 0..180. */
  readonly thetaDeg: readonly number[];
  /** The target logit at each θ. */
  readonly target: readonly number[];
}

/** Everything the report shows. */
export interface ReportData {
  /** Title of the report. */
  readonly title: string;
  /** Names of the 10 classes (Fashion-MNIST: 'T-shirt/top', …). */
  readonly classNames: readonly string[];
  /** Indices of the classes trained on. */
  readonly seenClasses: readonly number[];
  /** Indices of the held-out classes (only in verification pairs). */
  readonly unseenClasses: readonly number[];
  /** The losses, in the order they ran. */
  readonly runs: readonly LossRun[];
  /** Target logit against θ of every margin in the run (plain softmax has none). */
  readonly targetCurves: readonly TargetCurve[];
  /** Settings, shown in the report. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Total wall time, seconds. */
  readonly totalSeconds: number;
  /** When it ran (ISO string). */
  readonly date: string;
}
