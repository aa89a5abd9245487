import { expect } from 'vitest';
import { type InvalidArgumentError, MarginkitError } from '../errors.js';

/** An error class, e.g. `ShapeError` (abstract classes too). */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** The typed error a piece of bad input must produce. */
export interface TypedErrorExpectation {
  /** The class the error must be an instance of (it must also be a `MarginkitError`). */
  readonly error: ErrorClass;
  /** The argument the error must name: its `.argument`, and the start of its message (`argument: `). */
  readonly argument?: string;
  /** A pattern the message must match. */
  readonly message?: RegExp;
  /** A label for the assertion messages, e.g. the case's name. */
  readonly what?: string;
}

/** A row of a bad-input table: a named call and the typed error it must produce. */
export interface BadInputCase extends TypedErrorExpectation {
  /** What is wrong, as the test's name. */
  readonly what: string;
  /** The call with bad input. */
  readonly run: () => unknown;
}

function checkTypedError(thrown: unknown, expected: TypedErrorExpectation): void {
  const { what } = expected;
  expect(thrown, what === undefined ? 'nothing was thrown' : `${what}: nothing was thrown`).toBeDefined();
  expect(thrown, what).toBeInstanceOf(MarginkitError);
  expect(thrown, what).toBeInstanceOf(expected.error);
  const e = thrown as InvalidArgumentError;
  if (expected.argument !== undefined) {
    expect(e.argument, what).toBe(expected.argument);
    expect(e.message.startsWith(`${expected.argument}: `), what).toBe(true);
  }
  if (expected.message) expect(e.message, what).toMatch(expected.message);
}

/**
 * Asserts (with vitest's `expect`) that `run` throws synchronously a typed error: a
 * `MarginkitError` of class `expected.error` whose `.argument` is `expected.argument` and whose
 * message starts with `argument: ` (when an argument is given) and matches `expected.message`
 * (when given). A returned promise, rejected or not, counts as nothing thrown; for asynchronous
 * misuse use {@link expectTypedRejection}.
 *
 * @param run - the call with bad input.
 * @param expected - the error class, and optionally the argument, a message pattern and a label.
 *
 * @example
 * ```ts
 * import { MarginDomainError, arcface } from '@marginkit/core';
 * import { expectTypedError } from '@marginkit/core/testing';
 * expectTypedError(() => arcface({ m: -1 }), { error: MarginDomainError, argument: 'arcface.m', message: /got -1/ });
 * console.log('arcface({ m: -1 }) names its argument'); // arcface({ m: -1 }) names its argument
 * ```
 */
export function expectTypedError(run: () => unknown, expected: TypedErrorExpectation): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  checkTypedError(thrown, expected);
}

/**
 * Like {@link expectTypedError}, for asynchronous misuse: the promise `run` returns must reject
 * with the typed error. `run` itself must not throw (that error propagates, failing the test).
 *
 * @param run - the call with bad input, returning a promise.
 * @param expected - the error class, and optionally the argument, a message pattern and a label.
 * @returns a promise that settles when the assertions have run.
 *
 * @example
 * ```ts
 * import { LabelError } from '@marginkit/core';
 * import { expectTypedRejection } from '@marginkit/core/testing';
 * const load = async (labels: number[]) => {
 *   if (labels.some((l) => l < 0)) throw new LabelError('labels', `labels must be ≥ 0, got ${labels}`);
 * };
 * await expectTypedRejection(() => load([-2]), { error: LabelError, argument: 'labels' });
 * console.log('rejected with a LabelError'); // rejected with a LabelError
 * ```
 */
export async function expectTypedRejection(run: () => PromiseLike<unknown>, expected: TypedErrorExpectation): Promise<void> {
  const thrown = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  checkTypedError(thrown, expected);
}
