import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';
import { EvalFileError, EvalInputError, MarginkitEvalError, NotEnoughClassesError, ParseError } from './errors.js';
import { readInputFile } from './files.js';
import * as api from './index.js';
import { parseLfwPairs } from './readers.js';
import { rocCurve } from './roc-curve.js';
import { sortFloat32, sortFloat64 } from './sort.js';

type ErrorModule = typeof import('./errors.js');
type AnyErrorClass = (abstract new (...args: never[]) => Error) & { isInstance(error: unknown): boolean };

/** A second, independent instance of errors.ts, as when an application holds two copies of @marginkit/eval. */
const otherCopy = async (): Promise<ErrorModule> => import(/* @vite-ignore */ `./errors.js?copy=${'second'}`);

const classesOf = (m: ErrorModule): Record<string, AnyErrorClass> => ({
  MarginkitEvalError: m.MarginkitEvalError,
  EvalInputError: m.EvalInputError,
  NotEnoughClassesError: m.NotEnoughClassesError,
  ParseError: m.ParseError,
  EvalFileError: m.EvalFileError,
});
const classOf = (m: ErrorModule, name: string): AnyErrorClass => {
  const cls = classesOf(m)[name];
  if (cls === undefined) throw new TypeError(`no class ${name}`);
  return cls;
};

/** Each class, how to make one, and its chain of class names, written out by hand (the documented hierarchy). */
const CASES: readonly { name: string; make: (m: ErrorModule) => Error; chain: readonly string[] }[] = [
  { name: 'MarginkitEvalError', make: (m) => new m.MarginkitEvalError('PARSE', 'm'), chain: ['MarginkitEvalError'] },
  { name: 'EvalInputError', make: (m) => new m.EvalInputError('scores', 'm'), chain: ['MarginkitEvalError', 'EvalInputError'] },
  {
    name: 'NotEnoughClassesError',
    make: (m) => new m.NotEnoughClassesError('labels', 'm'),
    chain: ['MarginkitEvalError', 'EvalInputError', 'NotEnoughClassesError'],
  },
  { name: 'ParseError', make: (m) => new m.ParseError('pairs.txt', 2, 'm'), chain: ['MarginkitEvalError', 'ParseError'] },
  { name: 'EvalFileError', make: (m) => new m.EvalFileError('--scores', '/tmp/x', 'm'), chain: ['MarginkitEvalError', 'EvalFileError'] },
];
const NAMES = CASES.map((c) => c.name);
const markerOf = (name: string): symbol => Symbol.for(name === 'MarginkitEvalError' ? 'marginkit.eval.error' : `marginkit.eval.error.${name}`);
const carrying = (chain: readonly string[]): object => Object.assign(new Error('foreign'), Object.fromEntries(chain.map((n) => [markerOf(n), true])));

describe('isInstance', () => {
  it.each(CASES)('$name is an instance of exactly its chain, by isInstance and by instanceof', ({ make, chain }) => {
    const e = make(errors);
    for (const name of NAMES) {
      expect(classOf(errors, name).isInstance(e), `${name}.isInstance`).toBe(chain.includes(name));
      expect(e instanceof classOf(errors, name), `instanceof ${name}`).toBe(chain.includes(name));
    }
  });

  it.each(CASES)('$name made by another copy of the package: instanceof fails, isInstance holds for its chain only', async ({ make, chain }) => {
    const copy = await otherCopy();
    const foreign = make(copy);
    expect(foreign instanceof errors.MarginkitEvalError).toBe(false);
    for (const name of NAMES) {
      expect(classOf(errors, name).isInstance(foreign), `this copy's ${name}.isInstance`).toBe(chain.includes(name));
      expect(classOf(copy, name).isInstance(make(errors)), `other copy's ${name}.isInstance`).toBe(chain.includes(name));
    }
  });

  it('a class re-declared elsewhere with the same Symbol.for markers is recognised, and narrowed', () => {
    class ForeignParseError extends Error {
      readonly file = 'ids.npy';
      readonly line = 0;
      constructor() {
        super('ids.npy: bad magic');
        for (const n of ['MarginkitEvalError', 'ParseError']) Object.defineProperty(this, markerOf(n), { value: true });
      }
    }
    const e: unknown = new ForeignParseError();
    expect([MarginkitEvalError, ParseError, EvalInputError, EvalFileError].map((c) => c.isInstance(e))).toEqual([true, true, false, false]);
    if (!ParseError.isInstance(e)) throw new Error('unreachable');
    expect([e.file, e.line]).toEqual(['ids.npy', 0]);
  });

  it("rejects unrelated values, and core's markers (marginkit.error) are not eval's", () => {
    const unrelated: unknown[] = [
      new Error('x'),
      new RangeError('scratch'),
      Object.assign(new Error('x'), { name: 'ParseError', code: 'PARSE', file: 'a', line: 1 }),
      null,
      undefined,
      'marginkit.eval.error',
      { 'marginkit.eval.error': true },
      { [Symbol('marginkit.eval.error')]: true },
      { [markerOf('MarginkitEvalError')]: 1 },
      Object.assign(new Error('core'), { [Symbol.for('marginkit.error')]: true, [Symbol.for('marginkit.error.InvalidArgumentError')]: true }),
    ];
    for (const value of unrelated) {
      for (const name of NAMES) expect(classOf(errors, name).isInstance(value), `${name}.isInstance(${inspect(value)})`).toBe(false);
    }
  });

  it('works unbound, e.g. as a filter', () => {
    const thrown: unknown[] = [new ParseError('a.txt', 3, 'm'), new Error('x'), new EvalInputError('scores', 'm')];
    expect(thrown.filter(ParseError.isInstance).map((e) => e.line)).toEqual([3]);
  });

  it('every error class the package exports has its own isInstance and answers to the marker of its own name', () => {
    const exported = Object.entries(api).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error);
    expect(exported.map(([n]) => n).sort()).toEqual([...NAMES].sort());
    for (const [name, value] of exported) {
      const cls = classOf(errors, name);
      expect(value).toBe(cls);
      expect(Object.hasOwn(cls, 'isInstance'), `${name} declares isInstance`).toBe(true);
      const chain = CASES.find((c) => c.name === name)!.chain;
      expect(cls.isInstance(carrying(chain)), name).toBe(true);
      expect(cls.isInstance(carrying(chain.slice(0, -1))), `${name} without its own marker`).toBe(false);
    }
  });

  it('markers are non-enumerable: they do not show when an error is printed', () => {
    const e = new NotEnoughClassesError('labels', 'no negative pairs');
    expect(Object.getOwnPropertySymbols(e).every((s) => !Object.prototype.propertyIsEnumerable.call(e, s))).toBe(true);
    expect(Object.getOwnPropertySymbols(e)).toHaveLength(3);
    expect(inspect(e)).not.toMatch(/marginkit\.eval\.error/);
  });
});

describe('the throw sites', () => {
  const thrownBy = (run: () => unknown): unknown => {
    try {
      run();
    } catch (e) {
      return e;
    }
    throw new Error('nothing was thrown');
  };

  it('a file that cannot be read is an EvalFileError (a run-time failure, not an argument error) with the system error as cause', () => {
    const missing = join(import.meta.dirname, 'no-such-file.npy');
    const e = thrownBy(() => readInputFile(missing, '--scores'));
    expect(EvalFileError.isInstance(e)).toBe(true);
    expect(EvalInputError.isInstance(e)).toBe(false);
    if (!EvalFileError.isInstance(e)) return;
    expect([e.argument, e.file, e.code]).toEqual(['--scores', missing, 'FILE']);
    expect(e.message).toBe(`--scores: ${missing}: no such file (ENOENT)`);
    expect(e.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('a malformed pairs file is a ParseError, not an argument error', () => {
    const e = thrownBy(() => parseLfwPairs('1\t2\nAbel\t1\n', 'pairs.txt'));
    expect([ParseError.isInstance(e), EvalInputError.isInstance(e), EvalFileError.isInstance(e)]).toEqual([true, false, false]);
  });

  it('one-class labels are a NotEnoughClassesError, an argument error', () => {
    const e = thrownBy(() => rocCurve([0.9, 0.1], [1, 1]));
    expect([NotEnoughClassesError.isInstance(e), EvalInputError.isInstance(e)]).toEqual([true, true]);
  });

  it.each([
    ['sortFloat64', () => sortFloat64(new Float64Array(1 << 14), new Float64Array((1 << 14) - 1))],
    ['sortFloat32', () => sortFloat32(new Float32Array(1 << 14), new Float32Array(10))],
  ])('%s with a scratch buffer shorter than the input is an EvalInputError naming scratch', (name, run) => {
    const e = thrownBy(run);
    expect(EvalInputError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({
      argument: 'scratch',
      message: expect.stringMatching(new RegExp(`^scratch: has \\d+ values, fewer than the 16384 to sort \\(${name}\\)$`)),
    });
  });
});
