/**
 * The typed errors `@marginkit/eval` throws.
 *
 * Every error is a {@link MarginkitEvalError} with a stable `code`, of one of three kinds:
 *
 * - {@link EvalInputError} and its subclass {@link NotEnoughClassesError}: an argument was wrong;
 *   `argument` names it. Fix the call.
 * - {@link ParseError}: the content of a file (or of text given as one) is malformed; `file` and
 *   `line` say where.
 * - {@link EvalFileError}: a file or folder could not be read or written, a failure at run time;
 *   `argument` names the option that gave the path, `file` the path, `cause` the system's error.
 *
 * Test for a class with its `isInstance` rather than `instanceof`, which is false for an error made
 * by another copy of the package (two versions in `node_modules`, a bundled and an external copy).
 * Every error carries a `Symbol.for('marginkit.eval.error')` marker and one per class in its chain
 * (`Symbol.for('marginkit.eval.error.ParseError')`, ...), which `isInstance` checks; `instanceof`
 * keeps working within one copy.
 *
 * @packageDocumentation
 */

/** Stable codes of the eval package's errors. */
export type MarginkitEvalErrorCode = 'INVALID_INPUT' | 'NOT_ENOUGH_CLASSES' | 'PARSE' | 'FILE';

const EVAL_ERROR = 'marginkit.eval.error';

/** Marks `error` (non-enumerable, so printed errors stay clean) as carrying `Symbol.for(marker)`. */
function mark(error: Error, marker: string): void {
  Object.defineProperty(error, Symbol.for(marker), { value: true });
}

/** Whether `error` carries `Symbol.for(marker)` set to `true` (own or inherited). */
function hasMarker(error: unknown, marker: string): boolean {
  return typeof error === 'object' && error !== null && Reflect.get(error, Symbol.for(marker)) === true;
}

/**
 * Base class of every error `@marginkit/eval` throws. `MarginkitEvalError.isInstance(e)` is true
 * for all of them, whichever copy of the package made them.
 *
 * @example
 * ```ts
 * import { MarginkitEvalError, rocCurve } from '@marginkit/eval';
 * try {
 *   rocCurve([0.9, 0.1], [1, 1]);
 * } catch (e) {
 *   if (MarginkitEvalError.isInstance(e)) console.log(e.code); // 'NOT_ENOUGH_CLASSES'
 * }
 * console.log(MarginkitEvalError.isInstance(new Error('not ours'))); // false
 * ```
 */
export class MarginkitEvalError extends Error {
  /**
   * Whether `error` is an eval error, including one made by another copy of the package (where
   * `instanceof` is false). Checks the `Symbol.for('marginkit.eval.error')` marker.
   *
   * @param error - any thrown value.
   * @returns true for every error of `@marginkit/eval`.
   */
  static isInstance(error: unknown): error is MarginkitEvalError {
    return hasMarker(error, EVAL_ERROR);
  }

  /** A stable code for programmatic handling. */
  readonly code: MarginkitEvalErrorCode;
  /**
   * @param code - the code.
   * @param message - what was wrong.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: MarginkitEvalErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    mark(this, EVAL_ERROR);
  }
}

const INPUT_ERROR = 'marginkit.eval.error.EvalInputError';

/**
 * An argument was wrong (length mismatch, NaN score, FAR target outside (0, 1), ...). `argument`
 * names it.
 *
 * @example
 * ```ts
 * import { EvalInputError, rocCurve } from '@marginkit/eval';
 * try {
 *   rocCurve([0.9, Number.NaN], [1, 0]);
 * } catch (e) {
 *   if (EvalInputError.isInstance(e)) console.log(e.argument); // 'scores'
 * }
 * ```
 */
export class EvalInputError extends MarginkitEvalError {
  /**
   * Whether `error` is an error about an argument (this class or {@link NotEnoughClassesError}),
   * from any copy of the package. Checks the `Symbol.for('marginkit.eval.error.EvalInputError')`
   * marker.
   *
   * @param error - any thrown value.
   * @returns true for an `EvalInputError` and its subclass.
   */
  static override isInstance(error: unknown): error is EvalInputError {
    return hasMarker(error, INPUT_ERROR);
  }

  /** The argument's name. */
  readonly argument: string;
  /**
   * @param argument - its name.
   * @param message - what was wrong.
   * @param code - a more specific code, `'INVALID_INPUT'` by default.
   */
  constructor(argument: string, message: string, code: 'INVALID_INPUT' | 'NOT_ENOUGH_CLASSES' = 'INVALID_INPUT') {
    super(code, `${argument}: ${message}`);
    this.argument = argument;
    mark(this, INPUT_ERROR);
  }
}

const NOT_ENOUGH_CLASSES_ERROR = 'marginkit.eval.error.NotEnoughClassesError';

/**
 * The labels have only one class, so a rate is undefined (scikit-learn returns NaN with a
 * warning; marginkit says so instead of returning a number).
 *
 * @example
 * ```ts
 * import { EvalInputError, NotEnoughClassesError } from '@marginkit/eval';
 * const e = new NotEnoughClassesError('labels', 'no negative pairs');
 * console.log(e.code, NotEnoughClassesError.isInstance(e), EvalInputError.isInstance(e)); // 'NOT_ENOUGH_CLASSES' true true
 * ```
 */
export class NotEnoughClassesError extends EvalInputError {
  /**
   * Whether `error` is a `NotEnoughClassesError`, from any copy of the package (the
   * `Symbol.for('marginkit.eval.error.NotEnoughClassesError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `NotEnoughClassesError`.
   */
  static override isInstance(error: unknown): error is NotEnoughClassesError {
    return hasMarker(error, NOT_ENOUGH_CLASSES_ERROR);
  }

  /** @param argument - the labels argument. @param message - which class is missing. */
  constructor(argument: string, message: string) {
    super(argument, message, 'NOT_ENOUGH_CLASSES');
    mark(this, NOT_ENOUGH_CLASSES_ERROR);
  }
}

const PARSE_ERROR = 'marginkit.eval.error.ParseError';

/**
 * A file could not be parsed. `file` and `line` (1-based, 0 for binary headers) say where.
 *
 * @example
 * ```ts
 * import { ParseError, parseLfwPairs } from '@marginkit/eval';
 * try {
 *   parseLfwPairs('1\t2\nAbel\t1\n', 'pairs.txt');
 * } catch (e) {
 *   if (ParseError.isInstance(e)) console.log(e.file, e.line); // 'pairs.txt' 2
 * }
 * ```
 */
export class ParseError extends MarginkitEvalError {
  /**
   * Whether `error` is a `ParseError`, from any copy of the package (the
   * `Symbol.for('marginkit.eval.error.ParseError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for a `ParseError`.
   */
  static override isInstance(error: unknown): error is ParseError {
    return hasMarker(error, PARSE_ERROR);
  }

  /** The file's name as given. */
  readonly file: string;
  /** 1-based line, or 0 for a binary header. */
  readonly line: number;
  /** @param file - the file. @param line - the line. @param message - what was wrong. */
  constructor(file: string, line: number, message: string) {
    super('PARSE', `${file}${line > 0 ? `:${line}` : ''}: ${message}`);
    this.file = file;
    this.line = line;
    mark(this, PARSE_ERROR);
  }
}

const FILE_ERROR = 'marginkit.eval.error.EvalFileError';

/**
 * A file or folder could not be read or written (missing, a directory where a file is expected,
 * not writable, disk full, ...): a failure at run time, not an {@link EvalInputError}. `argument`
 * is the option or argument that named it, `file` the path, `cause` the system's error when there
 * is one.
 *
 * @example
 * ```ts
 * import { EvalFileError, EvalInputError } from '@marginkit/eval';
 * const e = new EvalFileError('--scores', '/tmp', 'is a directory, expected a file');
 * console.log(e.message); // '--scores: /tmp: is a directory, expected a file'
 * console.log(EvalFileError.isInstance(e), EvalInputError.isInstance(e)); // true false
 * ```
 */
export class EvalFileError extends MarginkitEvalError {
  /**
   * Whether `error` is an `EvalFileError`, from any copy of the package (the
   * `Symbol.for('marginkit.eval.error.EvalFileError')` marker).
   *
   * @param error - any thrown value.
   * @returns true for an `EvalFileError`.
   */
  static override isInstance(error: unknown): error is EvalFileError {
    return hasMarker(error, FILE_ERROR);
  }

  /** The option or argument that named the file, e.g. `'--scores'`. */
  readonly argument: string;
  /** The path as given. */
  readonly file: string;
  /**
   * @param argument - the option or argument.
   * @param file - the path.
   * @param message - what was wrong.
   * @param options - `cause`: the system's error, if any.
   */
  constructor(argument: string, file: string, message: string, options?: { readonly cause?: unknown }) {
    super('FILE', `${argument}: ${file}: ${message}`, options);
    this.argument = argument;
    this.file = file;
    mark(this, FILE_ERROR);
  }
}
