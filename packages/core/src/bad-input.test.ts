import { describe, expect, it } from 'vitest';
import { degrees } from './angular-margin.js';
import { arcface, combinedMargin, cosface, sphereface } from './builtin-margins.js';
import { cosineLogits } from './cosines.js';
import { InvalidArgumentError, MarginDomainError, RegistryError } from './errors.js';
import { marginLogits, marginSoftmaxLoss, marginSoftmaxStep } from './loss.js';
import { readNumber, readOptions } from './margin-options.js';
import { createRegistry } from './registry.js';
import { type BadInputCase, expectTypedError } from './testing/bad-input.js';
import { referenceBackend } from './testing/reference-backend.js';

const backend = referenceBackend();

describe('an angular margin given in degrees points to degrees()', () => {
  const cases: BadInputCase[] = [
    {
      what: 'arcface({ m: 28.6 }), pytorch-metric-learning’s default in degrees',
      run: () => arcface({ m: 28.6 }),
      error: MarginDomainError,
      argument: 'arcface.m',
      message: /^arcface\.m: must be in \[0, π\) radians, got 28\.6: .*use degrees\(28\.6\) = 0\.4992 rad$/,
    },
    {
      what: 'combinedMargin m2 = 10 (> π)',
      run: () => combinedMargin({ m2: 10 }),
      error: MarginDomainError,
      argument: 'combinedMargin.m2',
      message: /got 10: .*degrees\(10\) = 0\.1745 rad/,
    },
    {
      what: 'arcface m = π exactly (θ + π reverses the order of the target)',
      run: () => arcface({ m: Math.PI }),
      error: MarginDomainError,
      argument: 'arcface.m',
      message: /\[0, π\) radians.*degrees\(/,
    },
    {
      what: 'a negative angle gets no degrees hint',
      run: () => arcface({ m: -0.1 }),
      error: MarginDomainError,
      message: /^arcface\.m: must be in \[0, π\), got -0\.1$/,
    },
    { what: 'a NaN angle is non-finite, not degrees', run: () => arcface({ m: Number.NaN }), error: InvalidArgumentError, message: /must be finite, got NaN$/ },
    {
      what: 'a registry config in degrees',
      run: () => createRegistry().margin({ type: 'arcface', m: 30 }),
      error: MarginDomainError,
      argument: 'arcface.m',
      message: /degrees\(30\) = 0\.5236 rad/,
    },
    {
      what: 'a domain of your own marked radians',
      run: () => readNumber('mine.m', 45, 0.5, { min: 0, max: Math.PI / 2, maxOpen: true, text: '[0, π/2)', radians: true }),
      error: MarginDomainError,
      argument: 'mine.m',
      message: /degrees\(45\) = 0\.7854 rad/,
    },
    // Unitless margins take no hint: CosFace's m is on the cosine, SphereFace's a multiplier.
    { what: 'cosface m = 35', run: () => cosface({ m: 35 }), error: MarginDomainError, message: /^cosface\.m: must be in \[0, 2\], got 35$/ },
    { what: 'sphereface m = 0.5', run: () => sphereface({ m: 0.5 }), error: MarginDomainError, message: /^sphereface\.m: must be in \[1, 10000\], got 0\.5/ },
  ];
  it.each(cases)('$what', ({ run, ...expected }) => expectTypedError(run, expected));

  it('the value the hint gives is accepted and equals degrees()', () => {
    expect(arcface({ m: degrees(28.6) }).config['m']).toBeCloseTo(0.4992, 4);
    expect(() => combinedMargin({ m2: degrees(10) })).not.toThrow();
  });
});

/** The keys an unknown-option error lists, in order. */
function listedKeys(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    const match = /expected one of: (.*)$/.exec((e as Error).message);
    if (match) return match[1]!.split(', ');
  }
  throw new Error('no unknown-option error listing the allowed keys');
}

// Untyped callers (JavaScript, parsed configs) pass misspelt options: Reflect.apply skips the types.
describe('unknown-option errors list each allowed key once', () => {
  const margin = arcface();
  const logitsKeys = ['normEpsilon', 'validate', 'margin', 'scale', 'epsilon', 'subCenters', 'ignoreIndex'];
  const rows: readonly (readonly [string, () => unknown, readonly string[]])[] = [
    ['marginSoftmaxLoss', () => Reflect.apply(marginSoftmaxLoss, undefined, [backend, { margin, scael: 30 }]), [...logitsKeys, 'reduction']],
    ['marginSoftmaxStep', () => Reflect.apply(marginSoftmaxStep, undefined, [backend, { margin, reductoin: 'sum' }]), [...logitsKeys, 'reduction']],
    ['marginLogits', () => Reflect.apply(marginLogits, undefined, [backend, { margin, reduction: 'sum' }]), logitsKeys],
    ['cosineLogits', () => Reflect.apply(cosineLogits, undefined, [backend, { scale: 2 }]), ['normEpsilon', 'validate', 'subCenters']],
    ['arcface', () => Reflect.apply(arcface, undefined, [{ margin: 0.5 }]), ['m', 'fallback', 'gradient']],
    ['a registry loss config', () => createRegistry().loss(backend, { margin: { type: 'cosface' }, scael: 30 }), [...logitsKeys, 'reduction']],
    ['readOptions given a key twice', () => readOptions('mine', { b: 1 }, ['m', 'm', 'n']), ['m', 'n']],
  ];
  it.each(rows)('%s', (_, run, expected) => {
    const keys = listedKeys(run);
    expect(new Set(keys).size, `listed twice in ${keys.join(', ')}`).toBe(keys.length);
    expect([...keys].sort()).toEqual([...expected].sort());
  });

  it('errors name the unknown key', () => {
    expectTypedError(() => Reflect.apply(marginSoftmaxLoss, undefined, [backend, { margin, scael: 30 }]), {
      error: InvalidArgumentError,
      argument: 'marginSoftmaxLoss.scael',
      message: /unknown option/,
    });
    expectTypedError(() => createRegistry().loss(backend, { margin: { type: 'cosface' }, scael: 30 }), { error: RegistryError, argument: 'config.scael' });
  });
});
