import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortFloat32, sortFloat64 } from './sort.js';

describe('radix sorts', () => {
  it('sort float64 like the native sort, including negatives, zeros, tiny and huge values', () => {
    const values = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(0, -0, 1e-310, -1e-310, Number.MAX_VALUE, -Number.MAX_VALUE));
    fc.assert(
      fc.property(fc.array(values, { minLength: 1 << 14, maxLength: (1 << 14) + 50 }), (xs) => {
        const a = sortFloat64(Float64Array.from(xs));
        const b = Float64Array.from(xs).sort();
        for (let i = 0; i < a.length; i++) expect(a[i] === b[i] || (a[i] === 0 && b[i] === 0)).toBe(true);
      }),
      { numRuns: 5 },
    );
  });
  it('skip passes whose digit never varies (float32-valued doubles: 3 passes, the odd-count path; small integers: 2)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1 << 14, maxLength: (1 << 14) + 50 }),
        fc.boolean(),
        (xs, integers) => {
          const values = integers ? xs.map((x) => Math.round(Math.abs(x) % 1000)) : xs;
          const a = sortFloat64(Float64Array.from(values));
          const b = Float64Array.from(values).sort();
          for (let i = 0; i < a.length; i++) expect(a[i] === b[i]).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });
  it('sort float32 like the native sort', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { minLength: 1 << 14, maxLength: (1 << 14) + 50 }), (xs) => {
        const a = sortFloat32(Float32Array.from(xs));
        const b = Float32Array.from(xs).sort();
        for (let i = 0; i < a.length; i++) expect(a[i] === b[i]).toBe(true);
      }),
      { numRuns: 5 },
    );
  });
});
