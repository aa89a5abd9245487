/**
 * Readers of plain options objects and their values, for the built-in margins, the losses and
 * margin factories of your own: each rejects a wrong value with a typed error naming it.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError, MarginDomainError, shorten } from './errors.js';
import { checkNumber } from './input-checks.js';

/** Keys no options object or config may carry (prototype pollution and lookups). @internal */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']);

/**
 * Reads a plain options object, rejecting unknown and prototype keys with an
 * {@link InvalidArgumentError} that names the key and lists the allowed ones (each once): for
 * margin factories of your own.
 *
 * @param owner - the name used in errors, e.g. `'myMargin'`.
 * @param options - the object to read (`undefined` reads as `{}`).
 * @param allowed - the option names accepted.
 * @returns a prototype-free copy of the options.
 *
 * @example
 * ```ts
 * import { readOptions } from '@marginkit/core';
 * try {
 *   readOptions('myMargin', { mm: 1 }, ['m']);
 * } catch (e) {
 *   console.log((e as Error).message); // myMargin.mm: unknown option; expected one of: m
 * }
 * ```
 */
export function readOptions(owner: string, options: unknown, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(owner, `options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const out: Record<string, unknown> = Object.create(null);
  const keys = [...new Set(allowed)];
  for (const key of Object.keys(options)) {
    if (FORBIDDEN_KEYS.has(key)) throw new InvalidArgumentError(`${owner}.${key}`, 'is a forbidden key');
    if (!keys.includes(key)) {
      throw new InvalidArgumentError(`${owner}.${shorten(key)}`, `unknown option; expected one of: ${keys.join(', ') || '(none)'}`);
    }
    out[key] = (options as Record<string, unknown>)[key];
  }
  return out;
}

/** The domain of a number {@link readNumber} reads. */
export interface NumberDomain {
  /** The smallest accepted value. */
  readonly min: number;
  /** The largest accepted value (excluded with `maxOpen`). */
  readonly max: number;
  /** Exclude `max` itself. */
  readonly maxOpen?: boolean;
  /** The domain as messages write it, e.g. `'[0, π)'`. */
  readonly text: string;
  /** Why the bounds are what they are (e.g. a float32 limit), appended to the message. */
  readonly why?: string;
  /**
   * The value is an angle in radians: a value past the domain that is at least π (an additive
   * angular margin of π or more reverses the target's order) gets an error that points to
   * `degrees()`, since it was likely given in degrees (pytorch-metric-learning's unit).
   */
  readonly radians?: boolean;
}

/**
 * Reads a finite number within [min, max] (or [min, max) with `maxOpen`), or returns the default
 * when it is `undefined`; throws a typed error naming `argument` otherwise: a
 * {@link MarginDomainError} for a value outside the domain (pointing to {@link degrees} for an
 * angle that looks like degrees), a `NonFiniteError` for NaN or ±Infinity.
 *
 * @param argument - the name used in errors, e.g. `'myMargin.m'`.
 * @param value - the value to read.
 * @param fallback - the default.
 * @param domain - the bounds and their text for messages, e.g. `{ min: 0, max: 1, text: '[0, 1]' }`,
 *   optionally `why` the bounds are what they are (appended to the message), and `radians` for angles.
 * @returns the number.
 *
 * @example
 * ```ts
 * import { readNumber } from '@marginkit/core';
 * console.log(readNumber('myMargin.m', undefined, 0.3, { min: 0, max: 1, text: '[0, 1]' })); // 0.3
 * try {
 *   readNumber('myMargin.m', 30, 0.3, { min: 0, max: Math.PI / 2, maxOpen: true, text: '[0, π/2)', radians: true });
 * } catch (e) {
 *   console.log((e as Error).message); // myMargin.m: must be in [0, π/2) radians, got 30: margin angles are in radians; if 30 is in degrees, use degrees(30) = 0.5236 rad
 * }
 * ```
 */
export function readNumber(argument: string, value: unknown, fallback: number, domain: NumberDomain): number {
  if (value === undefined) return fallback;
  if (domain.radians === true && typeof value === 'number' && value >= Math.PI && value >= domain.max && Number.isFinite(value)) {
    const rad = (value * Math.PI) / 180;
    throw new MarginDomainError(
      argument,
      `must be in ${domain.text} radians, got ${value}: margin angles are in radians; if ${value} is in degrees, use degrees(${value}) = ${rad.toPrecision(4)} rad`,
    );
  }
  return checkNumber(argument, value, { ...domain, error: MarginDomainError });
}

/**
 * Reads one of a fixed set of strings, or returns the default when it is `undefined`.
 *
 * @param argument - the name used in errors.
 * @param value - the value to read.
 * @param fallback - the default.
 * @param choices - the accepted strings.
 * @returns the choice.
 *
 * @example
 * ```ts
 * import { readChoice } from '@marginkit/core';
 * console.log(readChoice('myMargin.fallback', 'easy', 'none', ['none', 'easy'])); // 'easy'
 * ```
 */
export function readChoice<C extends string>(argument: string, value: unknown, fallback: C, choices: readonly C[]): C {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, `must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${shorten(JSON.stringify(value))}`);
  }
  return value as C;
}
