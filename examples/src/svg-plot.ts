/** One named line of a plot. */
export interface Series {
  /** Legend label. */
  readonly name: string;
  /** y values at x = 1, 2, … */
  readonly values: readonly number[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A small standalone SVG line chart (no dependencies), for the demo's loss and accuracy curves. */
export function linePlot(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const w = 680;
  const h = 340;
  const pad = { l: 64, r: 200, t: 36, b: 48 };
  const all = series.flatMap((s) => s.values);
  const n = Math.max(...series.map((s) => s.values.length));
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all) * 1.05 || 1;
  const x = (i: number) => pad.l + ((w - pad.l - pad.r) * i) / Math.max(1, n - 1);
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - (v - lo) / (hi - lo));
  const ticks = Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2 - pad.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    ...ticks.map(
      (v) =>
        `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`,
    ),
    `<line x1="${pad.l}" x2="${w - pad.r}" y1="${h - pad.b}" y2="${h - pad.b}" stroke="#333"/>`,
    `<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${h - pad.b}" stroke="#333"/>`,
    `<text x="${(pad.l + w - pad.r) / 2}" y="${h - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${(pad.t + h - pad.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<text x="${pad.l}" y="${h - pad.b + 16}" text-anchor="middle">1</text><text x="${w - pad.r}" y="${h - pad.b + 16}" text-anchor="middle">${n}</text>`,
    ...series.map((s, k) => {
      const c = COLOURS[k % COLOURS.length];
      const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/><rect x="${w - pad.r + 12}" y="${pad.t + 18 * k}" width="12" height="12" fill="${c}"/><text x="${w - pad.r + 30}" y="${pad.t + 18 * k + 10}">${esc(s.name)}</text>`;
    }),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}
