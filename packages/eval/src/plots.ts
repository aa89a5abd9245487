import { EvalInputError } from './errors.js';
import { type BinaryLabels, type Scores, checkLabels, checkScores } from './input.js';
import { standardNormalQuantile } from './quantiles.js';

/** An axis scale. `'probit'` is the normal-deviate scale of DET plots (values in (0, 1)). */
export type AxisScale = 'linear' | 'log' | 'probit';

/** One line of a chart. */
export interface LineSeries {
  /** Legend label. */
  readonly name: string;
  /** x values. */
  readonly x: ArrayLike<number>;
  /** y values. */
  readonly y: ArrayLike<number>;
}

/** A vertical line marking a value on the x axis. */
export interface PlotMarker {
  /** Where, in data units. */
  readonly x: number;
  /** Its label. */
  readonly label: string;
}

/** Options of {@link linePlotSvg}. */
export interface LinePlotOptions {
  /** Title above the plot. */
  readonly title: string;
  /** x-axis label. */
  readonly xLabel: string;
  /** y-axis label. */
  readonly yLabel: string;
  /** Scale of x; default `'linear'`. */
  readonly xScale?: AxisScale;
  /** Scale of y; default `'linear'`. */
  readonly yScale?: AxisScale;
  /** x range; default from the data. */
  readonly xRange?: readonly [number, number];
  /** y range; default from the data. */
  readonly yRange?: readonly [number, number];
  /** Vertical marker lines, e.g. a threshold. */
  readonly markers?: readonly PlotMarker[];
  /** Draw steps (histograms) instead of straight segments. */
  readonly steps?: boolean;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function transform(scale: AxisScale): (v: number) => number {
  if (scale === 'log') return Math.log10;
  if (scale === 'probit') return (v) => standardNormalQuantile(Math.min(1 - 1e-12, Math.max(1e-12, v)));
  return (v) => v;
}

function ticks(scale: AxisScale, lo: number, hi: number): number[] {
  if (scale === 'log') {
    const out: number[] = [];
    for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) out.push(10 ** e);
    return out;
  }
  if (scale === 'probit') return [0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99].filter((v) => v >= lo && v <= hi);
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 4));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice * 1e-9; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (scale: AxisScale, v: number) =>
  scale === 'log' ? `1e${Math.round(Math.log10(v))}` : scale === 'probit' ? `${+(v * 100).toPrecision(3)}%` : `${+v.toPrecision(4)}`;

/** The plotted points of each series (indices of its finite, in-scale, in-range points) and the axis ranges. */
function plottedData(series: readonly LineSeries[], options: LinePlotOptions): { pts: number[][]; x: [number, number]; y: [number, number] } {
  const xs = options.xScale ?? 'linear';
  const ys = options.yScale ?? 'linear';
  const ok = (scale: AxisScale, v: number) => Number.isFinite(v) && (scale === 'linear' || (v > 0 && (scale === 'log' || v < 1)));
  const inside = (r: readonly [number, number] | undefined, v: number) => !r || (v >= r[0] && v <= r[1]);
  // Indices of the plottable points of each series (no tuples: series can have millions of points).
  const pts = series.map((s) => {
    if (s.x.length !== s.y.length) throw new EvalInputError('series', `${s.name}: x has ${s.x.length} values, y has ${s.y.length}`);
    const keep: number[] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (ok(xs, s.x[i]!) && ok(ys, s.y[i]!) && inside(options.xRange, s.x[i]!) && inside(options.yRange, s.y[i]!)) keep.push(i);
    }
    return keep;
  });
  const range = (r: readonly [number, number] | undefined, k: 'x' | 'y'): [number, number] => {
    if (r) return [r[0], r[1]];
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    pts.forEach((keep, j) => {
      for (const i of keep) {
        const v = series[j]![k][i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    });
    if (lo > hi) return [0, 1];
    if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
    return k === 'y' && lo >= 0 ? [lo, hi * 1.06] : [lo, hi];
  };
  return { pts, x: range(options.xRange, 'x'), y: range(options.yRange, 'y') };
}

/**
 * The SVG polyline points of the kept indices at pixel positions `X(i)`, `Y(i)`, as steps when
 * `steps`. A point is kept only when it moves at least half a pixel (or is the last): a
 * 12-million-point curve becomes a few thousand points and looks the same.
 */
function polylineCoords(keep: readonly number[], X: (i: number) => number, Y: (i: number) => number, steps: boolean): string[] {
  const coords: string[] = [];
  let lastX = Number.NaN;
  let lastY = Number.NaN;
  let prevY = Number.NaN;
  keep.forEach((i, n) => {
    const x = X(i);
    const y = Y(i);
    const skip = n > 0 && n < keep.length - 1 && Math.abs(x - lastX) < 0.5 && Math.abs(y - lastY) < 0.5;
    if (!skip) {
      if (steps && n > 0) coords.push(`${x.toFixed(1)},${prevY.toFixed(1)}`);
      coords.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      lastX = x;
      lastY = y;
    }
    prevY = y;
  });
  return coords;
}

/**
 * A standalone SVG line chart (no dependencies): linear, log or probit axes, a legend, optional
 * vertical markers. The building block of the other plots; use it for training curves too.
 *
 * @param series - the lines.
 * @param options - title, labels, scales, ranges, markers.
 * @returns the SVG document as a string.
 *
 * @example
 * ```ts
 * import { linePlotSvg } from '@marginkit/eval';
 * const svg = linePlotSvg([{ name: 'loss', x: [1, 2, 3], y: [3, 2, 1.5] }], { title: 'Training', xLabel: 'epoch', yLabel: 'loss' });
 * console.log(svg.startsWith('<svg')); // true
 * ```
 */
export function linePlotSvg(series: readonly LineSeries[], options: LinePlotOptions): string {
  const xs = options.xScale ?? 'linear';
  const ys = options.yScale ?? 'linear';
  const {
    pts,
    x: [x0, x1],
    y: [y0, y1],
  } = plottedData(series, options);
  const tx = transform(xs);
  const ty = transform(ys);
  const W = 720;
  const H = 420;
  const m = { l: 70, r: 190, t: 40, b: 56 };
  const px = (v: number) => m.l + ((W - m.l - m.r) * (tx(v) - tx(x0))) / (tx(x1) - tx(x0) || 1);
  const py = (v: number) => H - m.b - ((H - m.t - m.b) * (ty(v) - ty(y0))) / (ty(y1) - ty(y0) || 1);
  const clipX = (v: number) => Math.min(W - m.r, Math.max(m.l, v));
  const clipY = (v: number) => Math.min(H - m.b, Math.max(m.t, v));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="24" text-anchor="middle" font-size="15">${esc(options.title)}</text>`,
  ];
  for (const v of ticks(xs, x0, x1)) {
    const x = px(v).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#e4e4e4"/><text x="${x}" y="${H - m.b + 16}" text-anchor="middle">${label(xs, v)}</text>`,
    );
  }
  for (const v of ticks(ys, y0, y1)) {
    const y = py(v).toFixed(1);
    out.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#e4e4e4"/><text x="${m.l - 6}" y="${(+y + 4).toFixed(1)}" text-anchor="end">${label(ys, v)}</text>`,
    );
  }
  out.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 14}" text-anchor="middle">${esc(options.xLabel)}</text>`,
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`,
  );
  pts.forEach((keep, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const { x: sx, y: sy } = series[k]!;
    const coords = polylineCoords(
      keep,
      (i) => clipX(px(sx[i]!)),
      (i) => clipY(py(sy[i]!)),
      options.steps === true,
    );
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${coords.join(' ')}"/>`);
    out.push(
      `<rect x="${W - m.r + 14}" y="${m.t + 20 * k}" width="12" height="12" fill="${colour}"/><text x="${W - m.r + 32}" y="${m.t + 20 * k + 10}">${esc(series[k]!.name)}</text>`,
    );
  });
  for (const mk of options.markers ?? []) {
    const x = clipX(px(mk.x)).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#000" stroke-dasharray="5 4"/><text x="${(+x + 4).toFixed(1)}" y="${m.t + 14}">${esc(mk.label)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * ROC curves with a logarithmic FAR axis (how IJB results are plotted): TAR against FAR from
 * `minFar` to 1.
 *
 * @param curves - named ROC curves (`{ fpr, tpr }`, e.g. from {@link rocCurve}).
 * @param options - the smallest FAR shown (default 1e-6) and a title.
 * @returns the SVG document.
 *
 * @example
 * ```ts
 * import { rocCurve, rocPlotSvg } from '@marginkit/eval';
 * const roc = rocCurve([0.9, 0.8, 0.7, 0.3], [1, 0, 1, 0]);
 * console.log(rocPlotSvg([{ name: 'model', roc }]).includes('polyline')); // true
 * ```
 */
export function rocPlotSvg(
  curves: readonly { readonly name: string; readonly roc: { readonly fpr: ArrayLike<number>; readonly tpr: ArrayLike<number> } }[],
  options: { readonly minFar?: number; readonly title?: string } = {},
): string {
  const minFar = options.minFar ?? 1e-6;
  return linePlotSvg(
    curves.map((c) => ({ name: c.name, x: c.roc.fpr, y: c.roc.tpr })),
    { title: options.title ?? 'ROC', xLabel: 'false accept rate (log)', yLabel: 'true accept rate', xScale: 'log', xRange: [minFar, 1], yRange: [0, 1] },
  );
}

/**
 * DET curves on normal-deviate (probit) axes: false reject rate against false accept rate.
 *
 * @param curves - named DET curves (`{ fpr, fnr }`, from {@link detCurve}).
 * @param options - a title.
 * @returns the SVG document.
 *
 * @example
 * ```ts
 * import { detCurve, detPlotSvg } from '@marginkit/eval';
 * const det = detCurve([0.9, 0.8, 0.7, 0.3, 0.2], [1, 0, 1, 0, 1]);
 * console.log(detPlotSvg([{ name: 'model', det }]).includes('%')); // true
 * ```
 */
export function detPlotSvg(
  curves: readonly { readonly name: string; readonly det: { readonly fpr: ArrayLike<number>; readonly fnr: ArrayLike<number> } }[],
  options: { readonly title?: string } = {},
): string {
  return linePlotSvg(
    curves.map((c) => ({ name: c.name, x: c.det.fpr, y: c.det.fnr })),
    {
      title: options.title ?? 'DET',
      xLabel: 'false accept rate',
      yLabel: 'false reject rate',
      xScale: 'probit',
      yScale: 'probit',
      xRange: [0.0005, 0.6],
      yRange: [0.0005, 0.6],
    },
  );
}

/**
 * Genuine and impostor score histograms (as densities), with a threshold marked.
 *
 * @param scores - similarity scores.
 * @param labels - 1 genuine, 0 impostor.
 * @param options - number of bins (default 60), a threshold to mark, a title.
 * @returns the SVG document.
 *
 * @example
 * ```ts
 * import { scoreHistogramSvg } from '@marginkit/eval';
 * const svg = scoreHistogramSvg([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0], { threshold: 0.5 });
 * console.log(svg.includes('threshold 0.5')); // true
 * ```
 */
export function scoreHistogramSvg(
  scores: Scores,
  labels: BinaryLabels,
  options: { readonly bins?: number; readonly threshold?: number; readonly title?: string } = {},
): string {
  const s = checkScores(scores);
  const l = checkLabels(labels, s.length);
  const bins = options.bins ?? 60;
  if (!Number.isInteger(bins) || bins < 2) throw new EvalInputError('bins', `must be an integer ≥ 2, got ${bins}`);
  if (s.length === 0) throw new EvalInputError('scores', 'is empty');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of s) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === hi) hi = lo + 1;
  const width = (hi - lo) / bins;
  const genuine = new Float64Array(bins + 1);
  const impostor = new Float64Array(bins + 1);
  let ng = 0;
  let ni = 0;
  for (let i = 0; i < s.length; i++) {
    const b = Math.min(bins - 1, Math.floor((s[i]! - lo) / width));
    if (l[i]) {
      genuine[b]!++;
      ng++;
    } else {
      impostor[b]!++;
      ni++;
    }
  }
  const x = Float64Array.from({ length: bins + 1 }, (_, b) => lo + b * width);
  const density = (h: Float64Array, n: number) => h.map((c) => (n > 0 ? c / (n * width) : 0)).map((v, b, all) => (b === bins ? all[bins - 1]! : v));
  return linePlotSvg(
    [
      { name: `genuine (${ng})`, x, y: density(genuine, ng) },
      { name: `impostor (${ni})`, x, y: density(impostor, ni) },
    ],
    {
      title: options.title ?? 'Score distributions',
      xLabel: 'score',
      yLabel: 'density',
      steps: true,
      ...(options.threshold === undefined ? {} : { markers: [{ x: options.threshold, label: `threshold ${+options.threshold.toPrecision(4)}` }] }),
    },
  );
}

/**
 * CMC curves: identification rate against rank.
 *
 * @param curves - named CMC curves (rate at rank 1, 2, …, e.g. `identification(...).cmcCurve`).
 * @param options - a title.
 * @returns the SVG document.
 *
 * @example
 * ```ts
 * import { cmcPlotSvg } from '@marginkit/eval';
 * console.log(cmcPlotSvg([{ name: 'model', cmc: [0.9, 0.95, 0.97] }]).includes('rank')); // true
 * ```
 */
export function cmcPlotSvg(curves: readonly { readonly name: string; readonly cmc: ArrayLike<number> }[], options: { readonly title?: string } = {}): string {
  return linePlotSvg(
    curves.map((c) => ({ name: c.name, x: Float64Array.from({ length: c.cmc.length }, (_, i) => i + 1), y: c.cmc })),
    { title: options.title ?? 'CMC', xLabel: 'rank', yLabel: 'identification rate', xScale: 'log', yRange: [0, 1] },
  );
}
