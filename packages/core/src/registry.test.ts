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
