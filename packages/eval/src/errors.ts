/** Stable codes of the eval package's errors. */
export type MarginkitEvalErrorCode = 'INVALID_INPUT' | 'NOT_ENOUGH_CLASSES' | 'PARSE' | 'FILE';

/**
 * Base class of every error `@marginkit/eval` throws.
 *
 * @example
 * ```ts
 * import { MarginkitEvalError, rocCurve } from '@marginkit/eval';
 * try {
 *   rocCurve([0.9, 0.1], [1, 1]);
 * } catch (e) {
 *   if (e instanceof MarginkitEvalError) console.log(e.code); // 'NOT_ENOUGH_CLASSES'
 * }
 * ```
 */
export class MarginkitEvalError extends Error {
  /** A stable code for programmatic handling. */
  readonly code: MarginkitEvalErrorCode;
  /** @param code - the code. @param message - what was wrong. */
  constructor(code: MarginkitEvalErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An argument was wrong (length mismatch, NaN score, FAR target outside (0, 1), ...).
 *
 * @example
 * ```ts
 * import { EvalInputError, rocCurve } from '@marginkit/eval';
 * try {
 *   rocCurve([0.9, Number.NaN], [1, 0]);
 * } catch (e) {
 *   if (e instanceof EvalInputError) console.log(e.argument); // 'scores'
 * }
 * ```
 */
export class EvalInputError extends MarginkitEvalError {
  /** The argument's name. */
  readonly argument: string;
  /** @param argument - its name. @param message - what was wrong. @param code - a more specific code. */
  constructor(argument: string, message: string, code: MarginkitEvalErrorCode = 'INVALID_INPUT') {
    super(code, `${argument}: ${message}`);
    this.argument = argument;
  }
}

/**
 * The labels have only one class, so a rate is undefined (scikit-learn returns NaN with a
 * warning; marginkit says so instead of returning a number).
 *
 * @example
 * ```ts
 * import { NotEnoughClassesError } from '@marginkit/eval';
 * console.log(new NotEnoughClassesError('labels', 'no negative pairs').code); // 'NOT_ENOUGH_CLASSES'
 * ```
 */
export class NotEnoughClassesError extends EvalInputError {
  /** @param argument - the labels argument. @param message - which class is missing. */
  constructor(argument: string, message: string) {
    super(argument, message, 'NOT_ENOUGH_CLASSES');
  }
}

/**
 * A file could not be parsed. `file` and `line` (1-based, 0 for binary headers) say where.
 *
 * @example
 * ```ts
 * import { ParseError, parseLfwPairs } from '@marginkit/eval';
 * try {
 *   parseLfwPairs('1\t2\nAbel\t1\n', 'pairs.txt');
 * } catch (e) {
 *   if (e instanceof ParseError) console.log(e.file, e.line); // 'pairs.txt' 2
 * }
 * ```
 */
export class ParseError extends MarginkitEvalError {
  /** The file's name as given. */
  readonly file: string;
  /** 1-based line, or 0 for a binary header. */
  readonly line: number;
  /** @param file - the file. @param line - the line. @param message - what was wrong. */
  constructor(file: string, line: number, message: string) {
    super('PARSE', `${file}${line > 0 ? `:${line}` : ''}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

/**
 * A file or folder could not be read or written (missing, a directory where a file is expected,
 * not writable, ...). `argument` is the option or argument that named it, `file` the path.
 *
 * @example
 * ```ts
 * import { EvalFileError } from '@marginkit/eval';
 * const e = new EvalFileError('--scores', '/tmp', 'is a directory, expected a file');
 * console.log(e.message); // '--scores: /tmp: is a directory, expected a file'
 * ```
 */
export class EvalFileError extends EvalInputError {
  /** The path as given. */
  readonly file: string;
  /** @param argument - the option or argument. @param file - the path. @param message - what was wrong. */
  constructor(argument: string, file: string, message: string) {
    super(argument, `${file}: ${message}`, 'FILE');
    this.file = file;
  }
}
