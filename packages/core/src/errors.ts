/**
 * The typed errors every marginkit package throws.
 *
 * Every error is a {@link MarginkitError} with a stable `code`; errors about an argument also
 * carry `argument`, the name of the argument that was wrong (as the user wrote it, for example
 * `'labels'` or `'arcface.m'`), so that a caller can react without parsing messages.
 *
 * @packageDocumentation
 */

/** Stable machine-readable error codes. */
export type MarginkitErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'LABEL_OUT_OF_RANGE'
  | 'NON_FINITE'
  | 'MARGIN_DOMAIN'
  | 'REGISTRY'
  | 'BACKEND'
  | 'UNSUPPORTED_OP';

/**
 * Base class of every error marginkit throws.
 *
 * @example
 * ```ts
 * import { MarginkitError, arcface } from '@marginkit/core';
 * try {
 *   arcface({ m: -1 });
 * } catch (e) {
 *   if (e instanceof MarginkitError) console.log(e.code); // 'MARGIN_DOMAIN'
 * }
 * ```
 */
export class MarginkitError extends Error {
  /** A stable code for programmatic handling. */
  readonly code: MarginkitErrorCode;
  /** @param code - the stable code. @param message - what was wrong and how to fix it. */
  constructor(code: MarginkitErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An argument had a wrong type or value. `argument` names it.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, arcface } from '@marginkit/core';
 * try {
 *   arcface({ m: Number('half a radian') });
 * } catch (e) {
 *   if (e instanceof InvalidArgumentError) console.log(e.argument); // 'arcface.m'
 * }
 * ```
 */
export class InvalidArgumentError extends MarginkitError {
  /** The name of the offending argument, e.g. `'scale'` or `'labels'`. */
  readonly argument: string;
  /**
   * @param argument - the argument's name.
   * @param message - what was wrong.
   * @param code - a more specific code, `'INVALID_ARGUMENT'` by default.
   */
  constructor(argument: string, message: string, code: MarginkitErrorCode = 'INVALID_ARGUMENT') {
    super(code, `${argument}: ${message}`);
    this.argument = argument;
  }
}

/**
 * A tensor had the wrong rank or a dimension that does not agree with another argument.
 *
 * @example
 * ```ts
 * import { ShapeError } from '@marginkit/core';
 * const e = new ShapeError('embeddings', 'expected rank 2 [B, D], got shape [3]');
 * console.log(e.message); // 'embeddings: expected rank 2 [B, D], got shape [3]'
 * ```
 */
export class ShapeError extends InvalidArgumentError {
  /** @param argument - the tensor argument. @param message - expected versus actual shape. */
  constructor(argument: string, message: string) {
    super(argument, message, 'SHAPE_MISMATCH');
  }
}

/**
 * A tensor had the wrong dtype (for example float labels).
 *
 * @example
 * ```ts
 * import { DTypeError } from '@marginkit/core';
 * console.log(new DTypeError('labels', 'expected int32, got float32').code); // 'DTYPE_MISMATCH'
 * ```
 */
export class DTypeError extends InvalidArgumentError {
  /** @param argument - the tensor argument. @param message - expected versus actual dtype. */
  constructor(argument: string, message: string) {
    super(argument, message, 'DTYPE_MISMATCH');
  }
}

/**
 * A label was negative, not an integer, or not below the number of classes.
 *
 * @example
 * ```ts
 * import { LabelError } from '@marginkit/core';
 * const e = new LabelError('labels', 'labels[2] = 7 is not in [0, 5)');
 * console.log(e.argument, e.code); // 'labels' 'LABEL_OUT_OF_RANGE'
 * ```
 */
export class LabelError extends InvalidArgumentError {
  /** @param argument - the labels argument. @param message - which label and why. */
  constructor(argument: string, message: string) {
    super(argument, message, 'LABEL_OUT_OF_RANGE');
  }
}

/**
 * A value that must be finite was NaN or ±Infinity.
 *
 * @example
 * ```ts
 * import { NonFiniteError } from '@marginkit/core';
 * console.log(new NonFiniteError('scale', 'must be finite, got NaN').code); // 'NON_FINITE'
 * ```
 */
export class NonFiniteError extends InvalidArgumentError {
  /** @param argument - the offending argument. @param message - where the non-finite value was. */
  constructor(argument: string, message: string) {
    super(argument, message, 'NON_FINITE');
  }
}

/**
 * A margin parameter was outside the domain where the margin is defined
 * (e.g. ArcFace `m` outside [0, π), SphereFace `m` below 1, `'linear'` fallback with m1 ≠ 1).
 *
 * @example
 * ```ts
 * import { MarginDomainError, sphereface } from '@marginkit/core';
 * try {
 *   sphereface({ m: 0.5 });
 * } catch (e) {
 *   console.log(e instanceof MarginDomainError); // true
 * }
 * ```
 */
export class MarginDomainError extends InvalidArgumentError {
  /** @param argument - the parameter, e.g. `'sphereface.m'`. @param message - its domain. */
  constructor(argument: string, message: string) {
    super(argument, message, 'MARGIN_DOMAIN');
  }
}

/**
 * A registry lookup or registration failed: unknown or duplicate name, a forbidden key such as
 * `__proto__`, or a malformed config.
 *
 * @example
 * ```ts
 * import { RegistryError, createRegistry } from '@marginkit/core';
 * try {
 *   createRegistry().margin({ type: 'arcfce' });
 * } catch (e) {
 *   if (e instanceof RegistryError) console.log(e.message); // config.type: unknown margin type "arcfce"; known: arcface, combined, compose, cosface, none, sphereface
 * }
 * ```
 */
export class RegistryError extends InvalidArgumentError {
  /** @param argument - the config path, e.g. `'config.type'`. @param message - what was wrong. */
  constructor(argument: string, message: string) {
    super(argument, message, 'REGISTRY');
  }
}

/**
 * A backend object did not satisfy the backend contract, or a backend failed. The message lists
 * what was tried.
 *
 * @example
 * ```ts
 * import { BackendError } from '@marginkit/core';
 * const e = new BackendError('backend', 'not a marginkit backend (tried: specificationVersion, ops)');
 * console.log(e.code); // 'BACKEND'
 * ```
 */
export class BackendError extends InvalidArgumentError {
  /** @param argument - usually `'backend'`. @param message - what was missing, what was tried. */
  constructor(argument: string, message: string) {
    super(argument, message, 'BACKEND');
  }
}

/**
 * A backend cannot run an op (for example a symbolic backend asked for a value-dependent op).
 *
 * @example
 * ```ts
 * import { UnsupportedOpError } from '@marginkit/core';
 * console.log(new UnsupportedOpError('floor', 'not available on this backend').code); // 'UNSUPPORTED_OP'
 * ```
 */
export class UnsupportedOpError extends InvalidArgumentError {
  /** @param op - the op's name. @param message - why it is unsupported. */
  constructor(op: string, message: string) {
    super(op, message, 'UNSUPPORTED_OP');
  }
}

/** Longer values are cut in error messages (a 5 MB type name must not make a 5 MB message). */
export const MAX_MESSAGE_VALUE = 100;

/**
 * Cuts a value quoted in an error message to its first 100 characters (`MAX_MESSAGE_VALUE`) plus
 * `…` (and the full length), so that messages stay short whatever the caller passed.
 *
 * @param text - the value as text.
 * @returns `text`, or its first 100 characters, `…` and the length.
 *
 * @example
 * ```ts
 * import { shorten } from '@marginkit/core';
 * console.log(shorten('x'.repeat(200)).length < 130); // true
 * ```
 */
export function shorten(text: string): string {
  return text.length <= MAX_MESSAGE_VALUE ? text : `${text.slice(0, MAX_MESSAGE_VALUE)}… (${text.length} characters)`;
}
