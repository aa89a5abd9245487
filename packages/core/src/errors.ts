/**
 * The typed errors every marginkit package throws.
 *
 * Every error is a {@link MarginkitError} with a stable `code`, in one of two families:
 *
 * - {@link InvalidArgumentError} and its subclasses: the caller passed something wrong. `argument`
 *   names it as the user wrote it (for example `'labels'` or `'arcface.m'`); fix the call.
 * - {@link MarginkitRuntimeError} and its subclasses: the call was accepted but running it failed
 *   — a backend failed ({@link BackendError}), cannot run an op ({@link UnsupportedOpError}), or an
 *   internal invariant broke ({@link InternalError}).
 *
 * Test for a class with its `isInstance` rather than `instanceof`: an application can hold two
 * copies of a package (two versions in `node_modules`, or a bundled and an external copy), and
 * `instanceof` is false for an error made by the other copy. Every error carries a
 * `Symbol.for('marginkit.error')` marker and one per class in its chain
 * (`Symbol.for('marginkit.error.ShapeError')`, ...), which `isInstance` checks; `instanceof` keeps
 * working within one copy.
 *
 * @packageDocumentation
 */

/** Codes of the errors about an argument ({@link InvalidArgumentError} and its subclasses). */
export type MarginkitArgumentErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'LABEL_OUT_OF_RANGE'
  | 'NON_FINITE'
  | 'MARGIN_DOMAIN'
  | 'REGISTRY'
  | 'INVALID_BACKEND';

/** Codes of the failures at run time ({@link MarginkitRuntimeError} and its subclasses). */
export type MarginkitRuntimeErrorCode = 'BACKEND' | 'UNSUPPORTED_OP' | 'INTERNAL';

/** Stable machine-readable error codes. */
export type MarginkitErrorCode = MarginkitArgumentErrorCode | MarginkitRuntimeErrorCode;

const MARGINKIT_ERROR = 'marginkit.error';

/** Marks `error` (non-enumerable, so printed errors stay clean) as carrying `Symbol.for(marker)`. */
function mark(error: Error, marker: string): void {
  Object.defineProperty(error, Symbol.for(marker), { value: true });
}

/** Whether `error` carries `Symbol.for(marker)` set to `true` (own or inherited). */
function hasMarker(error: unknown, marker: string): boolean {
  return typeof error === 'object' && error !== null && Reflect.get(error, Symbol.for(marker)) === true;
}

/**
 * Base class of every error marginkit throws. `MarginkitError.isInstance(e)` is true for all of
 * them, whichever copy of `@marginkit/core` made them.
 *
 * @example
 * ```ts
 * import { MarginkitError, arcface } from '@marginkit/core';
 * try {
 *   arcface({ m: -1 });
 * } catch (e) {
 *   if (MarginkitError.isInstance(e)) console.log(e.code); // 'MARGIN_DOMAIN'
 * }
 * console.log(MarginkitError.isInstance(new Error('not ours'))); // false
 * ```
 */
export class MarginkitError extends Error {
  /**
   * Whether `error` is a marginkit error, including one made by another copy of the package
   * (where `instanceof` is false). Checks the `Symbol.for('marginkit.error')` marker.
   *
   * @param error - any thrown value.
   * @returns true for every marginkit error.
   */
  static isInstance(error: unknown): error is MarginkitError {
    return hasMarker(error, MARGINKIT_ERROR);
  }

  /** A stable code for programmatic handling. */
  readonly code: MarginkitErrorCode;
  /**
   * @param code - the stable code.
   * @param message - what was wrong and how to fix it.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: MarginkitErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    mark(this, MARGINKIT_ERROR);
  }
}

const INVALID_ARGUMENT_ERROR = 'marginkit.error.InvalidArgumentError';

/**
 * An argument had a wrong type or value: fix the call. `argument` names it. Base of every error
 * about an argument.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, arcface } from '@marginkit/core';
 * try {
 *   arcface({ m: Number('half a radian') });
 * } catch (e) {
 *   if (InvalidArgumentError.isInstance(e)) console.log(e.argument); // 'arcface.m'
 * }
 * ```
 */
export class InvalidArgumentError extends MarginkitError {
  /**
   * Whether `error` is an error about an argument (this class or a subclass), from any copy of
   * the package. Checks the `Symbol.for('marginkit.error.InvalidArgumentError')` marker.
   *
   * @param error - any thrown value.
   * @returns true for an `InvalidArgumentError` and its subclasses.
   */
  static override isInstance(error: unknown): error is InvalidArgumentError {
    return hasMarker(error, INVALID_ARGUMENT_ERROR);
  }

  /** A stable code for programmatic handling (one of the argument codes). */
  declare readonly code: MarginkitArgumentErrorCode;
  /** The name of the offending argument, e.g. `'scale'` or `'labels'`. */
  readonly argument: string;
  /**
   * @param argument - the argument's name.
   * @param message - what was wrong.
   * @param code - a more specific code, `'INVALID_ARGUMENT'` by default.
   */
  constructor(argument: string, message: string, code: MarginkitArgumentErrorCode = 'INVALID_ARGUMENT') {
    super(code, `${argument}: ${message}`);
    this.argument = argument;
    mark(this, INVALID_ARGUMENT_ERROR);
  }
}

const SHAPE_ERROR = 'marginkit.error.ShapeError';

/**
 * A tensor had the wrong rank or a dimension that does not agree with another argument.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, ShapeError } from '@marginkit/core';
 * const e = new ShapeError('embeddings', 'expected rank 2 [B, D], got shape [3]');
 * console.log(e.message); // 'embeddings: expected rank 2 [B, D], got shape [3]'
 * console.log(ShapeError.isInstance(e), InvalidArgumentError.isInstance(e)); // true true
 * ```
 */
export class ShapeError extends InvalidArgumentError {
  /**
   * Whether `error` is a `ShapeError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.ShapeError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `ShapeError`.
   */
  static override isInstance(error: unknown): error is ShapeError {
    return hasMarker(error, SHAPE_ERROR);
  }

  /** @param argument - the tensor argument. @param message - expected versus actual shape. */
  constructor(argument: string, message: string) {
    super(argument, message, 'SHAPE_MISMATCH');
    mark(this, SHAPE_ERROR);
  }
}

const DTYPE_ERROR = 'marginkit.error.DTypeError';

/**
 * A tensor had the wrong dtype (for example float labels).
 *
 * @example
 * ```ts
 * import { DTypeError } from '@marginkit/core';
 * const e = new DTypeError('labels', 'expected int32, got float32');
 * console.log(DTypeError.isInstance(e), e.code); // true 'DTYPE_MISMATCH'
 * ```
 */
export class DTypeError extends InvalidArgumentError {
  /**
   * Whether `error` is a `DTypeError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.DTypeError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `DTypeError`.
   */
  static override isInstance(error: unknown): error is DTypeError {
    return hasMarker(error, DTYPE_ERROR);
  }

  /** @param argument - the tensor argument. @param message - expected versus actual dtype. */
  constructor(argument: string, message: string) {
    super(argument, message, 'DTYPE_MISMATCH');
    mark(this, DTYPE_ERROR);
  }
}

const LABEL_ERROR = 'marginkit.error.LabelError';

/**
 * A label was negative, not an integer, or not below the number of classes.
 *
 * @example
 * ```ts
 * import { LabelError } from '@marginkit/core';
 * const e = new LabelError('labels', 'labels[2] = 7 is not in [0, 5)');
 * console.log(LabelError.isInstance(e), e.argument, e.code); // true 'labels' 'LABEL_OUT_OF_RANGE'
 * ```
 */
export class LabelError extends InvalidArgumentError {
  /**
   * Whether `error` is a `LabelError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.LabelError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `LabelError`.
   */
  static override isInstance(error: unknown): error is LabelError {
    return hasMarker(error, LABEL_ERROR);
  }

  /** @param argument - the labels argument. @param message - which label and why. */
  constructor(argument: string, message: string) {
    super(argument, message, 'LABEL_OUT_OF_RANGE');
    mark(this, LABEL_ERROR);
  }
}

const NON_FINITE_ERROR = 'marginkit.error.NonFiniteError';

/**
 * A value that must be finite was NaN or ±Infinity.
 *
 * @example
 * ```ts
 * import { NonFiniteError } from '@marginkit/core';
 * const e = new NonFiniteError('scale', 'must be finite, got NaN');
 * console.log(NonFiniteError.isInstance(e), e.code); // true 'NON_FINITE'
 * ```
 */
export class NonFiniteError extends InvalidArgumentError {
  /**
   * Whether `error` is a `NonFiniteError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.NonFiniteError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `NonFiniteError`.
   */
  static override isInstance(error: unknown): error is NonFiniteError {
    return hasMarker(error, NON_FINITE_ERROR);
  }

  /** @param argument - the offending argument. @param message - where the non-finite value was. */
  constructor(argument: string, message: string) {
    super(argument, message, 'NON_FINITE');
    mark(this, NON_FINITE_ERROR);
  }
}

const MARGIN_DOMAIN_ERROR = 'marginkit.error.MarginDomainError';

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
 *   console.log(MarginDomainError.isInstance(e)); // true
 * }
 * ```
 */
export class MarginDomainError extends InvalidArgumentError {
  /**
   * Whether `error` is a `MarginDomainError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.MarginDomainError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `MarginDomainError`.
   */
  static override isInstance(error: unknown): error is MarginDomainError {
    return hasMarker(error, MARGIN_DOMAIN_ERROR);
  }

  /** @param argument - the parameter, e.g. `'sphereface.m'`. @param message - its domain. */
  constructor(argument: string, message: string) {
    super(argument, message, 'MARGIN_DOMAIN');
    mark(this, MARGIN_DOMAIN_ERROR);
  }
}

const REGISTRY_ERROR = 'marginkit.error.RegistryError';

/**
 * A registry lookup or registration failed: unknown or duplicate name, a forbidden key such as
 * `__proto__`, or a malformed config. For an unknown name, the message lists the known ones.
 *
 * @example
 * ```ts
 * import { RegistryError, createRegistry } from '@marginkit/core';
 * try {
 *   createRegistry().margin({ type: 'arcfce' });
 * } catch (e) {
 *   if (RegistryError.isInstance(e)) console.log(e.message); // config.type: unknown margin type "arcfce"; known: arcface, combined, compose, cosface, none, sphereface
 * }
 * ```
 */
export class RegistryError extends InvalidArgumentError {
  /**
   * Whether `error` is a `RegistryError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.RegistryError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `RegistryError`.
   */
  static override isInstance(error: unknown): error is RegistryError {
    return hasMarker(error, REGISTRY_ERROR);
  }

  /** @param argument - the config path, e.g. `'config.type'`. @param message - what was wrong. */
  constructor(argument: string, message: string) {
    super(argument, message, 'REGISTRY');
    mark(this, REGISTRY_ERROR);
  }
}

const INVALID_BACKEND_ERROR = 'marginkit.error.InvalidBackendError';

/**
 * The object passed as a backend (or as the ONNX Runtime module) is not one: the message lists
 * what is missing and, when it recognises what was passed instead, what to pass. An error about
 * an argument; a backend that fails while running is a {@link BackendError}.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, InvalidBackendError, assertBackend } from '@marginkit/core';
 * try {
 *   assertBackend({ name: 'mine' });
 * } catch (e) {
 *   if (InvalidBackendError.isInstance(e)) console.log(e.argument, e.code); // 'backend' 'INVALID_BACKEND'
 *   console.log(InvalidArgumentError.isInstance(e)); // true
 * }
 * ```
 */
export class InvalidBackendError extends InvalidArgumentError {
  /**
   * Whether `error` is an `InvalidBackendError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.InvalidBackendError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for an `InvalidBackendError`.
   */
  static override isInstance(error: unknown): error is InvalidBackendError {
    return hasMarker(error, INVALID_BACKEND_ERROR);
  }

  /** @param argument - usually `'backend'`. @param message - what is missing, what was tried. */
  constructor(argument: string, message: string) {
    super(argument, message, 'INVALID_BACKEND');
    mark(this, INVALID_BACKEND_ERROR);
  }
}

const RUNTIME_ERROR = 'marginkit.error.MarginkitRuntimeError';

/**
 * A failure while running a call whose arguments were accepted: base of {@link BackendError},
 * {@link UnsupportedOpError} and {@link InternalError}. Unlike an {@link InvalidArgumentError}, it
 * has no `argument`: the fix is not (necessarily) in the call. `cause` holds the underlying error
 * when there is one.
 *
 * @example
 * ```ts
 * import { BackendError, InvalidArgumentError, MarginkitRuntimeError } from '@marginkit/core';
 * const e = new BackendError('run', 'ONNX Runtime failed to run the graph', { cause: new Error('out of memory') });
 * console.log(MarginkitRuntimeError.isInstance(e), InvalidArgumentError.isInstance(e)); // true false
 * ```
 */
export class MarginkitRuntimeError extends MarginkitError {
  /**
   * Whether `error` is a failure at run time (this class or a subclass), from any copy of the
   * package. Checks the `Symbol.for('marginkit.error.MarginkitRuntimeError')` marker.
   *
   * @param error - any thrown value.
   * @returns true for a `MarginkitRuntimeError` and its subclasses.
   */
  static override isInstance(error: unknown): error is MarginkitRuntimeError {
    return hasMarker(error, RUNTIME_ERROR);
  }

  /** A stable code for programmatic handling (one of the run-time codes). */
  declare readonly code: MarginkitRuntimeErrorCode;
  /**
   * @param code - the code.
   * @param message - what failed.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: MarginkitRuntimeErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(code, message, options);
    mark(this, RUNTIME_ERROR);
  }
}

const BACKEND_ERROR = 'marginkit.error.BackendError';

/**
 * A backend failed while running: ONNX Runtime could not load or run a traced model, a backend or
 * compiled graph was used after `dispose()`, or a backend returned results that break the backend
 * contract. `source` says what failed (`'run'`, `'model'`, `'compiled'`, `'backend'`, ...) and
 * starts the message; `cause` holds the backend's own error when there is one. An object that is
 * not a backend at all is an {@link InvalidBackendError} instead.
 *
 * @example
 * ```ts
 * import { BackendError, MarginkitRuntimeError } from '@marginkit/core';
 * const e = new BackendError('run', 'ONNX Runtime failed to run the graph', { cause: new Error('bad alloc') });
 * console.log(e.message, e.code); // 'run: ONNX Runtime failed to run the graph' 'BACKEND'
 * console.log(BackendError.isInstance(e), MarginkitRuntimeError.isInstance(e)); // true true
 * ```
 */
export class BackendError extends MarginkitRuntimeError {
  /**
   * Whether `error` is a `BackendError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.BackendError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `BackendError`.
   */
  static override isInstance(error: unknown): error is BackendError {
    return hasMarker(error, BACKEND_ERROR);
  }

  /** What failed, e.g. `'run'` (running a compiled graph) or `'model'` (loading it). */
  readonly source: string;
  /**
   * @param source - what failed.
   * @param message - how it failed.
   * @param options - `cause`: the backend's own error, if any.
   */
  constructor(source: string, message: string, options?: { readonly cause?: unknown }) {
    super('BACKEND', `${source}: ${message}`, options);
    this.source = source;
    mark(this, BACKEND_ERROR);
  }
}

const UNSUPPORTED_OP_ERROR = 'marginkit.error.UnsupportedOpError';

/**
 * A backend cannot run an op on what it was given (for example the ONNX backend differentiating a
 * reshape with two unknown dimensions). `op` names the op and starts the message.
 *
 * @example
 * ```ts
 * import { MarginkitRuntimeError, UnsupportedOpError } from '@marginkit/core';
 * const e = new UnsupportedOpError('floor', 'not available on this backend');
 * console.log(e.op, e.code); // 'floor' 'UNSUPPORTED_OP'
 * console.log(UnsupportedOpError.isInstance(e), MarginkitRuntimeError.isInstance(e)); // true true
 * ```
 */
export class UnsupportedOpError extends MarginkitRuntimeError {
  /**
   * Whether `error` is an `UnsupportedOpError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.UnsupportedOpError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for an `UnsupportedOpError`.
   */
  static override isInstance(error: unknown): error is UnsupportedOpError {
    return hasMarker(error, UNSUPPORTED_OP_ERROR);
  }

  /** The op's name, e.g. `'reshape'`. */
  readonly op: string;
  /** @param op - the op's name. @param message - why it is unsupported. */
  constructor(op: string, message: string) {
    super('UNSUPPORTED_OP', `${op}: ${message}`);
    this.op = op;
    mark(this, UNSUPPORTED_OP_ERROR);
  }
}

const INTERNAL_ERROR = 'marginkit.error.InternalError';

/**
 * An internal invariant of marginkit did not hold: a bug in marginkit, not in the call. The
 * message says so and asks for a report.
 *
 * @example
 * ```ts
 * import { InternalError } from '@marginkit/core';
 * const e = new InternalError('invalid ONNX model object: node 3 has no op type');
 * console.log(InternalError.isInstance(e), e.code); // true 'INTERNAL'
 * console.log(e.message.startsWith('internal error: invalid ONNX model object')); // true
 * ```
 */
export class InternalError extends MarginkitRuntimeError {
  /**
   * Whether `error` is an `InternalError`, from any copy of the package (the
   * `Symbol.for('marginkit.error.InternalError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for an `InternalError`.
   */
  static override isInstance(error: unknown): error is InternalError {
    return hasMarker(error, INTERNAL_ERROR);
  }

  /**
   * @param message - which invariant failed.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('INTERNAL', `internal error: ${message} (a bug in marginkit: please report it with this message)`, options);
    mark(this, INTERNAL_ERROR);
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
