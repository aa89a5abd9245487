/**
 * The line figures of the report: target logit against θ, the θ_y distributions, the ROC on a
 * log-FAR axis, and the per-loss training curves.
 */
import { type ChartLine, chartSvg, niceRange, niceTicks } from './chart.js';
import { DASH, finite, general, num, pct, powerOfTen, truncate } from './format.js';
import type { LossRun, ReportData, TarPoint } from './model.js';
import { type LossStyle, extraStyle } from './palette.js';

/** A legend entry: a line sample and a name. */
export interface LegendItem {
  readonly name: string;
  readonly colour: string;
  readonly dash?: string;
  /** 'line' (default) or 'fill' (a filled box, for histograms). */
  readonly kind?: 'line' | 'fill';
}

/** The FAR targets the report shows. */
export const FAR_TARGETS = [1e-3, 1e-2] as const;
/** The smallest FAR of the ROC axis. */
export const MIN_FAR = 1e-4;

/** The TAR point of a run at a FAR target (matched within 0.1%), if there is one. */
export function tarAt(run: LossRun, far: number): TarPoint | undefined {
  return run.verification.tarAtFar.find((p) => finite(p.far) && Math.abs(p.far - far) <= far * 1e-3);
}

/** Target logit against θ: every target curve (coloured as its run when a run has its label) and cos θ. */
export function targetLogitFigure(data: ReportData, styles: readonly LossStyle[]): { svg: string; legend: LegendItem[] } {
  const theta = Array.from({ length: 181 }, (_, i) => i);
  const cos = theta.map((t) => Math.cos((t * Math.PI) / 180));
  let extra = 0;
  const lines: ChartLine[] = data.targetCurves.map((c) => {
    const k = data.runs.findIndex((r) => r.label === c.label);
    const style = k >= 0 ? styles[k]! : extraStyle(extra++);
    return { name: c.label, x: c.thetaDeg, y: c.target, colour: style.colour, dash: style.dash, width: 2.2 };
  });
  const reference: ChartLine = { name: 'cos θ (no margin)', x: theta, y: cos, colour: '#777', dash: '6 4', width: 1.6 };
  const range = niceRange([...cos, ...data.targetCurves.flatMap((c) => [...c.target])]);
  const yTicks = niceTicks(range[0], range[1], 8);
  const svg = chartSvg({
    id: 'target-logit-chart',
    width: 900,
    height: 420,
    description: 'Target logit against the angle θ between a feature and its class centre, for every margin, with cos θ for reference',
    x: { label: 'θ, angle between the feature and its class centre (degrees)', range: [0, 180], ticks: [0, 30, 60, 90, 120, 150, 180], format: (v) => `${v}°` },
    y: { label: 'target logit (before scaling by s)', range, ticks: yTicks },
    // The reference last, so it shows (dashed) over a margin that equals it (NormFace).
    lines: [...lines, reference],
  });
  return {
    svg,
    legend: [
      { name: reference.name, colour: reference.colour, dash: reference.dash! },
      ...lines.map((l) => ({ name: l.name, colour: l.colour, dash: l.dash ?? '' })),
    ],
  };
}

/** Median of the finite values (NaN when none). */
function median(values: ArrayLike<number>): number {
  const v = Array.from(values)
    .filter(finite)
    .sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

/** Shared bins of the θ_y histograms, 2° wide: 0..90° (or up to the data's maximum, in tens, at most 180°). */
export function thetaBins(runs: readonly LossRun[]): { edges: number[]; width: number } {
  let hi = 0;
  for (const r of runs) for (const t of r.verification.thetaTarget) if (finite(t) && t > hi) hi = t;
  const top = Math.min(180, Math.max(90, Math.ceil(hi / 10) * 10));
  const width = 2;
  const bins = top / width;
  return { edges: Array.from({ length: bins + 1 }, (_, b) => b * width), width };
}

/** Percent of the finite values in each bin (values past the last edge go into the last bin, below 0 into the first). */
function histogram(values: ArrayLike<number>, edges: readonly number[], width: number): { percent: number[]; n: number } {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!finite(v)) continue;
    counts[Math.max(0, Math.min(bins - 1, Math.floor(v / width)))]!++;
    n++;
  }
  return { percent: counts.map((c) => (n ? (100 * c) / n : 0)), n };
}

/** x/y of a step outline of a histogram, from the baseline up and back down. */
function steps(edges: readonly number[], heights: readonly number[]): { x: number[]; y: number[] } {
  const x: number[] = [edges[0]!];
  const y: number[] = [0];
  heights.forEach((h, b) => {
    x.push(edges[b]!, edges[b + 1]!);
    y.push(h, h);
  });
  x.push(edges[edges.length - 1]!);
  y.push(0);
  return { x, y };
}

/** One small histogram per loss, shared bins and shared y scale, plain softmax outlined in each for reference. */
export function thetaFigure(data: ReportData, styles: readonly LossStyle[]): { panels: string[]; top: number; softmaxLabel: string | undefined } {
  const { edges, width } = thetaBins(data.runs);
  const hists = data.runs.map((r) => histogram(r.verification.thetaTarget, edges, width));
  const yMax = niceRange(
    hists.flatMap((h) => h.percent),
    { zero: true },
  );
  const soft = data.runs.findIndex((r) => r.margin === null);
  const top = edges[edges.length - 1]!;
  const xTicks = niceTicks(0, top, 6).filter((t) => Number.isInteger(t));
  const panels = data.runs.map((run, k) => {
    const h = hists[k]!;
    const style = styles[k]!;
    const med = median(run.verification.thetaTarget);
    const lines: ChartLine[] = [];
    if (soft >= 0 && soft !== k)
      lines.push({ name: `${data.runs[soft]!.label} (reference)`, ...steps(edges, hists[soft]!.percent), colour: '#9a9a9a', width: 1.3, dash: '3 2' });
    lines.push({ name: run.label, ...steps(edges, h.percent), colour: style.colour, dash: style.dash, width: 1.8, fillOpacity: 0.22 });
    return chartSvg({
      id: `theta-chart-${k}`,
      width: 360,
      height: 214,
      fontSize: 11,
      title: truncate(run.label, 40),
      subtitle: `n = ${h.n} · median ${finite(med) ? `${med.toFixed(1)}°` : DASH}`,
      description: `Histogram of θ_y for ${run.label}`,
      margin: { l: 46, r: 12, b: 38, t: 40 },
      x: { label: 'θ to own class centre (degrees)', range: [0, top], ticks: xTicks, format: (v) => `${v}°` },
      y: { label: '% of samples', range: yMax, ticks: niceTicks(yMax[0], yMax[1], 3) },
      lines,
      ...(finite(med) ? { markers: [{ x: med, label: '' }] } : {}),
    });
  });
  return { panels, top, softmaxLabel: soft >= 0 ? data.runs[soft]!.label : undefined };
}

/**
 * The ROC as points from FAR = minFar to 1: starts at minFar (interpolated), and long segments on
 * the log axis get intermediate points (linear interpolation between ROC points, the ROC of
 * randomised thresholds), so a sparse ROC is not drawn as straight lines in log space.
 */
export function rocPoints(fpr: ArrayLike<number>, tpr: ArrayLike<number>, minFar = MIN_FAR): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const n = Math.min(fpr.length, tpr.length);
  let pf = Number.NaN;
  let pt = Number.NaN;
  const step = 0.04; // decades
  for (let i = 0; i < n; i++) {
    const f = fpr[i]!;
    const t = tpr[i]!;
    if (!finite(f) || !finite(t)) continue;
    if (f < minFar) {
      pf = f;
      pt = t;
      continue;
    }
    if (!x.length && finite(pf) && f > minFar) {
      x.push(minFar);
      y.push(pt + ((t - pt) * (minFar - pf)) / (f - pf));
      pf = minFar;
      pt = y[0]!;
    }
    if (x.length && pf > 0) {
      const gap = Math.log10(f / pf);
      const extra = Math.min(200, Math.ceil(gap / step) - 1);
      for (let k = 1; k <= extra; k++) {
        const xf = pf * 10 ** ((gap * k) / (extra + 1));
        x.push(xf);
        y.push(pt + ((t - pt) * (xf - pf)) / (f - pf));
      }
    }
    x.push(f);
    y.push(t);
    pf = f;
    pt = t;
  }
  return { x, y };
}

/** Every run's ROC on one log-FAR chart, FAR 1e-4..1, with the FAR targets marked and each run's TAR there as a dot. */
export function rocFigure(data: ReportData, styles: readonly LossStyle[]): string {
  const lines: ChartLine[] = data.runs.map((r, k) => ({
    name: r.label,
    ...rocPoints(r.verification.roc.fpr, r.verification.roc.tpr),
    colour: styles[k]!.colour,
    dash: styles[k]!.dash,
    width: 2,
  }));
  const dots = data.runs.flatMap((r, k) =>
    FAR_TARGETS.flatMap((far) => {
      const p = tarAt(r, far);
      return p && finite(p.tar) ? [{ x: far, y: p.tar, colour: styles[k]!.colour, title: `${r.label}: TAR ${pct(p.tar)} at FAR ${powerOfTen(far)}` }] : [];
    }),
  );
  return chartSvg({
    id: 'roc-chart',
    width: 900,
    height: 460,
    description: 'ROC curves of every loss: true accept rate against false accept rate on a log axis',
    x: { label: 'false accept rate (FAR, log scale)', range: [MIN_FAR, 1], scale: 'log' },
    y: { label: 'true accept rate (TAR)', range: [0, 1], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], format: (v) => `${Math.round(v * 100)}%` },
    lines,
    dots,
    markers: FAR_TARGETS.map((far) => ({ x: far, label: `FAR = ${powerOfTen(far)}` })),
    markerLabels: 'above',
    margin: { t: 28 },
  });
}

/** "9.43 → 2.71" for a loss curve ('—' parts when non-finite). */
function firstLast(loss: readonly number[]): string {
  if (!loss.length) return DASH;
  const digits = (v: number) => (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  const f = loss[0]!;
  const l = loss[loss.length - 1]!;
  return `${num(f, digits(f))} → ${num(l, digits(l))}`;
}

/** One small training-loss panel per loss, each with its own y scale: the high-D run solid, the 2-D run dashed. */
export function lossFigure(data: ReportData, styles: readonly LossStyle[]): string[] {
  return data.runs.map((run, k) => {
    const style = styles[k]!;
    const hd = run.verification.loss;
    const pic = run.picture.loss;
    const epochs = Math.max(hd.length, pic.length, 2);
    const byEpoch = (v: readonly number[]) => ({ x: v.map((_, i) => i + 1), y: [...v] });
    const y = niceRange([...hd, ...pic], { zero: true, pad: 0.04 });
    const xTicks = niceTicks(1, epochs, 5).filter((t) => Number.isInteger(t) && t >= 1);
    const dim = finite(run.verification.dim) ? `${general(run.verification.dim)}-D` : 'high-D';
    return chartSvg({
      id: `loss-chart-${k}`,
      width: 360,
      height: 210,
      fontSize: 11,
      title: truncate(run.label, 40),
      subtitle: `${dim}: ${firstLast(hd)} · 2-D: ${firstLast(pic)}`,
      description: `Training loss per epoch of ${run.label}: the ${dim} run and the 2-D run`,
      margin: { l: 50, r: 12, t: 42, b: 38 },
      x: { label: 'epoch', range: [1, epochs], ticks: xTicks },
      y: { label: 'mean training loss', range: y, ticks: niceTicks(y[0], y[1], 4) },
      lines: [
        { name: `${run.label}, 2-D run`, ...byEpoch(pic), colour: style.colour, dash: '5 3', width: 1.8, opacity: 0.75 },
        { name: `${run.label}, ${dim} run`, ...byEpoch(hd), colour: style.colour, dash: style.dash, width: 2.2 },
      ],
    });
  });
}
