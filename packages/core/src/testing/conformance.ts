import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend.js';
import { type Ops, createOps } from '../create-ops.js';
import { OP_NAMES, type OpName } from '../ops.js';
import { seededRandom } from './random.js';
import { RefTensor, referenceBackend } from './reference-backend.js';

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

type Gen = 'normal' | 'positive' | 'unit' | 'offInteger' | 'large' | { readonly indices: number } | { readonly values: readonly number[] };

interface InputSpec {
  readonly shape: readonly number[];
  readonly gen: Gen;
  readonly dtype?: 'float32' | 'int32';
}

/** One conformance case: inputs, the op applied with the validated op set, and what to check. */
interface Case {
  readonly op: OpName;
  readonly label: string;
  readonly inputs: readonly InputSpec[];
  readonly run: <T>(ops: Ops<T>, ...xs: T[]) => T;
  /** Indices of inputs to differentiate; omit for non-differentiable outputs. */
  readonly grad?: readonly number[];
  /** The expected gradient is zero everywhere (stopGradient, floor). */
  readonly zeroGrad?: boolean;
}

const f32 = (shape: readonly number[], gen: Gen = 'normal'): InputSpec => ({ shape, gen });
const i32 = (shape: readonly number[], gen: Gen): InputSpec => ({ shape, gen, dtype: 'int32' });

const binaryCases = (['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const).flatMap((op): Case[] => [
  { op, label: `${op} [3,4]·[3,4]`, inputs: [f32([3, 4]), f32([3, 4], op === 'div' ? 'positive' : 'normal')], run: (o, a, b) => o[op](a!, b!), grad: [0, 1] },
  {
    op,
    label: `${op} [3,4]·[4] broadcast`,
    inputs: [f32([3, 4]), f32([4], op === 'div' ? 'positive' : 'normal')],
    run: (o, a, b) => o[op](a!, b!),
    grad: [0, 1],
  },
  {
    op,
    label: `${op} [3,1]·[] broadcast`,
    inputs: [f32([3, 1]), f32([], op === 'div' ? 'positive' : 'normal')],
    run: (o, a, b) => o[op](a!, b!),
    grad: [0, 1],
  },
]);

const unaryCases: Case[] = (
  [
    ['neg', 'normal'],
    ['sqrt', 'positive'],
    ['exp', 'normal'],
    ['log', 'positive'],
    ['cos', 'normal'],
    ['sin', 'normal'],
    ['acos', 'unit'],
  ] as const
).map(([op, gen]) => ({ op, label: `${op} [2,5]`, inputs: [f32([2, 5], gen)], run: (o, x) => o[op](x!), grad: [0] }));

const reduceCases: Case[] = (['sum', 'mean', 'max', 'logSumExp'] as const).flatMap((op) =>
  [0, 1].flatMap((axis) =>
    [false, true].map(
      (keepDims): Case => ({
        op,
        label: `${op} axis ${axis}${keepDims ? ' keepDims' : ''}`,
        inputs: [f32([3, 5])],
        run: (o, x) => o[op](x!, axis, keepDims),
        grad: [0],
      }),
    ),
  ),
);

/** Every case of the suite; each op of the op set appears at least once. */
const CASES: readonly Case[] = [
  { op: 'constant', label: 'constant float32 [2,3]', inputs: [], run: (o) => o.constant([1.5, -2, 0, 3.25, 1e-3, -7], [2, 3]) },
  { op: 'constant', label: 'constant fill', inputs: [], run: (o) => o.constant(0.25, [2, 2]) },
  { op: 'constant', label: 'constant int32 via cast', inputs: [], run: (o) => o.cast(o.constant([3, -1, 7], [3], 'int32'), 'float32') },
  ...(
    [
      [false, false, [4, 3], [3, 5]],
      [true, false, [3, 4], [3, 5]],
      [false, true, [4, 3], [5, 3]],
      [true, true, [3, 4], [5, 3]],
    ] as const
  ).map(
    ([ta, tb, sa, sb]): Case => ({
      op: 'matmul',
      label: `matmul transposeA=${ta} transposeB=${tb}`,
      inputs: [f32(sa), f32(sb)],
      run: (o, a, b) => o.matmul(a!, b!, { transposeA: ta, transposeB: tb }),
      grad: [0, 1],
    }),
  ),
  ...binaryCases,
  {
    op: 'greater',
    label: 'greater (as where mask)',
    inputs: [f32([3, 4]), f32([4])],
    run: (o, a, b) => o.where(o.greater(a!, b!), o.constant(1, [3, 4]), o.constant(0, [3, 4])),
  },
  {
    op: 'less',
    label: 'less (as where mask)',
    inputs: [f32([3, 4]), f32([3, 4])],
    run: (o, a, b) => o.where(o.less(a!, b!), o.constant(1, [3, 4]), o.constant(0, [3, 4])),
  },
  {
    op: 'where',
    label: 'where',
    inputs: [f32([3, 4]), f32([3, 4]), f32([3, 4])],
    run: (o, c, a, b) => o.where(o.greater(c!, o.scalar(0)), a!, b!),
    grad: [1, 2],
  },
  // The condition depends on a differentiated input: comparisons must have a (zero) gradient.
  {
    op: 'greater',
    label: 'where(a > 0, a², b) differentiated through the condition',
    inputs: [f32([3, 4]), f32([3, 4])],
    run: (o, a, b) => o.where(o.greater(a!, o.scalar(0)), o.mul(a!, a!), b!),
    grad: [0, 1],
  },
  {
    op: 'less',
    label: 'where(a < b, a, −b) differentiated through the condition',
    inputs: [f32([3, 4]), f32([3, 4])],
    run: (o, a, b) => o.where(o.less(a!, b!), a!, o.neg(b!)),
    grad: [0, 1],
  },
  ...unaryCases,
  { op: 'acos', label: 'acos near ±1', inputs: [f32([4], { values: [-0.999, -0.99, 0.99, 0.999] })], run: (o, x) => o.acos(x!), grad: [0] },
  { op: 'floor', label: 'floor', inputs: [f32([2, 5], 'offInteger')], run: (o, x) => o.floor(x!), grad: [0], zeroGrad: true },
  { op: 'clip', label: 'clip [-0.5, 0.5]', inputs: [f32([3, 5], 'offInteger')], run: (o, x) => o.clip(x!, -0.5, 0.5), grad: [0] },
  ...reduceCases,
  { op: 'logSumExp', label: 'logSumExp large values (no overflow)', inputs: [f32([2, 4], 'large')], run: (o, x) => o.logSumExp(x!, 1), grad: [0] },
  { op: 'reshape', label: 'reshape [2,6] → [3,4]', inputs: [f32([2, 6])], run: (o, x) => o.reshape(x!, [3, 4]), grad: [0] },
  { op: 'reshape', label: 'reshape [6] → [-1, 1]', inputs: [f32([6])], run: (o, x) => o.reshape(x!, [-1, 1]), grad: [0] },
  { op: 'gatherPerRow', label: 'gatherPerRow [4,5]', inputs: [f32([4, 5]), i32([4], { indices: 5 })], run: (o, x, i) => o.gatherPerRow(x!, i!), grad: [0] },
  { op: 'oneHot', label: 'oneHot depth 6', inputs: [i32([5], { indices: 6 })], run: (o, i) => o.oneHot(i!, 6) },
  { op: 'stopGradient', label: 'stopGradient', inputs: [f32([3, 3])], run: (o, x) => o.stopGradient(x!), grad: [0], zeroGrad: true },
  { op: 'cast', label: 'cast bool → float32 (comparisons as 0/1)', inputs: [f32([3, 4]), f32([4])], run: (o, a, b) => o.cast(o.greater(a!, b!), 'float32') },
  {
    op: 'cast',
    label: 'cast float32 → int32 truncates',
    inputs: [f32([6], { values: [2.7, -2.7, 0.2, -0.2, 5, -5] })],
    run: (o, x) => o.cast(o.cast(x!, 'int32'), 'float32'),
  },
];

function generate(spec: InputSpec, rng: ReturnType<typeof seededRandom>): number[] {
  const n = spec.shape.reduce((p, d) => p * d, 1);
  const g = spec.gen;
  const draw = (): number => {
    if (typeof g === 'object') return 'indices' in g ? rng.int(g.indices) : 0;
    switch (g) {
      case 'normal':
        return rng.normal();
      case 'positive':
        return rng.uniform(0.2, 3);
      case 'unit':
        return rng.uniform(-0.95, 0.95);
      case 'large':
        return rng.uniform(80, 100);
      case 'offInteger':
        return Math.floor(rng.uniform(-3, 3)) + rng.uniform(0.1, 0.9);
    }
  };
  const values = Array.from({ length: n }, draw);
  if (typeof g === 'object' && 'values' in g) return [...g.values];
  // Round to float32 so that both sides see the same inputs.
  return Array.from(Float32Array.from(values));
}

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
 * every op's value against the float64 reference backend and, where the backend
 * differentiates, its gradient against central differences of the reference.
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
 * backend package's `*.test.ts`.
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
  const ref = referenceBackend();
  const refOps = createOps(ref);
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

    CASES.forEach((c, index) => {
      const rng = seededRandom(1000 + index);
      const values = c.inputs.map((s) => generate(s, rng));
      const weights = Array.from({ length: 64 }, () => rng.uniform(-1, 1));
      const refInputs = c.inputs.map((s, i) => new RefTensor(s.shape, s.dtype ?? 'float32', Float64Array.from(values[i]!)));
      const expected = c.run(refOps, ...refInputs);

      it(`${c.label}: value`, async () => {
        const actual = await scope(() => {
          const xs = c.inputs.map((s, i) => h.tensor(values[i]!, s.shape, s.dtype ?? 'float32'));
          const out = c.run(ops, ...xs);
          expect([...h.backend.shape(out)], 'shape').toEqual([...expected.shape]);
          return h.read(out);
        });
        close(Array.from(actual), expected.data, valueTol, `${c.label} value`);
      });

      if (c.grad && target.differentiable) {
        const wrt = c.grad;
        it(`${c.label}: gradient`, async () => {
          expect(
            h.backend.supports.gradients && typeof h.gradients === 'function',
            'a differentiable target has supports.gradients and harness.gradients',
          ).toBe(true);
          const n = expected.data.length;
          const w = weights.slice(0, n).concat(Array.from({ length: Math.max(0, n - weights.length) }, (_, i) => Math.cos(i)));
          const weighted = <U>(o: Ops<U>, out: U): U => o.sum(o.reshape(o.mul(out, o.constant(w, o.shape(out))), [-1]), 0);
          const actual = await scope(() => {
            const xs = c.inputs.map((s, i) => h.tensor(values[i]!, s.shape, s.dtype ?? 'float32'));
            const f = (...diff: T[]): T => {
              const all = xs.map((x, i) => (wrt.includes(i) ? diff[wrt.indexOf(i)]! : x));
              return weighted(ops, c.run(ops, ...all));
            };
            return h.gradients!(
              f,
              wrt.map((i) => xs[i]!),
            );
          });
          wrt.forEach((inputIndex, k) => {
            const base = values[inputIndex]!;
            const numeric = base.map((_, j) => {
              if (c.zeroGrad) return 0;
              const at = (delta: number): number => {
                const shifted = refInputs.map((t, i) =>
                  i === inputIndex
                    ? new RefTensor(
                        t.shape,
                        t.dtype,
                        Float64Array.from(base, (v, q) => (q === j ? v + delta : v)),
                      )
                    : t,
                );
                return weighted(refOps, c.run(refOps, ...shifted)).data[0]!;
              };
              const hstep = 1e-6 * Math.max(1, Math.abs(base[j]!));
              return (at(hstep) - at(-hstep)) / (2 * hstep);
            });
            close(Array.from(actual[k]!), numeric, gradTol, `${c.label} d/dinput${inputIndex}`);
          });
        });
      }
    });
  });
}
