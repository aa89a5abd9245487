import { type Backend, DEFAULT_EPSILON, type DType, DTypeError, FLOAT32_LIMITS, InvalidArgumentError, checkNumber, readNumber } from '@marginkit/core';

// Option readers shared by the heads and Partial FC (internal: not exported from index.ts).

/** ∞, for the upper bound of {@link inRange}. @internal */
export const INF = Number.POSITIVE_INFINITY;

/** Reads an integer ≥ 1, or returns `fallback` when it is given and `value` is `undefined`. @internal */
export function positiveInteger(argument: string, value: unknown, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(argument, `must be a positive integer, got ${typeof value === 'number' ? value : value === null ? 'null' : typeof value}`);
  }
  return value;
}

/**
 * Reads a finite number in the interval from `lo` to `hi` (each end open or closed), or returns
 * `fallback` when `value` is `undefined`; required when `fallback` is `undefined`. Core's
 * `checkNumber` checks it.
 * @internal
 */
export function inRange(argument: string, value: unknown, fallback: number | undefined, lo: number, hi: number, loOpen: boolean, hiOpen: boolean): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined) throw new InvalidArgumentError(argument, 'is required');
  const text = `${loOpen ? '(' : '['}${lo}, ${hi === INF ? '∞' : hi}${hiOpen ? ')' : ']'}`;
  return checkNumber(argument, value, { min: lo, minOpen: loOpen, max: hi, maxOpen: hiOpen, text });
}

/** Reads the integer seed option (default 0; its range is checked by `seededGenerator`). @internal */
export function readSeed(argument: string, value: unknown): number {
  const seed = value ?? 0;
  if (typeof seed !== 'number') throw new InvalidArgumentError(argument, `must be an integer, got ${typeof seed}`);
  return seed;
}

/** Reads the `ignoreIndex` option: −1 (the default) or `null`. @internal */
export function readIgnoreIndex(argument: string, value: unknown): -1 | null {
  const ignoreIndex = value === undefined ? -1 : value;
  if (ignoreIndex !== -1 && ignoreIndex !== null) throw new InvalidArgumentError(argument, `must be -1 or null, got ${String(ignoreIndex)}`);
  return ignoreIndex;
}

/**
 * Reads `scale` (default 64, in (0, 1e6]), `epsilon` (default 2⁻²³, in (0, 0.1]) and `normEpsilon`
 * (default 1e-12, in [2⁻⁶³, 1e-3]) of `options`, in that order; the float32 bounds are core's
 * `FLOAT32_LIMITS`, whose reasons the errors give.
 * @internal
 */
export function readScaleAndEpsilons(options: Readonly<Record<string, unknown>>): { scale: number; epsilon: number; normEpsilon: number } {
  const positive = (max: number) => ({ min: Number.MIN_VALUE, max, text: max === Number.MAX_VALUE ? '(0, ∞)' : `(0, ${max}]` });
  const { scale: s, normEpsilon: n } = FLOAT32_LIMITS;
  // Positive first (the usual message), then the float32 bound with its reason.
  const scale = readNumber('options.scale', options['scale'], 64, positive(Number.MAX_VALUE));
  readNumber('options.scale', scale, 64, { min: 0, max: s.max, text: `(0, ${s.max}]`, why: s.why });
  const epsilon = readNumber('options.epsilon', options['epsilon'], DEFAULT_EPSILON, positive(0.1));
  const normEpsilon = readNumber('options.normEpsilon', options['normEpsilon'], 1e-12, positive(1e-3));
  readNumber('options.normEpsilon', normEpsilon, 1e-12, { min: n.min, max: 1e-3, text: '[2⁻⁶³ ≈ 1.08e-19, 1e-3]', why: n.why });
  return { scale, epsilon, normEpsilon };
}

/**
 * Checks that `x` is a live tensor of `backend` and returns its dtype; a disposed tensor, or a
 * dtype marginkit does not take (tfjs string, complex64), is a typed error naming `argument`. @internal
 */
export function liveTensorDtype<T>(backend: Backend<T>, argument: string, x: unknown, what: string): DType {
  if (!backend.isTensor(x)) throw new InvalidArgumentError(argument, `expected a ${backend.name} tensor ${what}`);
  if (backend.isDisposed?.(x) === true)
    throw new InvalidArgumentError(argument, `is a disposed ${backend.name} tensor (released by dispose() or tidy() before this call)`);
  try {
    return backend.dtype(x);
  } catch (e) {
    if (DTypeError.isInstance(e)) throw new DTypeError(argument, `expected float32: ${e.message}`);
    throw e;
  }
}
