import { describe, expect, it } from 'vitest';
import { RegistryError } from './errors.js';
import { marginSoftmaxLoss } from './loss.js';
import { arcface, combinedMargin, cosface, noMargin, sphereface } from './builtin-margins.js';
import { composeMargins } from './compose-margins.js';
import { defineMargin } from './define-margin.js';
import { createRegistry } from './registry.js';
import { RefTensor, referenceBackend, seededRandom } from './testing/index.js';

describe('registry', () => {
  it('rebuilds every built-in margin from its JSON config (round trip)', () => {
    const registry = createRegistry();
    const margins = [
      arcface({ m: 0.4, fallback: 'psi', gradient: 'straight-through' }),
      cosface({ m: 0.3, fallback: 'easy' }),
      sphereface({ m: 1.35, lambda: 5, featureScale: 'norm' }),
      combinedMargin({ m1: 1.1, m2: 0.2, m3: 0.1, fallback: 'easy' }),
      noMargin(),
      composeMargins(arcface({ m: 0.3 }), cosface({ m: 0.2 })),
    ];
    for (const m of margins) {
      const json = JSON.parse(JSON.stringify(m.config));
      expect(registry.margin(json).config).toEqual(m.config);
    }
  });

  it('builds the same loss from a JSON config as from code', () => {
    const backend = referenceBackend();
    const rng = seededRandom(7);
    const t = (shape: number[], f: () => number, dtype: 'float32' | 'int32' = 'float32') =>
      new RefTensor(shape, dtype, Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f));
    const x = t([5, 3], rng.normal);
    const w = t([4, 3], rng.normal);
    const y = t([5], () => rng.int(4), 'int32');
    const fromJson = createRegistry().loss(backend, JSON.parse('{"margin":{"type":"arcface","m":0.4},"scale":30,"reduction":"sum"}'));
    const fromCode = marginSoftmaxLoss(backend, { margin: arcface({ m: 0.4 }), scale: 30, reduction: 'sum' });
    expect(fromJson(x, w, y).data[0]).toBe(fromCode(x, w, y).data[0]);
    // And that loss is the config's: Σ_i of ArcFace (m 0.4, 'linear' fallback) cross-entropy at s = 30, written out here.
    const unit = (v: number[]) => v.map((a) => a / Math.hypot(...v));
    const rows = (t: RefTensor) => Array.from({ length: t.shape[0]! }, (_, i) => unit(Array.from(t.data.subarray(i * 3, i * 3 + 3))));
    const centres = rows(w);
    const expected = rows(x).reduce((sum, xi, i) => {
      const label = y.data[i]!;
      const cos = centres.map((wj) => wj.reduce((a, v, k) => a + v * xi[k]!, 0));
      const c = cos[label]!;
      const target = Math.acos(c) + 0.4 <= Math.PI ? Math.cos(Math.acos(c) + 0.4) : c - 0.4 * Math.sin(0.4);
      const logits = cos.map((v, j) => 30 * (j === label ? target : v));
      const max = Math.max(...logits);
      return sum + max + Math.log(logits.reduce((a, v) => a + Math.exp(v - max), 0)) - logits[label]!;
    }, 0);
    expect(fromJson(x, w, y).data[0]).toBeCloseTo(expected, 9);
  });

  it('registers user margins explicitly, per registry (no global state)', () => {
    const a = createRegistry();
    const b = createRegistry();
    a.registerMargin('shift', (p) =>
      defineMargin({ type: 'shift', params: { m: Number(p['m']) }, targetLogit: (c, { ops }, { m }) => ops.sub(c, ops.scalar(m)) }),
    );
    expect(a.has('shift')).toBe(true);
    expect(b.has('shift')).toBe(false);
    expect(a.margin({ type: 'shift', m: 0.2 }).config).toEqual({ type: 'shift', m: 0.2 });
    expect(createRegistry({ builtins: false }).types()).toEqual([]);
    expect(createRegistry().types()).toEqual(['arcface', 'combined', 'compose', 'cosface', 'none', 'sphereface']);
  });

  it('names the known types when a type is unknown', () => {
    expect(() => createRegistry().margin({ type: 'arcfce' })).toThrow(/unknown margin type "arcfce"; known: arcface, combined/);
  });

  it('rejects a nested prototype key inside compose', () => {
    const config = JSON.parse('{"type":"compose","margins":[{"type":"arcface","__proto__":{"m":9}}]}');
    expect(() => createRegistry().margin(config)).toThrowError(RegistryError);
  });
});
