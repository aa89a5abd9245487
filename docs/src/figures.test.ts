import { arcface, cosface, noMargin } from '@marginkit/core';
import { describe, expect, it } from 'vitest';
import { ARCFACE_FALLBACKS, BUILT_IN_MARGINS, angles, marginBoundary, targetLogitSvg, targetLogits, unitCircleSvg } from './figures.js';

describe('figures', () => {
  it('draws the formulas of the margins table (float64, by hand)', () => {
    const thetas = [0.1, 1, 2];
    const [normface, , cos, arc] = BUILT_IN_MARGINS.map((m) => targetLogits(m.margin, thetas));
    thetas.forEach((t, i) => {
      expect(normface![i]).toBeCloseTo(Math.cos(t), 12);
      expect(cos![i]).toBeCloseTo(Math.cos(t) - 0.35, 12);
      expect(arc![i]).toBeCloseTo(Math.cos(t + 0.5), 6);
    });
  });
  it('draws every built-in margin and every ArcFace fallback, one line each, over [0, π]', () => {
    expect(BUILT_IN_MARGINS.map((m) => m.margin.type)).toEqual(['none', 'sphereface', 'cosface', 'arcface', 'combined', 'combined']);
    expect(angles(5)).toEqual([0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4, Math.PI]);
    const svg = targetLogitSvg(BUILT_IN_MARGINS, 'title');
    expect(svg.match(/<polyline/g)).toHaveLength(BUILT_IN_MARGINS.length);
    expect(targetLogitSvg(ARCFACE_FALLBACKS, 'title').match(/<polyline/g)).toHaveLength(4);
  });
  it('puts the boundary where the margin says: (δ − m)/2 for ArcFace, δ/2 without a margin, cos φ − m = cos(δ − φ) for CosFace', () => {
    const delta = 1.4;
    expect(marginBoundary(arcface({ m: 0.5 }), delta)).toBeCloseTo((delta - 0.5) / 2, 6);
    expect(marginBoundary(noMargin(), delta)).toBeCloseTo(delta / 2, 9);
    const phi = marginBoundary(cosface({ m: 0.35 }), delta);
    expect(Math.cos(phi) - 0.35 - Math.cos(delta - phi)).toBeCloseTo(0, 6);
  });
  it('labels the unit-circle picture with the band the boundary leaves: m for ArcFace', () => {
    expect(unitCircleSvg({ name: 'ArcFace m = 0.5', margin: arcface({ m: 0.5 }) })).toContain('margin band 28.6° wide');
    expect(() => unitCircleSvg({ name: 'none', margin: noMargin() }, 0)).toThrow(/no boundary/);
  });
});
