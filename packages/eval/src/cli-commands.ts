/**
 * What each `marginkit-eval` command computes, prints and writes, once its options have been
 * checked. @internal
 *
 * @packageDocumentation
 */
import { basename } from 'node:path';
import { EvalInputError } from './errors.js';
import { readTextFile } from './files.js';
import { identification } from './identification.js';
import { pairScores, poolTemplates } from './ijb.js';
import type { BinaryLabels } from './input.js';
import { type CommandName, type Options, matrixOf, need, numbers, vector } from './cli-options.js';
import { flipFusion, matrix } from './matrix.js';
import { cmcPlotSvg, detPlotSvg, linePlotSvg, rocPlotSvg, scoreHistogramSvg } from './plots.js';
import { lfwTenFold } from './protocols.js';
import { parseIjbFaceTidMid, parseIjbTemplatePairs, parseLfwPairs } from './readers.js';
import { retrievalMetrics } from './retrieval.js';
import type { RocCurve } from './roc-curve.js';
import type { FarPolicy } from './tar-at-far.js';
import { verificationReport } from './verification-report.js';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  /** Prints a line of results. */
  readonly stdout: (line: string) => void;
  /** Prints progress and errors. */
  readonly stderr: (line: string) => void;
  /** Whether stderr is a terminal (progress redraws in place); default false. */
  readonly isTTY?: boolean;
}

/** What a command gets: its checked options and where to print and write. @internal */
export interface CommandContext {
  readonly options: Options;
  readonly io: CliIo;
  /** The model's name in plots and JSON. */
  readonly name: string;
  /** FAR targets. */
  readonly far: readonly number[];
  /** TAR@FAR policy. */
  readonly policy: FarPolicy;
  /** Adds a file to the output folder (written when the command succeeds). */
  readonly write: (file: string, text: string) => void;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

function progress(io: CliIo, label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const p = Math.floor((100 * done) / total);
    if (io.isTTY ? p !== last : p >= last + 10 || done === total) {
      if (p === last) return;
      last = p;
      io.stderr(`${io.isTTY ? '\r' : ''}${label}: ${p}% (${done}/${total})`);
    }
  };
}

/**
 * At most about `max` points of a ROC for results.json, evenly spread in log FAR and in TAR, the
 * first and last kept; `+∞` thresholds become `null` (JSON has no infinity).
 */
function downsampleRoc(roc: RocCurve, max: number): { fpr: number[]; tpr: number[]; thresholds: (number | null)[]; downsampled: boolean } {
  const keep: number[] = [];
  let lastF = Number.NEGATIVE_INFINITY;
  let lastT = Number.NEGATIVE_INFINITY;
  const n = roc.fpr.length;
  for (let i = 0; i < n; i++) {
    const f = Math.log10(Math.max(roc.fpr[i]!, 1e-9));
    const t = roc.tpr[i]!;
    if (i === 0 || i === n - 1 || n <= max || Math.abs(f - lastF) >= 9 / max || Math.abs(t - lastT) >= 1 / max) {
      keep.push(i);
      lastF = f;
      lastT = t;
    }
  }
  return {
    fpr: keep.map((i) => roc.fpr[i]!),
    tpr: keep.map((i) => roc.tpr[i]!),
    thresholds: keep.map((i) => (Number.isFinite(roc.thresholds[i]!) ? roc.thresholds[i]! : null)),
    downsampled: keep.length < n,
  };
}

/** The verification table, plots and JSON result of pair scores (`verify` and `ijb`). */
function verifyTable(ctx: CommandContext, scores: Float32Array | Float64Array, labels: BinaryLabels) {
  const { io, name, far, policy, write } = ctx;
  const report = verificationReport(scores, labels, { farTargets: far, policy });
  io.stdout(`${report.positives} genuine and ${report.negatives} impostor pairs`);
  io.stdout(`AUC ${report.auc.toFixed(6)}   EER ${pct(report.eer.eer)} (threshold ${report.eer.threshold.toFixed(4)})`);
  io.stdout(`FAR target   TAR        achieved FAR   threshold   TAR 95% CI (${policy})`);
  for (const r of report.tarAtFar) {
    io.stdout(
      `${r.target.toExponential(0).padEnd(11)} ${pct(r.tar).padEnd(10)} ${r.far.toExponential(2).padEnd(14)} ${r.threshold.toFixed(4).padEnd(11)} [${pct(r.tarInterval.lower)}, ${pct(r.tarInterval.upper)}]${r.warning ? '  !' : ''}`,
    );
  }
  for (const w of report.warnings) io.stderr(`warning: ${w}`);
  write('roc.svg', rocPlotSvg([{ name, roc: report.roc }], { minFar: Math.min(...far, 1e-6) }));
  // The DET curve is the ROC seen as (FAR, 1 − TAR): reuse the report's curve instead of re-sorting.
  write('det.svg', detPlotSvg([{ name, det: { fpr: report.roc.fpr, fnr: report.roc.tpr.map((t) => 1 - t) } }]));
  write('scores.svg', scoreHistogramSvg(scores, labels, { threshold: report.eer.threshold, title: `Score distributions (threshold at EER)` }));
  return { ...report, roc: downsampleRoc(report.roc, 2000) };
}

function verify(ctx: CommandContext): unknown {
  const scores = vector(ctx.options, 'scores');
  if (!(scores instanceof Float32Array || scores instanceof Float64Array)) throw new EvalInputError('--scores', 'expected float32 or float64 scores');
  const labels = vector(ctx.options, 'labels');
  return verifyTable(ctx, scores, labels instanceof Float32Array ? Float64Array.from(labels) : labels);
}

function lfw(ctx: CommandContext): unknown {
  const { options, io, name, write } = ctx;
  let e = matrixOf(options, 'embeddings');
  if (options.has('flipped')) e = flipFusion(e, matrixOf(options, 'flipped'));
  if (e.rows % 2 !== 0) throw new EvalInputError('--embeddings', `has ${e.rows} rows; pairs need an even number (rows 2i, 2i+1)`);
  const issame = options.has('pairs')
    ? parseLfwPairs(readTextFile(options.get('pairs')!, '--pairs'), basename(options.get('pairs')!)).pairs.map((p) => (p.same ? 1 : 0))
    : Array.from(vector(options, 'issame'));
  const half = (k: 0 | 1) => {
    const d = new Float64Array((e.rows / 2) * e.cols);
    for (let i = 0; i < e.rows / 2; i++) for (let c = 0; c < e.cols; c++) d[i * e.cols + c] = e.data[(2 * i + k) * e.cols + c]!;
    return matrix(d, e.rows / 2, e.cols);
  };
  const folds = numbers(options, 'folds', [10])[0]!;
  const r = lfwTenFold(half(0), half(1), issame, { folds });
  io.stdout(`${issame.length} pairs, ${folds} folds`);
  io.stdout(`accuracy ${pct(r.accuracy)} ± ${pct(r.accuracyStd)}   VAL@FAR=1e-3 ${pct(r.val)} ± ${pct(r.valStd)} (FAR ${r.far.toExponential(2)})`);
  write(
    'roc.svg',
    linePlotSvg([{ name, x: r.fpr, y: r.tpr }], {
      title: 'Mean ROC over folds',
      xLabel: 'false accept rate',
      yLabel: 'true accept rate',
      xRange: [0, 1],
      yRange: [0, 1],
    }),
  );
  return { ...r, thresholds: undefined, tpr: Array.from(r.tpr), fpr: Array.from(r.fpr) };
}

function ijb(ctx: CommandContext): unknown {
  const { options, io } = ctx;
  let f = matrixOf(options, 'features');
  if (options.has('flipped')) f = flipFusion(f, matrixOf(options, 'flipped'));
  const metaPath = need(options, 'face-tid-mid');
  const meta = parseIjbFaceTidMid(readTextFile(metaPath, '--face-tid-mid'), basename(metaPath));
  if (meta.templates.length !== f.rows)
    throw new EvalInputError('--features', `has ${f.rows} rows but ${basename(metaPath)} lists ${meta.templates.length} images`);
  const pairsPath = need(options, 'template-pairs');
  const pairs = parseIjbTemplatePairs(readTextFile(pairsPath, '--template-pairs'), basename(pairsPath));
  const pooled = poolTemplates(f, meta.templates, meta.medias);
  io.stderr(`${f.rows} images pooled into ${pooled.templateIds.length} templates`);
  const scores = pairScores(pooled, pairs.templates1, pairs.templates2, { onProgress: progress(io, 'scoring template pairs') });
  if (io.isTTY) io.stderr('');
  return verifyTable(ctx, scores, pairs.labels);
}

function identify(ctx: CommandContext): unknown {
  const { options, io, name, write } = ctx;
  const r = identification(matrixOf(options, 'probes'), vector(options, 'probe-subjects'), matrixOf(options, 'gallery'), vector(options, 'gallery-subjects'), {
    ranks: numbers(options, 'ranks', [1, 5, 10]),
    fpirs: numbers(options, 'fpir', [0.01, 0.1]),
    onProgress: progress(io, 'scoring probes'),
  });
  io.stdout(`${r.matedProbes} mated and ${r.nonMatedProbes} non-mated probes`);
  for (const c of r.cmc) io.stdout(`rank-${c.rank} identification rate ${pct(c.rate)}`);
  for (const t of r.tpirAtFpir) io.stdout(`TPIR@FPIR=${t.fpir} ${pct(t.tpir)} (threshold ${t.threshold.toFixed(4)})`);
  write('cmc.svg', cmcPlotSvg([{ name, cmc: r.cmcCurve }]));
  return { ...r, cmcCurve: Array.from(r.cmcCurve), mateRanks: undefined };
}

function retrieval(ctx: CommandContext): unknown {
  const { options, io } = ctx;
  const r = retrievalMetrics(matrixOf(options, 'embeddings'), vector(options, 'labels'), { onProgress: progress(io, 'ranking queries') });
  io.stdout(`${r.queries} queries`);
  io.stdout(`precision@1 ${pct(r.precisionAt1)}   R-precision ${pct(r.rPrecision)}   MAP@R ${pct(r.mapAtR)}`);
  return r;
}

/** Each command: prints its table, adds its plots, and returns what goes into results.json. @internal */
export const RUN_COMMAND: Readonly<Record<CommandName, (ctx: CommandContext) => unknown>> = { verify, lfw, ijb, identify, retrieval };
