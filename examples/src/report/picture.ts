/**
 * The paper's picture for one loss: the raw 2-D features as a scatter coloured by class with the
 * class centres as arrows from the origin, and the same features L2-normalised onto the unit
 * circle (radially jittered so density shows) with the centre directions.
 */
import { niceTicks } from './chart.js';
import { c1, esc, finite, general, truncate } from './format.js';
import type { LossRun } from './model.js';
import { classColour } from './palette.js';

/** At most this many points per panel; more are subsampled evenly (deterministically). */
export const MAX_POINTS = 1000;
/** The jitter of the unit-circle panel: radius 1 ± this. */
export const JITTER = 0.05;

/** The points a run's panels draw. */
export interface PictureSample {
  /** Row indices drawn, ascending. */
  readonly indices: readonly number[];
  /** Rows with finite, non-zero features. */
  readonly usable: number;
  /** All rows. */
  readonly total: number;
}

/** Rows with finite, non-zero features; at most `max` of them, evenly spaced (every (usable/max)-th). */
export function samplePoints(run: LossRun, max = MAX_POINTS): PictureSample {
  const { features, labels } = run.picture;
  const total = Math.min(Math.floor(features.length / 2), labels.length);
  const usable: number[] = [];
  for (let i = 0; i < total; i++) {
    const x = features[2 * i]!;
    const y = features[2 * i + 1]!;
    if (finite(x) && finite(y) && (x !== 0 || y !== 0)) usable.push(i);
  }
  if (usable.length <= max) return { indices: usable, usable: usable.length, total };
  const indices = Array.from({ length: max }, (_, k) => usable[Math.floor((k * usable.length) / max)]!);
  return { indices, usable: usable.length, total };
}

/** A deterministic number in [0, 1) from an integer (a 32-bit integer hash). */
function hash01(i: number): number {
  let h = (i + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Finite centre rows, [C, 2], in seenClasses order, with their class index. */
function centres(run: LossRun, seen: readonly number[]): { x: number; y: number; cls: number }[] {
  const c = run.picture.centers;
  const out: { x: number; y: number; cls: number }[] = [];
  for (let k = 0; k < Math.floor(c.length / 2); k++) {
    const x = c[2 * k]!;
    const y = c[2 * k + 1]!;
    if (finite(x) && finite(y)) out.push({ x, y, cls: seen[k] ?? -1 });
  }
  return out;
}

/** The arrow from (x0, y0) to (x1, y1) in pixels, with a white halo so it shows above the points. */
function arrow(x0: number, y0: number, x1: number, y1: number, colour: string, title: string): string {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (!(len > 1)) return '';
  const ux = (x1 - x0) / len;
  const uy = (y1 - y0) / len;
  const head = Math.min(10, len * 0.45);
  const bx = x1 - ux * head;
  const by = y1 - uy * head;
  const wx = -uy * head * 0.42;
  const wy = ux * head * 0.42;
  const tri = `${c1(x1)},${c1(y1)} ${c1(bx + wx)},${c1(by + wy)} ${c1(bx - wx)},${c1(by - wy)}`;
  return (
    `<g class="arrow"><title>${esc(title)}</title>` +
    `<line x1="${c1(x0)}" y1="${c1(y0)}" x2="${c1(bx)}" y2="${c1(by)}" stroke="#fff" stroke-width="5" stroke-linecap="round"/>` +
    `<polygon points="${tri}" fill="#fff" stroke="#fff" stroke-width="3" stroke-linejoin="round"/>` +
    `<line x1="${c1(x0)}" y1="${c1(y0)}" x2="${c1(bx)}" y2="${c1(by)}" stroke="${colour}" stroke-width="2.4" stroke-linecap="round"/>` +
    `<polygon points="${tri}" fill="${colour}"/></g>`
  );
}

/** Points grouped by class (one <g> per class, one <circle class="pt"> per point). */
function pointMarks(run: LossRun, sample: PictureSample, place: (i: number) => [number, number], r: number, opacity: number): string {
  const byClass = new Map<number, string[]>();
  for (const i of sample.indices) {
    const [X, Y] = place(i);
    const cls = run.picture.labels[i]!;
    const list = byClass.get(cls) ?? [];
    if (!byClass.has(cls)) byClass.set(cls, list);
    list.push(`<circle class="pt" cx="${c1(X)}" cy="${c1(Y)}" r="${r}"/>`);
  }
  const groups = [...byClass.entries()].sort((a, b) => a[0] - b[0]);
  return (
    `<g class="points" data-points="${sample.indices.length}" fill-opacity="${opacity}">` +
    groups.map(([cls, marks]) => `<g fill="${classColour(cls)}" data-class="${cls}">${marks.join('')}</g>`).join('') +
    '</g>'
  );
}

const SIZE = 360;
/** The unit-circle panel is wider, for the class names around the circle. */
const CIRCLE_WIDTH = 400;

function panelTitle(label: string, second: string): string {
  return (
    `<text x="12" y="19" font-weight="600" font-size="13">${esc(truncate(label, 48))}</text>` +
    `<text x="12" y="36" fill="#444" font-size="12">${esc(second)}</text>`
  );
}

/** The raw 2-D features and the centres (arrows rescaled to fit; directions exact). Returns the SVG and the arrow scale. */
export function rawPanelSvg(
  run: LossRun,
  seen: readonly number[],
  classNames: readonly string[],
  sample: PictureSample,
  accuracy: string,
): { svg: string; arrowScale: number } {
  const f = run.picture.features;
  let extent = 0;
  for (const i of sample.indices) extent = Math.max(extent, Math.abs(f[2 * i]!), Math.abs(f[2 * i + 1]!));
  const cs = centres(run, seen);
  if (!(extent > 0)) extent = Math.max(1, ...cs.map((c) => Math.max(Math.abs(c.x), Math.abs(c.y))));
  const ticks = niceTicks(0, extent * 1.04, 2);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : extent;
  const R = Math.ceil((extent * 1.04) / step - 1e-9) * step;
  const top = 46;
  const bottom = 26;
  const left = 50;
  const P = Math.min(SIZE - left - 12, SIZE - top - bottom);
  const ox = left + (SIZE - left - 12 - P) / 2;
  const px = (v: number) => ox + ((v + R) / (2 * R)) * P;
  const py = (v: number) => top + P - ((v + R) / (2 * R)) * P;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="panel" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" font-size="11" role="img" aria-label="${esc(`${run.label}: raw 2-D features coloured by class, class centres as arrows`)}">`,
    `<rect width="${SIZE}" height="${SIZE}" fill="#fff"/>`,
    panelTitle(run.label, `raw 2-D features · closed-set accuracy ${accuracy}`),
  ];
  const gridTicks = [...ticks.filter((t) => t > 0 && t <= R).flatMap((t) => [-t, t]), 0].sort((a, b) => a - b);
  for (const t of gridTicks) {
    const X = c1(px(t));
    const Y = c1(py(t));
    const stroke = t === 0 ? '#b5b5b5' : '#ececec';
    out.push(
      `<line x1="${X}" x2="${X}" y1="${top}" y2="${c1(top + P)}" stroke="${stroke}"/><line x1="${c1(ox)}" x2="${c1(ox + P)}" y1="${Y}" y2="${Y}" stroke="${stroke}"/>`,
      `<text x="${X}" y="${c1(top + P + 14)}" text-anchor="middle" fill="#444">${esc(general(t))}</text>`,
      `<text x="${c1(ox - 5)}" y="${c1(py(t) + 4)}" text-anchor="end" fill="#444">${esc(general(t))}</text>`,
    );
  }
  out.push(pointMarks(run, sample, (i) => [px(f[2 * i]!), py(f[2 * i + 1]!)], 1.7, 0.5));
  const maxNorm = Math.max(0, ...cs.map((c) => Math.hypot(c.x, c.y)));
  const arrowScale = maxNorm > 0 ? (0.9 * R) / maxNorm : 1;
  for (const c of cs) {
    out.push(arrow(px(0), py(0), px(c.x * arrowScale), py(c.y * arrowScale), classColour(c.cls), `centre of ${classNames[c.cls] ?? `class ${c.cls}`}`));
  }
  out.push(`<rect x="${c1(ox)}" y="${top}" width="${c1(P)}" height="${c1(P)}" fill="none" stroke="#444"/>`, '</svg>');
  return { svg: out.join('\n'), arrowScale };
}

/** Spreads label angles (radians) apart so neighbouring labels do not overlap. */
function spreadLabels(items: { angle: number; width: number }[], radius: number, height: number): number[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.angle - items[b]!.angle);
  const angles = items.map((it) => it.angle);
  const needed = (a: number, b: number, w: number) => {
    const mid = (a + b) / 2;
    const vertical = height / (radius * Math.max(1e-3, Math.abs(Math.cos(mid))));
    const horizontal = w / (radius * Math.max(1e-3, Math.abs(Math.sin(mid))));
    return Math.min(vertical, horizontal, Math.PI);
  };
  if (order.length < 2) return angles;
  for (let pass = 0; pass < 60; pass++) {
    let moved = false;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const j = order[(k + 1) % order.length]!;
      let gap = angles[j]! - angles[i]!;
      if (k === order.length - 1) gap += 2 * Math.PI;
      const want = needed(angles[i]!, angles[i]! + gap, (items[i]!.width + items[j]!.width) / 2 + 6);
      if (gap < want) {
        const push = Math.min((want - gap) / 2, 0.05);
        angles[i] = angles[i]! - push;
        angles[j] = angles[j]! + push;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return angles;
}

/** The features L2-normalised onto the unit circle (radius 1 ± JITTER), with centre directions and class names. */
export function circlePanelSvg(run: LossRun, seen: readonly number[], classNames: readonly string[], sample: PictureSample, accuracy: string): string {
  const f = run.picture.features;
  const cx = CIRCLE_WIDTH / 2;
  const cy = 204;
  const rho = 112;
  const fs = 10.5;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="panel" width="${CIRCLE_WIDTH}" height="${SIZE}" viewBox="0 0 ${CIRCLE_WIDTH} ${SIZE}" font-size="${fs}" role="img" aria-label="${esc(`${run.label}: features normalised onto the unit circle, centre directions as arrows`)}">`,
    `<rect width="${CIRCLE_WIDTH}" height="${SIZE}" fill="#fff"/>`,
    panelTitle(run.label, `L2-normalised (unit circle) · closed-set accuracy ${accuracy}`),
    `<line x1="${cx - rho * 1.12}" x2="${cx + rho * 1.12}" y1="${cy}" y2="${cy}" stroke="#e4e4e4"/><line x1="${cx}" x2="${cx}" y1="${cy - rho * 1.12}" y2="${cy + rho * 1.12}" stroke="#e4e4e4"/>`,
    `<circle cx="${cx}" cy="${cy}" r="${rho}" fill="none" stroke="#9a9a9a" stroke-width="1"/>`,
  ];
  out.push(
    pointMarks(
      run,
      sample,
      (i) => {
        const x = f[2 * i]!;
        const y = f[2 * i + 1]!;
        const n = Math.hypot(x, y);
        const r = rho * (1 + JITTER * (2 * hash01(i) - 1));
        return [cx + (r * x) / n, cy - (r * y) / n];
      },
      1.5,
      0.45,
    ),
  );
  const cs = centres(run, seen).filter((c) => c.x !== 0 || c.y !== 0);
  for (const c of cs) {
    const n = Math.hypot(c.x, c.y);
    out.push(
      arrow(
        cx,
        cy,
        cx + (0.86 * rho * c.x) / n,
        cy - (0.86 * rho * c.y) / n,
        classColour(c.cls),
        `direction of the centre of ${classNames[c.cls] ?? `class ${c.cls}`}`,
      ),
    );
  }
  // Class names just outside the circle, along each centre's direction (nudged apart where crowded).
  const names = cs.map((c) => truncate(classNames[c.cls] ?? `class ${c.cls}`, 13));
  const labelRadius = rho * (1 + JITTER) + 9;
  const angles = spreadLabels(
    cs.map((c, k) => ({ angle: Math.atan2(c.y, c.x), width: names[k]!.length * fs * 0.56 })),
    labelRadius,
    fs + 2,
  );
  cs.forEach((c, k) => {
    const a = angles[k]!;
    const X = cx + labelRadius * Math.cos(a);
    const Y = cy - labelRadius * Math.sin(a) + fs * 0.35 - Math.sin(a) * fs * 0.45;
    const anchor = Math.cos(a) > 0.25 ? 'start' : Math.cos(a) < -0.25 ? 'end' : 'middle';
    out.push(`<text class="halo" x="${c1(X)}" y="${c1(Y)}" text-anchor="${anchor}" fill="${classColour(c.cls)}" font-weight="600">${esc(names[k]!)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Angle statistics of the 2-D features (all usable rows): mean angle to the own centre, smallest angle between centres. */
export function angleStats(run: LossRun, seen: readonly number[]): { meanOwnDeg: number; minCentreGapDeg: number } {
  const f = run.picture.features;
  const l = run.picture.labels;
  const cs = centres(run, seen);
  const dir = new Map<number, number>();
  for (const c of cs) if (c.x !== 0 || c.y !== 0) dir.set(c.cls, Math.atan2(c.y, c.x));
  const diff = (a: number, b: number) => {
    const d = Math.abs(a - b) % (2 * Math.PI);
    return d > Math.PI ? 2 * Math.PI - d : d;
  };
  let sum = 0;
  let n = 0;
  const total = Math.min(Math.floor(f.length / 2), l.length);
  for (let i = 0; i < total; i++) {
    const x = f[2 * i]!;
    const y = f[2 * i + 1]!;
    const d = dir.get(l[i]!);
    if (d === undefined || !finite(x) || !finite(y) || (x === 0 && y === 0)) continue;
    sum += diff(Math.atan2(y, x), d);
    n++;
  }
  const ds = [...dir.values()];
  let gap = Number.POSITIVE_INFINITY;
  for (let a = 0; a < ds.length; a++) for (let b = a + 1; b < ds.length; b++) gap = Math.min(gap, diff(ds[a]!, ds[b]!));
  const deg = 180 / Math.PI;
  return { meanOwnDeg: n > 0 ? (sum / n) * deg : Number.NaN, minCentreGapDeg: ds.length > 1 ? gap * deg : Number.NaN };
}
