import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { cmcPlotSvg, detPlotSvg, linePlotSvg, rocPlotSvg, scoreHistogramSvg } from './plots.js';
import { detCurve, rocCurve } from './roc-curve.js';

const polylines = (svg: string) => [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));

describe('SVG plots', () => {
  const scores = [0.9, 0.85, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
  const labels = [1, 1, 0, 1, 0, 1, 0, 0];
  it('ROC on a log FAR axis: one polyline per curve, points at FAR 0 left out, decade ticks', () => {
    const roc = rocCurve(scores, labels);
    const svg = rocPlotSvg(
      [
        { name: 'a', roc },
        { name: 'b<c', roc },
      ],
      { minFar: 1e-3 },
    );
    const lines = polylines(svg);
    expect(lines).toHaveLength(2);
    const positive = Array.from(roc.fpr).filter((v) => v > 0).length;
    expect(lines[0]).toHaveLength(positive);
    expect(svg).toContain('>1e-3<');
    expect(svg).toContain('b&lt;c');
  });
  it('the log axis places decades evenly, and y grows upwards', () => {
    const svg = linePlotSvg([{ name: 's', x: [1e-4, 1e-3, 1e-2], y: [0, 0.5, 1] }], { title: 't', xLabel: 'x', yLabel: 'y', xScale: 'log', yRange: [0, 1] });
    const [[a, b, c]] = polylines(svg) as [[number[], number[], number[]]];
    expect(b[0]! - a[0]!).toBeCloseTo(c[0]! - b[0]!, 6);
    expect(a[1]!).toBeGreaterThan(c[1]!);
  });
  it('DET on probit axes, histograms with the threshold marked, CMC', () => {
    expect(detPlotSvg([{ name: 'm', det: detCurve(scores, labels) }])).toContain('50%');
    const hist = scoreHistogramSvg(scores, labels, { bins: 4, threshold: 0.5 });
    expect(hist).toContain('threshold 0.5');
    expect(hist).toContain('genuine (4)');
    expect(polylines(hist)).toHaveLength(2);
    expect(cmcPlotSvg([{ name: 'm', cmc: [0.5, 0.8, 1] }])).toContain('identification rate');
  });
  it('decimates a million-point curve to what the pixels can show, keeping both ends', () => {
    const n = 1_000_000;
    const x = Float64Array.from({ length: n }, (_, i) => (i + 1) / n);
    const y = x.map((v) => Math.sqrt(v));
    const [line] = polylines(linePlotSvg([{ name: 'big', x, y }], { title: '', xLabel: '', yLabel: '', xScale: 'log' }));
    expect(line!.length).toBeLessThan(3000);
    const full = polylines(
      linePlotSvg([{ name: 'ends', x: [x[0]!, x[n - 1]!], y: [y[0]!, y[n - 1]!] }], { title: '', xLabel: '', yLabel: '', xScale: 'log' }),
    )[0]!;
    expect(line![0]).toEqual(full[0]);
    expect(line!.at(-1)).toEqual(full.at(-1));
  });
  it('rejects series whose x and y differ in length, and too few bins', () => {
    expect(() => linePlotSvg([{ name: 's', x: [1, 2], y: [1] }], { title: '', xLabel: '', yLabel: '' })).toThrowError(EvalInputError);
    expect(() => scoreHistogramSvg(scores, labels, { bins: 1 })).toThrowError(EvalInputError);
  });
});
