import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend.js';
import { type Ops, createOps } from '../create-ops.js';
import { OP_NAMES, type OpName } from '../ops.js';

/** What a backend gives the conformance suite to drive it. */
export interface ConformanceHarness<T> {
  /** The backend under test. */
  readonly backend: Backend<T>;
  /** A tensor from row-major values. */
  tensor(values: readonly number[], shape: readonly number[], dtype: 'float32' | 'int32'): T;
  /** The values of a tensor (bool as 0/1). */
  read(tensor: T): Promise<ArrayLike<number>> | ArrayLike<number>;
  /**
   * Gradients of a scalar-valued `f` with respect to each of `xs`, when the backend
   * differentiates (`backend.supports.gradients`).
   */
  gradients?(f: (...xs: T[]) => T, xs: readonly T[]): Promise<ArrayLike<number>[]> | ArrayLike<number>[];
  /** Runs `fn` in a scope that releases intermediate tensors (e.g. `tf.tidy`). */
  scope?<R>(fn: () => R): R;
  /** Called once after the variant's tests. */
  teardown?(): Promise<void> | void;
}

/** A named variant of a backend (e.g. `'tfjs-cpu'`) and how to set it up. */
export interface ConformanceTarget<T> {
  /** Shown in the test names. */
  readonly name: string;
  /** Creates the harness; called once before the variant's tests. */
  setup(): Promise<ConformanceHarness<T>>;
  /** Whether to run the gradient checks (the backend differentiates and the harness has `gradients`). */
  readonly differentiable: boolean;
  /** Whether the backend has `compute` (checked both ways); default false. */
  readonly computes?: boolean;
  /** Tolerances: float32 value and gradient checks. Defaults: value rtol 1e-5, atol 1e-6; gradient rtol 1e-4, atol 1e-5. */
  readonly tolerance?: {
    /** For op values. */
    readonly value?: Tol;
    /** For op gradients. */
    readonly gradient?: Tol;
  };
}

/** Relative and absolute tolerance: |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tol {
  /** Relative tolerance. */
  readonly rtol: number;
  /** Absolute tolerance. */
  readonly atol: number;
}

/** One case of the op fixture file: inputs, the float64 value, and the gradient of Σ weights ⊙ value. */
interface OpFixture {
  readonly op: OpName;
  readonly label: string;
  readonly inputs: readonly { readonly shape: readonly number[]; readonly dtype: 'float32' | 'int32'; readonly data: readonly number[] }[];
  readonly value: { readonly shape: readonly number[]; readonly data: readonly number[] };
  /** Present when the case is differentiated: the weights of the scalar Σ weights ⊙ value. */
  readonly weights?: readonly number[];
  /** d(Σ weights ⊙ value) / d inputs[input], for each differentiated input. */
  readonly gradients?: readonly { readonly input: number; readonly data: readonly number[] }[];
}

/**
 * The fixture of every case, written by `tools/make_op_fixtures.py` (PyTorch, float64). It ships in
 * `src/` (see package.json `files`), which this module reaches as `../../src/testing/` from both
 * `src/testing/` and `dist/testing/`. Read when a suite is registered, not on import.
 */
function loadFixtures(): ReadonlyMap<string, OpFixture> {
  const text = readFileSync(new URL('../../src/testing/fixtures/conformance-ops.json', import.meta.url), 'utf8');
  const parsed: { readonly cases: readonly OpFixture[] } = JSON.parse(text);
  return new Map(parsed.cases.map((c) => [c.label, c]));
}

/** One conformance case: how the op set computes it; inputs and expected values come from its fixture. */
interface Case {
  readonly op: OpName;
  /** The key of its fixture. */
  readonly label: string;
  readonly run: <T>(ops: Ops<T>, ...xs: T[]) => T;
}

const binaryCases = (['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const).flatMap((op): Case[] =>
  ['[3,4]·[3,4]', '[3,4]·[4] broadcast', '[3,1]·[] broadcast'].map((shapes) => ({ op, label: `${op} ${shapes}`, run: (o, a, b) => o[op](a!, b!) })),
);

const unaryCases: Case[] = (['neg', 'sqrt', 'exp', 'log', 'cos', 'sin', 'acos'] as const).map((op) => ({ op, label: `${op} [2,5]`, run: (o, x) => o[op](x!) }));

const reduceCases: Case[] = (['sum', 'mean', 'max', 'logSumExp'] as const).flatMap((op) =>
  [0, 1].flatMap((axis) =>
    [false, true].map((keepDims): Case => ({ op, label: `${op} axis ${axis}${keepDims ? ' keepDims' : ''}`, run: (o, x) => o[op](x!, axis, keepDims) })),
  ),
);

/** Every case of the suite; each op of the op set appears at least once. */
const CASES: readonly Case[] = [
  { op: 'constant', label: 'constant float32 [2,3]', run: (o) => o.constant([1.5, -2, 0, 3.25, 1e-3, -7], [2, 3]) },
  { op: 'constant', label: 'constant fill', run: (o) => o.constant(0.25, [2, 2]) },
  { op: 'constant', label: 'constant int32 via cast', run: (o) => o.cast(o.constant([3, -1, 7], [3], 'int32'), 'float32') },
  ...(
    [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const
  ).map(
    ([transposeA, transposeB]): Case => ({
      op: 'matmul',
      label: `matmul transposeA=${transposeA} transposeB=${transposeB}`,
      run: (o, a, b) => o.matmul(a!, b!, { transposeA, transposeB }),
    }),
  ),
  ...binaryCases,
  { op: 'maximum', label: 'maximum ties: the gradient goes to a', run: (o, a, b) => o.maximum(a!, b!) },
  { op: 'minimum', label: 'minimum ties: the gradient goes to a', run: (o, a, b) => o.minimum(a!, b!) },
  { op: 'greater', label: 'greater (as where mask)', run: (o, a, b) => o.where(o.greater(a!, b!), o.constant(1, [3, 4]), o.constant(0, [3, 4])) },
  { op: 'less', label: 'less (as where mask)', run: (o, a, b) => o.where(o.less(a!, b!), o.constant(1, [3, 4]), o.constant(0, [3, 4])) },
  { op: 'where', label: 'where', run: (o, c, a, b) => o.where(o.greater(c!, o.scalar(0)), a!, b!) },
  // The condition depends on a differentiated input: comparisons must have a (zero) gradient.
  {
    op: 'greater',
    label: 'where(a > 0, a², b) differentiated through the condition',
    run: (o, a, b) => o.where(o.greater(a!, o.scalar(0)), o.mul(a!, a!), b!),
  },
  { op: 'less', label: 'where(a < b, a, −b) differentiated through the condition', run: (o, a, b) => o.where(o.less(a!, b!), a!, o.neg(b!)) },
  ...unaryCases,
  { op: 'acos', label: 'acos near ±1', run: (o, x) => o.acos(x!) },
  { op: 'floor', label: 'floor', run: (o, x) => o.floor(x!) },
  { op: 'clip', label: 'clip [-0.5, 0.5]', run: (o, x) => o.clip(x!, -0.5, 0.5) },
  { op: 'clip', label: 'clip at its bounds (the gradient passes, inclusive)', run: (o, x) => o.clip(x!, -0.5, 0.5) },
  ...reduceCases,
  { op: 'logSumExp', label: 'logSumExp large values (no overflow)', run: (o, x) => o.logSumExp(x!, 1) },
  { op: 'reshape', label: 'reshape [2,6] → [3,4]', run: (o, x) => o.reshape(x!, [3, 4]) },
  { op: 'reshape', label: 'reshape [6] → [-1, 1]', run: (o, x) => o.reshape(x!, [-1, 1]) },
  { op: 'gatherPerRow', label: 'gatherPerRow [4,5]', run: (o, x, i) => o.gatherPerRow(x!, i!) },
  { op: 'oneHot', label: 'oneHot depth 6', run: (o, i) => o.oneHot(i!, 6) },
  { op: 'stopGradient', label: 'stopGradient', run: (o, x) => o.stopGradient(x!) },
  { op: 'cast', label: 'cast bool → float32 (comparisons as 0/1)', run: (o, a, b) => o.cast(o.greater(a!, b!), 'float32') },
  { op: 'cast', label: 'cast float32 → int32 truncates', run: (o, x) => o.cast(o.cast(x!, 'int32'), 'float32') },
];

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok) expect.fail(`${what}[${i}]: got ${a}, expected ${e} (atol ${tol.atol}, rtol ${tol.rtol})`);
  }
}

const DEFAULT_VALUE: Tol = { rtol: 1e-5, atol: 1e-6 };
const DEFAULT_GRAD: Tol = { rtol: 1e-4, atol: 1e-5 };

/**
 * The op names a backend must cover, and the cases of the suite for each: the suite checks
 * every op's value and, where the backend differentiates, its gradient against float64 values
 * computed by PyTorch (`tools/make_op_fixtures.py`).
 *
 * @returns the op names that have at least one case (all of {@link OP_NAMES}).
 *
 * @example
 * ```ts
 * import { conformanceCoverage } from '@marginkit/core/testing';
 * console.log(conformanceCoverage().length); // 29
 * ```
 */
export function conformanceCoverage(): OpName[] {
  return OP_NAMES.filter((name) => CASES.some((c) => c.op === name));
}

/**
 * Registers the conformance suite with vitest for each variant of a backend. Call it from a
 * backend package's `*.test.ts`. Each case's inputs, float64 value and gradient come from PyTorch
 * (`tools/make_op_fixtures.py`, committed as JSON): the backend is checked against an independent
 * implementation, not against marginkit's own reference backend.
 *
 * @param targets - the variants to run (e.g. tfjs `cpu` and `wasm`).
 *
 * @example
 * ```ts
 * // conformance.test.ts of a backend package: one target per variant of your backend.
 * import { conformanceSuite, referenceTarget } from '@marginkit/core/testing';
 * conformanceSuite([referenceTarget()]);
 * ```
 */
export function conformanceSuite<T>(targets: readonly ConformanceTarget<T>[]): void {
  const fixtures = loadFixtures();
  it('every case has a PyTorch fixture of the same op, and every fixture a case', () => {
    expect(CASES.filter((c) => fixtures.get(c.label)?.op !== c.op).map((c) => c.label)).toEqual([]);
    expect([...fixtures.keys()].filter((label) => !CASES.some((c) => c.label === label))).toEqual([]);
  });
  describe.each(targets.map((t) => [t.name, t] as const))('conformance: %s', (_, target) => {
    let h: ConformanceHarness<T>;
    let ops: Ops<T>;
    const valueTol = target.tolerance?.value ?? DEFAULT_VALUE;
    const gradTol = target.tolerance?.gradient ?? DEFAULT_GRAD;
    const scope = <R>(fn: () => R): R => (h.scope ? h.scope(fn) : fn());

    beforeAll(async () => {
      h = await target.setup();
      ops = createOps(h.backend);
    });
    afterAll(async () => {
      await h?.teardown?.();
    });

    it('implements every op of the op set', () => {
      const missing = OP_NAMES.filter((name) => typeof h.backend.ops[name] !== 'function');
      expect(missing, 'ops the backend lacks').toEqual([]);
    });

    it(`compute: ${target.computes === true ? 'reads new, passed-through and outside tensors, and leaves the latter alive' : 'absent'}`, async () => {
      const { compute } = h.backend;
      expect(typeof compute === 'function', 'backend.compute').toBe(target.computes === true);
      if (compute === undefined) return;
      const outside = h.tensor([5, -6], [2], 'float32');
      const x = h.tensor([1, -2, 3.5, 0.25, 7, -1], [2, 3], 'float32');
      const out = await compute.call(
        h.backend,
        (a) => [ops.mul(a!, ops.scalar(2)), a!, outside, ops.sum(a!, 1), ops.cast(ops.greater(a!, ops.scalar(0)), 'int32')],
        [x],
      );
      expect(out.every((o) => o instanceof Float32Array)).toBe(true);
      expect(out.map((o) => Array.from(o))).toEqual([
        [2, -4, 7, 0.5, 14, -2],
        [1, -2, 3.5, 0.25, 7, -1],
        [5, -6],
        [2.5, 6.25],
        [1, 0, 1, 1, 1, 0],
      ]);
      // The input and the outside tensor were handed back as they are: they must still be readable,
      // and the arrays returned for them are copies (writing to them changes no tensor).
      out[1]![0] = 99;
      out[2]![0] = 99;
      expect(Array.from(await h.read(x))).toEqual([1, -2, 3.5, 0.25, 7, -1]);
      expect(Array.from(await h.read(outside))).toEqual([5, -6]);
    });

    for (const c of CASES) {
      const fixture = fixtures.get(c.label);
      if (!fixture) continue; // reported by the fixture test above
      const inputs = () => fixture.inputs.map((x) => h.tensor(x.data, x.shape, x.dtype));

      it(`${c.label}: value`, async () => {
        const actual = await scope(() => {
          const out = c.run(ops, ...inputs());
          expect([...h.backend.shape(out)], 'shape').toEqual([...fixture.value.shape]);
          return h.read(out);
        });
        close(Array.from(actual), fixture.value.data, valueTol, `${c.label} value`);
      });

      const { weights, gradients } = fixture;
      if (weights && gradients && target.differentiable) {
        it(`${c.label}: gradient`, async () => {
          expect(
            h.backend.supports.gradients && typeof h.gradients === 'function',
            'a differentiable target has supports.gradients and harness.gradients',
          ).toBe(true);
          const wrt = gradients.map((g) => g.input);
          const actual = await scope(() => {
            const xs = inputs();
            const f = (...diff: T[]): T => {
              const all = xs.map((x, i) => (wrt.includes(i) ? diff[wrt.indexOf(i)]! : x));
              const out = c.run(ops, ...all);
              return ops.sum(ops.reshape(ops.mul(out, ops.constant(weights, ops.shape(out))), [-1]), 0);
            };
            return h.gradients!(
              f,
              wrt.map((i) => xs[i]!),
            );
          });
          gradients.forEach((g, k) => {
            close(Array.from(actual[k]!), g.data, gradTol, `${c.label} d/dinput${g.input}`);
          });
        });
      }
    }
  });
}
