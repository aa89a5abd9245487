/**
 * The figures of the guides, drawn from the library's own code when the site is built
 * (docs/scripts/build-figures.ts writes them to docs/figures/): the target logit of every built-in
 * margin against θ, ArcFace's fallback policies past π − m, and the unit-circle picture of the
 * margin between a class centre and its neighbours.
 */
import { DEFAULT_EPSILON, type Margin, arcface, combinedMargin, cosface, createOps, noMargin, sphereface } from '@marginkit/core';
import { RefTensor, referenceBackend } from '@marginkit/core/testing';
import { linePlotSvg } from '@marginkit/eval';

const ops = createOps(referenceBackend());

/** A margin's target logit f(θ) at each angle θ (radians), computed by the margin's own `targetLogit` on the float64 reference backend. */
export function targetLogits(margin: Margin, thetas: readonly number[]): number[] {
  if (!margin.targetLogit) throw new Error(`${margin.type} has no one-line targetLogit to plot`);
  const cosines = new RefTensor([thetas.length], 'float32', Float64Array.from(thetas, Math.cos));
  return margin.targetLogit(cosines, { ops, epsilon: DEFAULT_EPSILON }).toArray();
}

/** A named margin to draw. */
export interface NamedMargin {
  readonly name: string;
  readonly margin: Margin;
}

/** Every built-in margin of core, with its defaults (and the ArcFace paper's CM2). */
export const BUILT_IN_MARGINS: readonly NamedMargin[] = [
  { name: 'NormFace (cos θ)', margin: noMargin() },
  { name: 'SphereFace m = 4', margin: sphereface() },
  { name: 'CosFace m = 0.35', margin: cosface() },
  { name: 'ArcFace m = 0.5', margin: arcface() },
  { name: 'Combined (1, 0.3, 0.2)', margin: combinedMargin() },
  { name: 'CM2 (0.9, 0.4, 0.15)', margin: combinedMargin({ m1: 0.9, m2: 0.4, m3: 0.15 }) },
];

/** ArcFace m = 0.5 under each fallback policy. */
export const ARCFACE_FALLBACKS: readonly NamedMargin[] = (['linear', 'psi', 'easy', 'none'] as const).map((fallback) => ({
  name: `fallback '${fallback}'`,
  margin: arcface({ m: 0.5, fallback }),
}));

/** `n` angles from 0 to π. */
export function angles(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (Math.PI * i) / (n - 1));
}

/** The target-logit curves of `margins` over θ ∈ [0, π], as an SVG line chart (y clipped to `yRange`). */
export function targetLogitSvg(margins: readonly NamedMargin[], title: string, yRange: readonly [number, number] = [-2, 1]): string {
  const thetas = angles(721);
  return linePlotSvg(
    margins.map(({ name, margin }) => ({ name, x: thetas, y: targetLogits(margin, thetas) })),
    {
      title,
      xLabel: 'θ_y, angle between the embedding and its class centre (rad)',
      yLabel: 'target logit f(θ_y)',
      xRange: [0, Math.PI],
      yRange,
    },
  );
}

/**
 * Where the margin puts the decision boundary between class y and a neighbour whose centre is
 * `delta` radians away: the angle φ from y's centre at which y's target logit f(φ) equals the
 * neighbour's plain logit cos(δ − φ). Without a margin φ = δ/2; a sample of class y must be
 * within φ of its centre to win. Found by bisection on the margin's own `targetLogit`.
 */
export function marginBoundary(margin: Margin, delta: number): number {
  const gap = (phi: number) => targetLogits(margin, [phi])[0]! - Math.cos(delta - phi);
  let lo = 0;
  let hi = delta;
  if (!(gap(lo) > 0 && gap(hi) < 0)) throw new Error(`${margin.type}: no boundary within [0, ${delta}]`);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (gap(mid) > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const deg = (radians: number) => (radians * 180) / Math.PI;

/**
 * The unit-circle picture: class y's centre (up) and two neighbours `delta` radians to each side,
 * as arrows; between y and each neighbour the plain softmax boundary (dashed) and the band the
 * margin leaves empty: y's samples must lie within φ of their centre, the neighbour's within φ of
 * theirs (φ from {@link marginBoundary}).
 */
export function unitCircleSvg(margin: NamedMargin, delta = (80 * Math.PI) / 180): string {
  // The upper part of the circle: the centres sit within 90° of the top.
  const W = 300;
  const R = 110;
  const cx = W / 2;
  const cy = 70 + R;
  const H = cy + 45;
  const up = Math.PI / 2;
  const phi = marginBoundary(margin.margin, delta);
  const xy = (angle: number, r = R): [number, number] => [r1(cx + r * Math.cos(angle)), r1(cy - r * Math.sin(angle))];
  const point = (angle: number, r = R) => xy(angle, r).join(',');
  const line = (angle: number, r: number, attrs: string) => {
    const [x, y] = xy(angle, r);
    return `<line x1="${cx}" y1="${cy}" x2="${x}" y2="${y}" ${attrs}/>`;
  };
  // A filled sector of the disc, counter-clockwise from angle a to angle b.
  const sector = (a: number, b: number, colour: string, opacity: number) =>
    `<path d="M${cx},${cy} L${point(a)} A${R},${R} 0 0 0 ${point(b)} Z" fill="${colour}" fill-opacity="${opacity}" stroke="none"/>`;
  const arrow = (angle: number, colour: string, label: string) => {
    const [lx, ly] = xy(angle, R + 16);
    return (
      line(angle, R - 10, `stroke="${colour}" stroke-width="2.5"`) +
      `<polygon points="${point(angle)} ${point(angle + 0.045, R - 12)} ${point(angle - 0.045, R - 12)}" fill="${colour}"/>` +
      `<text x="${lx}" y="${ly}" text-anchor="middle" dominant-baseline="middle" font-style="italic" fill="${colour}">${label}</text>`
    );
  };
  const band = deg(delta - 2 * phi);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13" role="img" aria-label="${margin.name}: class centres on the unit circle and the margin band around the target class">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${cx}" y="20" text-anchor="middle" font-size="15">${margin.name}</text>`,
    `<text x="${cx}" y="40" text-anchor="middle" font-size="12" fill="#444">centres ${r1(deg(delta))}° apart: margin band ${r1(band)}° wide</text>`,
    // The target's region (within φ of W_y), then the empty bands on both sides.
    sector(up - phi, up + phi, '#1f77b4', 0.18),
    sector(up + phi, up + delta - phi, '#d62728', 0.16),
    sector(up - delta + phi, up - phi, '#d62728', 0.16),
    `<circle cx="${cx}" cy="${cy}" r="${R}" fill="none" stroke="#888"/>`,
    `<line x1="${cx - R - 6}" y1="${cy}" x2="${cx + R + 6}" y2="${cy}" stroke="#ccc"/>`,
    line(up + delta / 2, R, 'stroke="#333" stroke-dasharray="5 4"'),
    line(up - delta / 2, R, 'stroke="#333" stroke-dasharray="5 4"'),
    arrow(up, '#1f77b4', 'W<tspan baseline-shift="sub" font-size="10">y</tspan>'),
    arrow(up + delta, '#555', 'W<tspan baseline-shift="sub" font-size="10">1</tspan>'),
    arrow(up - delta, '#555', 'W<tspan baseline-shift="sub" font-size="10">2</tspan>'),
    `<rect x="0" y="${H - 24}" width="${W}" height="24" fill="white"/>`,
    `<text x="${cx}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#444">blue: class y wins · red: margin band · dashed: no margin</text>`,
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}
