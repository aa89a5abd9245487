/**
 * A small inline-SVG line chart for the report: linear or log axes, lines with their own colour
 * and dash (so a loss has the same colour in every figure), optional fill under a line, vertical
 * markers and dots. Lines break at non-finite points; nothing non-finite reaches the markup.
 *
 * (The report does not use @marginkit/eval's linePlotSvg: that colours lines by their index, so a
 * loss would change colour between figures, its legend sits in a fixed 190 px margin that clips
 * long labels, and it has no fill or dots. Legends are HTML here, next to the chart.)
 */
import { c1, esc, finite, general, powerOfTen } from './format.js';

/** An axis scale. */
export type Scale = 'linear' | 'log';

/** One axis: label, range, scale, optional ticks and tick format. */
export interface ChartAxis {
  readonly label: string;
  readonly range: readonly [number, number];
  readonly scale?: Scale;
  readonly ticks?: readonly number[];
  readonly format?: (v: number) => string;
}

/** One line. */
export interface ChartLine {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly colour: string;
  /** SVG stroke-dasharray; '' or absent for solid. */
  readonly dash?: string;
  readonly width?: number;
  /** Fill between the line and the bottom of the plot with this opacity. */
  readonly fillOpacity?: number;
  readonly opacity?: number;
}

/** A dashed vertical line at x, labelled at the top of the plot. */
export interface ChartMarker {
  readonly x: number;
  readonly label: string;
}

/** A dot at (x, y) in data units, with a tooltip. */
export interface ChartDot {
  readonly x: number;
  readonly y: number;
  readonly colour: string;
  readonly title: string;
}

/** A chart. */
export interface ChartSpec {
  /** Unique in the page: the clip path's id derives from it. */
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly title?: string;
  /** A smaller line under the title. */
  readonly subtitle?: string;
  /** What the chart shows, for screen readers. */
  readonly description: string;
  readonly x: ChartAxis;
  readonly y: ChartAxis;
  readonly lines: readonly ChartLine[];
  readonly markers?: readonly ChartMarker[];
  /** Where marker labels go: inside the plot at its top (default) or bottom, or above the plot (needs a top margin). */
  readonly markerLabels?: 'top' | 'bottom' | 'above';
  readonly dots?: readonly ChartDot[];
  readonly margin?: Partial<Margin>;
  readonly fontSize?: number;
}

interface Margin {
  readonly l: number;
  readonly r: number;
  readonly t: number;
  readonly b: number;
}

/** About `target` round ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!finite(lo) || !finite(hi) || hi <= lo) return finite(lo) ? [lo] : [];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= target + 0.5) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A range [lo, hi] rounded outwards to nice ticks; [0, 1] when there is nothing finite. */
export function niceRange(values: Iterable<number>, options: { readonly zero?: boolean; readonly pad?: number } = {}): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!finite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (options.zero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo > hi) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (options.pad ?? 0) * (hi - lo);
  const l = options.zero && lo === 0 ? 0 : lo - pad;
  const h = hi + pad;
  const t = niceTicks(l, h);
  const step = t.length > 1 ? t[1]! - t[0]! : h - l;
  return [Math.floor(l / step + 1e-9) * step, Math.ceil(h / step - 1e-9) * step].map((v) => Number(v.toPrecision(12))) as [number, number];
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) out.push(10 ** e);
  return out;
}

/** Renders the chart as an inline <svg> element. */
export function chartSvg(spec: ChartSpec): string {
  const { width: W, height: H } = spec;
  const fs = spec.fontSize ?? 12;
  const m: Margin = { l: 58, r: 16, t: spec.subtitle ? 44 : spec.title ? 30 : 12, b: 46, ...spec.margin };
  const xs = spec.x.scale ?? 'linear';
  const ys = spec.y.scale ?? 'linear';
  const fx = xs === 'log' ? Math.log10 : (v: number) => v;
  const fy = ys === 'log' ? Math.log10 : (v: number) => v;
  const [x0, x1] = spec.x.range;
  const [y0, y1] = spec.y.range;
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const px = (v: number) => m.l + (pw * (fx(v) - fx(x0))) / (fx(x1) - fx(x0) || 1);
  const py = (v: number) => m.t + ph - (ph * (fy(v) - fy(y0))) / (fy(y1) - fy(y0) || 1);
  const okX = (v: number) => finite(v) && (xs !== 'log' || v > 0);
  const okY = (v: number) => finite(v) && (ys !== 'log' || v > 0);
  const bound = (v: number) => Math.max(-1e4, Math.min(1e4, v));
  const clip = `${spec.id}-clip`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-size="${fs}" role="img" aria-label="${esc(spec.description)}">`,
    `<defs><clipPath id="${esc(clip)}"><rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath></defs>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
  ];
  if (spec.title) out.push(`<text x="${m.l}" y="${m.t - (spec.subtitle ? 24 : 10)}" font-weight="600" font-size="${fs + 1}">${esc(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${m.l}" y="${m.t - 9}" font-size="${fs - 0.5}" fill="#555">${esc(spec.subtitle)}</text>`);
  const xTicks = (spec.x.ticks ?? (xs === 'log' ? logTicks(x0, x1) : niceTicks(x0, x1))).filter((v) => okX(v) && v >= x0 - 1e-12 && v <= x1 + 1e-12);
  const yTicks = (spec.y.ticks ?? (ys === 'log' ? logTicks(y0, y1) : niceTicks(y0, y1))).filter((v) => okY(v) && v >= y0 - 1e-12 && v <= y1 + 1e-12);
  const xf = spec.x.format ?? (xs === 'log' ? powerOfTen : general);
  const yf = spec.y.format ?? (ys === 'log' ? powerOfTen : general);
  for (const v of xTicks) {
    const X = c1(px(v));
    out.push(
      `<line x1="${X}" x2="${X}" y1="${m.t}" y2="${m.t + ph}" stroke="#e6e6e6"/><text x="${X}" y="${m.t + ph + fs + 4}" text-anchor="middle" fill="#333">${esc(xf(v))}</text>`,
    );
  }
  for (const v of yTicks) {
    const Y = c1(py(v));
    out.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${Y}" y2="${Y}" stroke="#e6e6e6"/><text x="${m.l - 6}" y="${c1(py(v) + fs / 3)}" text-anchor="end" fill="#333">${esc(yf(v))}</text>`,
    );
  }
  // The zero line of a linear y axis that crosses zero.
  if (ys === 'linear' && y0 < 0 && y1 > 0) out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${c1(py(0))}" y2="${c1(py(0))}" stroke="#999"/>`);
  out.push(
    `<text x="${c1(m.l + pw / 2)}" y="${H - 8}" text-anchor="middle" fill="#222">${esc(spec.x.label)}</text>`,
    `<text transform="translate(${fs + 2} ${c1(m.t + ph / 2)}) rotate(-90)" text-anchor="middle" fill="#222">${esc(spec.y.label)}</text>`,
    `<g clip-path="url(#${esc(clip)})">`,
  );
  for (const line of spec.lines) {
    // Segments of consecutive plottable points, each point kept only if it moves ≥ 0.5 px.
    const segments: string[][] = [];
    let current: string[] = [];
    let lastX = Number.NaN;
    let lastY = Number.NaN;
    const n = Math.min(line.x.length, line.y.length);
    for (let i = 0; i < n; i++) {
      const xv = line.x[i]!;
      const yv = line.y[i]!;
      if (!okX(xv) || !okY(yv)) {
        if (current.length) segments.push(current);
        current = [];
        lastX = Number.NaN;
        continue;
      }
      const X = bound(px(xv));
      const Y = bound(py(yv));
      const nextOk = i + 1 < n && okX(line.x[i + 1]!) && okY(line.y[i + 1]!);
      if (current.length && nextOk && Math.abs(X - lastX) < 0.5 && Math.abs(Y - lastY) < 0.5) continue;
      current.push(`${c1(X)},${c1(Y)}`);
      lastX = X;
      lastY = Y;
    }
    if (current.length) segments.push(current);
    const stroke = `stroke="${esc(line.colour)}" stroke-width="${line.width ?? 2}"${line.dash ? ` stroke-dasharray="${esc(line.dash)}"` : ''}${
      line.opacity === undefined ? '' : ` stroke-opacity="${line.opacity}"`
    }`;
    for (const seg of segments) {
      if (line.fillOpacity && seg.length > 1) {
        const first = seg[0]!.split(',')[0];
        const last = seg[seg.length - 1]!.split(',')[0];
        const base = c1(m.t + ph);
        out.push(
          `<polygon points="${first},${base} ${seg.join(' ')} ${last},${base}" fill="${esc(line.colour)}" fill-opacity="${line.fillOpacity}" stroke="none"/>`,
        );
      }
      out.push(`<polyline fill="none" stroke-linejoin="round" ${stroke} points="${seg.join(' ')}"><title>${esc(line.name)}</title></polyline>`);
    }
  }
  out.push('</g>');
  for (const mk of spec.markers ?? []) {
    if (!okX(mk.x) || mk.x < x0 || mk.x > x1) continue;
    const X = px(mk.x);
    const right = X > m.l + pw - 90;
    const y = spec.markerLabels === 'bottom' ? m.t + ph - 7 : spec.markerLabels === 'above' ? m.t - 5 : m.t + fs + 3;
    out.push(`<line x1="${c1(X)}" x2="${c1(X)}" y1="${m.t}" y2="${m.t + ph}" stroke="#555" stroke-dasharray="5 4"/>`);
    if (mk.label) {
      out.push(`<text class="halo" x="${c1(right ? X - 5 : X + 5)}" y="${y}" text-anchor="${right ? 'end' : 'start'}" fill="#333">${esc(mk.label)}</text>`);
    }
  }
  for (const d of spec.dots ?? []) {
    if (!okX(d.x) || !okY(d.y) || d.x < x0 || d.x > x1 || d.y < y0 || d.y > y1) continue;
    out.push(
      `<circle class="dot" cx="${c1(px(d.x))}" cy="${c1(py(d.y))}" r="4" fill="${esc(d.colour)}" stroke="#fff" stroke-width="1.5"><title>${esc(d.title)}</title></circle>`,
    );
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`, '</svg>');
  return out.join('\n');
}
