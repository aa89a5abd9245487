import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { assertBackend } from './backend.js';
import * as errors from './errors.js';
import {
  BackendError,
  DTypeError,
  InternalError,
  InvalidArgumentError,
  InvalidBackendError,
  LabelError,
  MarginDomainError,
  MarginkitError,
  MarginkitRuntimeError,
  NonFiniteError,
  RegistryError,
  ShapeError,
  UnsupportedOpError,
} from './errors.js';
import * as core from './index.js';
import { arcface } from './builtin-margins.js';

type ErrorModule = typeof import('./errors.js');
type AnyErrorClass = (abstract new (...args: never[]) => Error) & { isInstance(error: unknown): boolean };

/** A second, independent instance of errors.ts, as when an application holds two copies of @marginkit/core. */
const otherCopy = async (): Promise<ErrorModule> => import(/* @vite-ignore */ `./errors.js?copy=${'second'}`);

/**
 * Each class, how to make one from a given copy of the module, and the class names of its chain,
 * written out by hand (the hierarchy the package documents).
 */
const CASES: readonly { name: string; make: (m: ErrorModule) => Error; chain: readonly string[] }[] = [
  { name: 'MarginkitError', make: (m) => new m.MarginkitError('INVALID_ARGUMENT', 'm'), chain: ['MarginkitError'] },
  { name: 'InvalidArgumentError', make: (m) => new m.InvalidArgumentError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError'] },
  { name: 'ShapeError', make: (m) => new m.ShapeError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError', 'ShapeError'] },
  { name: 'DTypeError', make: (m) => new m.DTypeError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError', 'DTypeError'] },
  { name: 'LabelError', make: (m) => new m.LabelError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError', 'LabelError'] },
  { name: 'NonFiniteError', make: (m) => new m.NonFiniteError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError', 'NonFiniteError'] },
  { name: 'MarginDomainError', make: (m) => new m.MarginDomainError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError', 'MarginDomainError'] },
  { name: 'RegistryError', make: (m) => new m.RegistryError('a', 'm'), chain: ['MarginkitError', 'InvalidArgumentError', 'RegistryError'] },
  {
    name: 'InvalidBackendError',
    make: (m) => new m.InvalidBackendError('a', 'm'),
    chain: ['MarginkitError', 'InvalidArgumentError', 'InvalidBackendError'],
  },
  {
    name: 'MarginkitRuntimeError',
    make: (m) => new m.MarginkitRuntimeError('BACKEND', 'm'),
    chain: ['MarginkitError', 'MarginkitRuntimeError'],
  },
  { name: 'BackendError', make: (m) => new m.BackendError('run', 'm'), chain: ['MarginkitError', 'MarginkitRuntimeError', 'BackendError'] },
  {
    name: 'UnsupportedOpError',
    make: (m) => new m.UnsupportedOpError('floor', 'm'),
    chain: ['MarginkitError', 'MarginkitRuntimeError', 'UnsupportedOpError'],
  },
  { name: 'InternalError', make: (m) => new m.InternalError('m'), chain: ['MarginkitError', 'MarginkitRuntimeError', 'InternalError'] },
];

/** The error classes of one copy of the module, by name. */
const classesOf = (m: ErrorModule): Record<string, AnyErrorClass> => ({
  MarginkitError: m.MarginkitError,
  InvalidArgumentError: m.InvalidArgumentError,
  ShapeError: m.ShapeError,
  DTypeError: m.DTypeError,
  LabelError: m.LabelError,
  NonFiniteError: m.NonFiniteError,
  MarginDomainError: m.MarginDomainError,
  RegistryError: m.RegistryError,
  InvalidBackendError: m.InvalidBackendError,
  MarginkitRuntimeError: m.MarginkitRuntimeError,
  BackendError: m.BackendError,
  UnsupportedOpError: m.UnsupportedOpError,
  InternalError: m.InternalError,
});
const classOf = (m: ErrorModule, name: string): AnyErrorClass => {
  const cls = classesOf(m)[name];
  if (cls === undefined) throw new TypeError(`no class ${name}`);
  return cls;
};

/** `Symbol.for` marker of a class, by the documented naming. */
const markerOf = (name: string): symbol => Symbol.for(name === 'MarginkitError' ? 'marginkit.error' : `marginkit.error.${name}`);

/** A thrown value that is not an Error subclass of ours but carries the markers of `chain`, as a re-declared class would. */
const carrying = (chain: readonly string[], extra: Record<string, unknown> = {}): object =>
  Object.assign(new Error('foreign'), Object.fromEntries(chain.map((n) => [markerOf(n), true])), extra);

const NAMES = CASES.map((c) => c.name);

describe('isInstance', () => {
  it.each(CASES)('$name is an instance of exactly its chain, by isInstance and by instanceof', ({ make, chain }) => {
    const e = make(errors);
    for (const name of NAMES) {
      const cls = classOf(errors, name);
      expect(cls.isInstance(e), `${name}.isInstance`).toBe(chain.includes(name));
      expect(e instanceof classOf(errors, name), `instanceof ${name}`).toBe(chain.includes(name));
    }
  });

  it.each(CASES)('$name made by another copy of the package: instanceof fails, isInstance holds for its chain only', async ({ make, chain }) => {
    const copy = await otherCopy();
    expect(copy.MarginkitError).not.toBe(errors.MarginkitError);
    const foreign = make(copy);
    expect(foreign instanceof errors.MarginkitError).toBe(false); // why isInstance exists
    for (const name of NAMES) {
      expect(classOf(errors, name).isInstance(foreign), `this copy's ${name}.isInstance`).toBe(chain.includes(name));
      // and the other way round: the other copy recognises this copy's errors
      expect(classOf(copy, name).isInstance(make(errors)), `other copy's ${name}.isInstance`).toBe(chain.includes(name));
    }
  });

  it('a class re-declared elsewhere with the same Symbol.for markers is recognised, with its fields readable after narrowing', () => {
    class ForeignShapeError extends Error {
      readonly argument = 'embeddings';
      readonly code = 'SHAPE_MISMATCH';
      constructor() {
        super('embeddings: expected rank 2');
        for (const n of ['MarginkitError', 'InvalidArgumentError', 'ShapeError']) Object.defineProperty(this, markerOf(n), { value: true });
      }
    }
    const e: unknown = new ForeignShapeError();
    expect(ShapeError.isInstance(e)).toBe(true);
    expect(InvalidArgumentError.isInstance(e)).toBe(true);
    expect(MarginkitError.isInstance(e)).toBe(true);
    expect(DTypeError.isInstance(e)).toBe(false);
    expect(MarginkitRuntimeError.isInstance(e)).toBe(false);
    if (!ShapeError.isInstance(e)) throw new Error('unreachable');
    expect([e.argument, e.code]).toEqual(['embeddings', 'SHAPE_MISMATCH']); // narrowed to ShapeError
  });

  it('a marker chain decides: the base marker alone is a MarginkitError of no subclass; a subclass marker alone is that subclass only', () => {
    const base = carrying(['MarginkitError']);
    expect(NAMES.filter((n) => classOf(errors, n).isInstance(base))).toEqual(['MarginkitError']);
    const shapeOnly = carrying(['ShapeError']);
    expect(NAMES.filter((n) => classOf(errors, n).isInstance(shapeOnly))).toEqual(['ShapeError']);
  });

  it('rejects unrelated values: plain errors, non-objects, look-alike keys, non-registered symbols, markers not set to true', () => {
    const unrelated: unknown[] = [
      new Error('shape'),
      new TypeError('x'),
      new RangeError('x'),
      Object.assign(new Error('x'), { name: 'ShapeError', code: 'SHAPE_MISMATCH', argument: 'x' }),
      undefined,
      null,
      0,
      'marginkit.error',
      Symbol.for('marginkit.error'),
      () => undefined,
      { 'marginkit.error': true, 'marginkit.error.ShapeError': true },
      { [Symbol('marginkit.error')]: true, [Symbol('marginkit.error.ShapeError')]: true },
      { [markerOf('MarginkitError')]: 'true', [markerOf('ShapeError')]: 1 },
      Object.assign(new Error('x'), { [markerOf('MarginkitError')]: false, [markerOf('ShapeError')]: false }),
    ];
    for (const value of unrelated) {
      for (const name of NAMES) expect(classOf(errors, name).isInstance(value), `${name}.isInstance(${inspect(value)})`).toBe(false);
    }
  });

  it('works unbound, e.g. as a filter', () => {
    const thrown: unknown[] = [new ShapeError('a', 'm'), new Error('x'), new LabelError('labels', 'm'), new BackendError('run', 'm')];
    expect(thrown.filter(InvalidArgumentError.isInstance).map((e) => e.argument)).toEqual(['a', 'labels']);
    expect(thrown.filter(MarginkitRuntimeError.isInstance).map((e) => e.code)).toEqual(['BACKEND']);
  });

  it('every error class the package exports has its own isInstance and answers to the marker of its own name', () => {
    const exported = Object.entries(core).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error);
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
});

describe('markers', () => {
  it('are non-enumerable and do not show when an error is printed or spread', () => {
    const e = new ShapeError('embeddings', 'bad');
    const own = Object.getOwnPropertySymbols(e);
    expect(own.map((s) => s.description).sort()).toEqual(['marginkit.error', 'marginkit.error.InvalidArgumentError', 'marginkit.error.ShapeError']);
    expect(own.every((s) => !Object.prototype.propertyIsEnumerable.call(e, s))).toBe(true);
    expect(inspect(e)).not.toMatch(/marginkit\.error/);
    expect(ShapeError.isInstance({ ...e })).toBe(false); // a spread copy is data, not the error
  });
});

describe('the two families', () => {
  it('an argument error names the argument; a run-time failure has none and keeps its cause', () => {
    const cause = new Error('session crashed');
    const run = new BackendError('run', 'ONNX Runtime failed to run the graph', { cause });
    expect(run.message).toBe('run: ONNX Runtime failed to run the graph');
    expect([run.source, run.code, run.name, run.cause]).toEqual(['run', 'BACKEND', 'BackendError', cause]);
    expect('argument' in run).toBe(false);
    const op = new UnsupportedOpError('reshape', 'two unknown dimensions');
    expect([op.op, op.message, op.code]).toEqual(['reshape', 'reshape: two unknown dimensions', 'UNSUPPORTED_OP']);
    const internal = new InternalError('invalid ONNX model object: x', { cause });
    expect(internal.message).toBe('internal error: invalid ONNX model object: x (a bug in marginkit: please report it with this message)');
    expect(internal.cause).toBe(cause);
    const shape = new ShapeError('embeddings', 'expected rank 2');
    expect([shape.argument, shape.message, shape.code, shape.name]).toEqual(['embeddings', 'embeddings: expected rank 2', 'SHAPE_MISMATCH', 'ShapeError']);
  });

  it('codes of each family are the documented ones', () => {
    const codes = (family: AnyErrorClass) =>
      CASES.map((c) => c.make(errors))
        .filter((e) => family.isInstance(e))
        .map((e) => Reflect.get(e, 'code'));
    expect(codes(InvalidArgumentError)).toEqual([
      'INVALID_ARGUMENT',
      'SHAPE_MISMATCH',
      'DTYPE_MISMATCH',
      'LABEL_OUT_OF_RANGE',
      'NON_FINITE',
      'MARGIN_DOMAIN',
      'REGISTRY',
      'INVALID_BACKEND',
    ]);
    expect(codes(MarginkitRuntimeError)).toEqual(['BACKEND', 'BACKEND', 'UNSUPPORTED_OP', 'INTERNAL']);
  });

  it('an object that is not a backend is an argument error (InvalidBackendError), not a run-time BackendError', () => {
    let thrown: unknown;
    try {
      assertBackend({ name: 'mine' }, 'options.backend');
    } catch (e) {
      thrown = e;
    }
    expect(InvalidBackendError.isInstance(thrown)).toBe(true);
    expect(InvalidArgumentError.isInstance(thrown)).toBe(true);
    expect(BackendError.isInstance(thrown)).toBe(false);
    expect(MarginkitRuntimeError.isInstance(thrown)).toBe(false);
    expect(thrown).toMatchObject({ argument: 'options.backend', code: 'INVALID_BACKEND' });
  });

  it('a margin outside its domain is a MarginDomainError, recognised through the base classes', () => {
    let thrown: unknown;
    try {
      arcface({ m: -1 });
    } catch (e) {
      thrown = e;
    }
    expect([MarginDomainError, InvalidArgumentError, MarginkitError].map((c) => c.isInstance(thrown))).toEqual([true, true, true]);
    expect([NonFiniteError, RegistryError, MarginkitRuntimeError].map((c) => c.isInstance(thrown))).toEqual([false, false, false]);
  });
});
