import { describe, expect, it } from 'vitest';
import { DTypeError, InvalidArgumentError, LabelError, MarginDomainError, NonFiniteError, ShapeError } from './errors.js';
import {
  checkDataLength,
  checkDType,
  checkEmbeddingsAndCenters,
  checkFinite,
  checkFloat32Positive,
  checkLabelValues,
  checkLabelsShape,
  checkMatrixShape,
  checkNumber,
  checkShape,
  checkTypedArray,
  formatIndex,
  formatShape,
} from './input-checks.js';
import { type BadInputCase, expectTypedError } from './testing/bad-input.js';

describe('input checks: bad input', () => {
  const cases: BadInputCase[] = [
    { what: 'a string number', run: () => checkNumber('s', '3'), error: InvalidArgumentError, argument: 's', message: /must be a number, got string 3/ },
    { what: 'NaN', run: () => checkNumber('s', Number.NaN), error: NonFiniteError, argument: 's', message: /finite, got NaN/ },
    { what: 'Infinity', run: () => checkNumber('s', Number.POSITIVE_INFINITY), error: NonFiniteError, argument: 's' },
    {
      what: 'zero in (0, ∞)',
      run: () => checkNumber('s', 0, { min: 0, minOpen: true }),
      error: InvalidArgumentError,
      argument: 's',
      message: /must be > 0, got 0$/,
    },
    {
      what: '1 in [0, 1)',
      run: () => checkNumber('b', 1, { min: 0, max: 1, maxOpen: true }),
      error: InvalidArgumentError,
      message: /must be in \[0, 1\), got 1$/,
    },
    {
      what: 'above a max only',
      run: () => checkNumber('s', 2e6, { max: 1e6, why: 'float32' }),
      error: InvalidArgumentError,
      message: /must be ≤ 1000000, got 2000000: float32$/,
    },
    {
      what: 'a non-integer',
      run: () => checkNumber('k', 1.5, { min: 1, integer: true }),
      error: InvalidArgumentError,
      message: /must be an integer ≥ 1, got 1.5$/,
    },
    { what: 'an integer only', run: () => checkNumber('k', 0.5, { integer: true }), error: InvalidArgumentError, message: /must be an integer, got 0.5$/ },
    {
      what: 'a custom class and text',
      run: () => checkNumber('arcface.m', 4, { min: 0, max: Math.PI, maxOpen: true, text: '[0, π)', error: MarginDomainError }),
      error: MarginDomainError,
      argument: 'arcface.m',
      message: /must be in \[0, π\), got 4$/,
    },
    { what: 'float32 overflow', run: () => checkFloat32Positive('lr', 1e39, 'η'), error: NonFiniteError, argument: 'lr', message: /overflows to Infinity/ },
    { what: 'float32 subnormal', run: () => checkFloat32Positive('lr', 1e-39, 'η'), error: InvalidArgumentError, argument: 'lr', message: /subnormal/ },
    { what: 'a shape of strings', run: () => checkShape('shape', ['a']), error: ShapeError, argument: 'shape', message: /non-negative integers, got \[a\]/ },
    { what: '−1 where unknowns are not allowed', run: () => checkShape('shape', [-1, 2]), error: ShapeError, argument: 'shape' },
    { what: '−2 where unknowns are allowed', run: () => checkShape('shape', [-2], true), error: ShapeError, message: /or −1/ },
    { what: 'a non-array shape', run: () => checkShape('shape', 3), error: ShapeError, message: /got number 3/ },
    { what: 'rank 1 matrix', run: () => checkMatrixShape('x', [3]), error: ShapeError, argument: 'x', message: /expected rank 2 \[B, D\], got shape \[3\]/ },
    { what: 'no rows', run: () => checkMatrixShape('x', [0, 4]), error: ShapeError, message: /is empty: shape \[0, 4\] has no rows/ },
    { what: 'zero-length rows', run: () => checkMatrixShape('x', [2, 0]), error: ShapeError, message: /zero-length rows/ },
    {
      what: 'wrong column count',
      run: () => checkMatrixShape('x', [2, 3], { cols: 4 }),
      error: ShapeError,
      message: /expected 4 columns \[B, D\], got shape \[2, 3\]/,
    },
    {
      what: 'dimension mismatch',
      run: () => checkEmbeddingsAndCenters([2, 3], [5, 4]),
      error: ShapeError,
      argument: 'centers',
      message: /dimension 4 but embeddings have 3/,
    },
    {
      what: 'rows not a multiple of K',
      run: () => checkEmbeddingsAndCenters([2, 3], [5, 3], 2),
      error: ShapeError,
      argument: 'centers',
      message: /not a multiple of subCenters K = 2/,
    },
    { what: 'rank-3 centres', run: () => checkEmbeddingsAndCenters([2, 3], [1, 5, 3]), error: ShapeError, argument: 'centers', message: /rank 2 \[C, D\]/ },
    { what: 'empty embeddings', run: () => checkEmbeddingsAndCenters([0, 3], [5, 3]), error: ShapeError, argument: 'embeddings' },
    {
      what: 'a dtype',
      run: () => checkDType('labels', 'float32', 'int32', 'int32 class indices'),
      error: DTypeError,
      argument: 'labels',
      message: /expected int32 class indices, got float32/,
    },
    { what: 'a Float64Array', run: () => checkTypedArray('x', new Float64Array(2), 'float32'), error: DTypeError, argument: 'x', message: /Float32Array.from/ },
    { what: 'a plain array for int32', run: () => checkTypedArray('y', [1, 2], 'int32'), error: DTypeError, message: /Int32Array, got an array of length 2/ },
    {
      what: 'too few values',
      run: () => checkDataLength('x', new Float32Array(5), [2, 3]),
      error: ShapeError,
      message: /has 5 values but shape \[2, 3\] needs 6/,
    },
    { what: 'a NaN', run: () => checkFinite('x', [0, 0, 0, 0, 0, Number.NaN], [2, 3]), error: NonFiniteError, argument: 'x', message: /NaN at \[1, 2\]/ },
    {
      what: '−Infinity in rank 3',
      run: () => checkFinite('x', [0, 0, 0, Number.NEGATIVE_INFINITY], [1, 2, 2]),
      error: NonFiniteError,
      message: /-Infinity at \[0, 1, 1\]/,
    },
    { what: 'labels of rank 2', run: () => checkLabelsShape('labels', [2, 1], 2), error: ShapeError, message: /expected rank 1 \[B\], got shape \[2, 1\]/ },
    { what: 'labels count', run: () => checkLabelsShape('labels', [3], 2), error: ShapeError, message: /has 3 entries but embeddings have 2 rows/ },
    {
      what: 'label = C',
      run: () => checkLabelValues('labels', [0, 3], 3),
      error: LabelError,
      argument: 'labels',
      message: /labels\[1\] = 3 is not in \[0, 3\)$/,
    },
    {
      what: 'label −1 without ignoreIndex',
      run: () => checkLabelValues('labels', [-1], 3, { classesFrom: 'centers' }),
      error: LabelError,
      message: /labels\[0\] = -1 is not in \[0, 3\) \(centers has 3 classes\)$/,
    },
    {
      what: 'label −2 with ignoreIndex',
      run: () => checkLabelValues('labels', [0, -2], 3, { ignoreIndex: -1 }),
      error: LabelError,
      message: /= -2 is not in \[0, 3\) nor the ignored −1/,
    },
    {
      what: 'a fractional label',
      run: () => checkLabelValues('labels', [0.5], 3),
      error: LabelError,
      message: /labels\[0\] = 0.5 is not an integer class index/,
    },
    {
      what: 'a negative label, C unknown',
      run: () => checkLabelValues('y', [-3], -1),
      error: LabelError,
      argument: 'y',
      message: /y\[0\] = -3 is not in the non-negative class indices/,
    },
    {
      what: 'a label named apart from the argument, with a reason',
      run: () => checkLabelValues('feeds.y', [0, 4], 3, { name: 'y', reason: 'y indexes a oneHot of depth 3' }),
      error: LabelError,
      argument: 'feeds.y',
      message: /^feeds\.y: y\[1\] = 4 is not in \[0, 3\): y indexes a oneHot of depth 3$/,
    },
  ];
  it.each(cases)('$what', ({ run, ...expected }) => expectTypedError(run, expected));
});

describe('input checks: good input', () => {
  it('accepts the bounds it documents and returns the value', () => {
    expect(checkNumber('s', 1e-3, { min: 0, minOpen: true, max: 1e-3 })).toBe(1e-3);
    expect(checkNumber('b', 0, { min: 0, max: 1, maxOpen: true })).toBe(0);
    expect(checkNumber('k', 3, { min: 1, integer: true })).toBe(3);
    expect(checkFloat32Positive('lr', 2 ** -126, 'η')).toBe(2 ** -126);
    expect(checkFloat32Positive('lr', 3.4028234663852886e38, 'η')).toBe(3.4028234663852886e38);
  });

  it('reads shapes, passing unknown dimensions', () => {
    expect(checkShape('s', new Int32Array([2, 3]))).toEqual([2, 3]);
    expect(checkMatrixShape('x', [-1, 4], { cols: 4 })).toEqual([-1, 4]);
    expect(checkMatrixShape('x', [2, -1], { cols: 4 })).toEqual([2, -1]);
    expect(checkEmbeddingsAndCenters([-1, 8], [12, 8], 3)).toEqual({ batch: -1, classes: 4, dim: 8 });
    expect(checkEmbeddingsAndCenters([5, -1], [-1, 8])).toEqual({ batch: 5, classes: -1, dim: 8 });
    expect(() => checkLabelsShape('labels', [-1], 4)).not.toThrow();
  });

  it('accepts valid labels, −1 only with ignoreIndex, any non-negative label when C is unknown', () => {
    expect(() => checkLabelValues('labels', Int32Array.from([0, 2, -1]), 3, { ignoreIndex: -1 })).not.toThrow();
    expect(() => checkLabelValues('labels', [1e9], -1)).not.toThrow();
  });

  it('formats shapes and row-major indices', () => {
    expect(formatShape([-1, 3])).toBe('[?, 3]');
    expect(formatShape([])).toBe('[]');
    // Every flat index maps back to itself through the row-major strides.
    const shape = [2, 3, 4];
    for (let i = 0; i < 24; i++) {
      const [a, b, c] = JSON.parse(formatIndex(i, shape)) as number[];
      expect(a! * 12 + b! * 4 + c!).toBe(i);
    }
    expect(formatIndex(0, [])).toBe('[]');
  });
});

describe('checkFinite: the screen over typed arrays finds every non-finite value', () => {
  const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  it('passes finite typed arrays of every length mod 4, extremes and −0 included', () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      for (let n = 0; n <= 9; n++) {
        const data = new Ctor(Array.from({ length: n }, (_, i) => [-0, 3.4e38, -3.4e38, 1e-45, 1.5][i % 5]!));
        expect(() => checkFinite('x', data, [n])).not.toThrow();
      }
    }
  });
  it('reports the first bad value at each position (each accumulator and the tail), in both float types', () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      for (let n = 1; n <= 9; n++) {
        for (let at = 0; at < n; at++) {
          for (const v of bad) {
            const data = new Ctor(Array.from({ length: n }, (_, i) => (i === at ? v : i + 0.5)));
            expect(() => checkFinite('x', data, [n])).toThrow(new RegExp(`non-finite value ${String(v)} at \\[${at}\\]$`));
          }
        }
      }
    }
  });
  it('names the first of several bad values, and NaN and ∞ that would cancel in a plain sum', () => {
    const data = new Float32Array([1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2, Number.NaN]);
    expect(() => checkFinite('x', data, [5])).toThrow(/Infinity at \[1\]$/);
  });
});
