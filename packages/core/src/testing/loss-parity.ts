import { expect } from 'vitest';
import { createRegistry } from '../registry.js';
import type { ConformanceTarget } from './conformance.js';
import { perTargetSuite } from './per-target.js';

/** A tensor in a fixture: shape and row-major values. */
export interface FixtureTensor {
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Row-major float64 values. */
  readonly data: readonly number[];
}

/** One golden case: a loss config, inputs, and the float64 loss and gradients. */
export interface LossFixtureCase {
  /** A readable name: margin, parameters and input kind. */
  readonly name: string;
  /** A loss config for `Registry.loss`. */
  readonly config: {
    /** The margin config, e.g. `{ type: 'arcface', m: 0.5, fallback: 'linear' }`. */
    readonly margin: Readonly<Record<string, unknown>>;
    /** The scale s. */
    readonly scale: number;
    /** The reduction of `loss` (per-sample losses are also given). */
    readonly reduction: 'mean' | 'sum';
  };
  /** Embeddings [B, D]. */
  readonly embeddings: FixtureTensor;
  /** Centres [C, D]. */
  readonly centers: FixtureTensor;
  /** Labels [B]. */
  readonly labels: readonly number[];
  /** The reduced loss. */
  readonly loss: number;
  /** Per-sample losses [B]. */
  readonly perSample: readonly number[];
  /** d loss / d embeddings, row-major. */
  readonly gradEmbeddings: readonly number[];
  /** d loss / d centres, row-major. */
  readonly gradCenters: readonly number[];
}

/** The fixture file written by `tools/make_fixtures.py`. */
export interface LossFixtures {
  /** What produced the file. */
  readonly generator: string;
  /** The acos clamp ε the reference used. */
  readonly epsilon: number;
  /** The normalisation eps the reference used. */
  readonly normEpsilon: number;
  /** The cases. */
  readonly cases: readonly LossFixtureCase[];
}

/**
 * Normwise relative comparison: every |actual[i] − expected[i]| ≤ rtol·max(|expected[i]|, ‖expected‖∞),
 * and every actual value finite. Returns a message for the first violation, or `undefined`.
 * Normwise, because entries near zero of a float32 gradient carry the absolute rounding error of
 * the whole tensor and have no meaningful elementwise relative error.
 *
 * @param actual - computed values.
 * @param expected - reference values.
 * @param rtol - the relative tolerance.
 * @returns `undefined` when close, else a description of the first mismatch.
 *
 * @example
 * ```ts
 * import { compareNormwise } from '@marginkit/core/testing';
 * console.log(compareNormwise([1.00001, 0], [1, 1e-9], 1e-4)); // undefined
 * ```
 */
export function compareNormwise(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ expected ${expected.length}`;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(a)) return `[${i}] is ${a} (expected ${e})`;
    if (Math.abs(a - e) > rtol * Math.max(Math.abs(e), scale)) {
      return `[${i}] = ${a}, expected ${e} (|diff| ${Math.abs(a - e).toExponential(2)} > ${rtol} × ${Math.max(Math.abs(e), scale).toExponential(2)})`;
    }
  }
  return undefined;
}

/**
 * Registers, for each backend variant, one test per golden case: the loss, the per-sample losses
 * and (for differentiable targets) the gradients with respect to embeddings and centres must match
 * the float64 PyTorch fixtures within `rtol` (normwise, see {@link compareNormwise}).
 *
 * @param targets - backend variants, as for the conformance suite.
 * @param fixtures - the parsed `fixtures/margin-losses.json`.
 * @param rtol - relative tolerance; 1e-4 for float32 backends.
 *
 * @example
 * ```ts
 * // In a backend's loss-parity.test.ts (fixtures/ is in the marginkit repository):
 * import { readFileSync } from 'node:fs';
 * import { lossParitySuite, referenceTarget } from '@marginkit/core/testing';
 * const fixtures = JSON.parse(readFileSync('fixtures/margin-losses.json', 'utf8'));
 * lossParitySuite([referenceTarget()], fixtures, 1e-9);
 * ```
 */
export function lossParitySuite<T>(targets: readonly ConformanceTarget<T>[], fixtures: LossFixtures, rtol: number): void {
  const registry = createRegistry();
  perTargetSuite('loss parity with float64 fixtures', targets, fixtures.cases, async (h, c, target) => {
    const scope = <R>(fn: () => R): R => (h.scope ? h.scope(fn) : fn());
    const loss = registry.loss(h.backend, c.config);
    const perSampleLoss = registry.loss(h.backend, { ...c.config, reduction: 'none' });
    const inputs = () =>
      [
        h.tensor(c.embeddings.data, c.embeddings.shape, 'float32'),
        h.tensor(c.centers.data, c.centers.shape, 'float32'),
        h.tensor(c.labels, [c.labels.length], 'int32'),
      ] as const;
    const value = await scope(() => {
      const [x, w, y] = inputs();
      return h.read(loss(x, w, y));
    });
    const fail = (what: string, msg: string | undefined): void => {
      if (msg) expect.fail(`${c.name}: ${what} ${msg}`);
    };
    fail('loss', compareNormwise(Array.from(value), [c.loss], rtol));
    const per = await scope(() => {
      const [x, w, y] = inputs();
      return h.read(perSampleLoss(x, w, y));
    });
    fail('per-sample loss', compareNormwise(Array.from(per), c.perSample, rtol));
    if (target.differentiable) {
      expect(typeof h.gradients, 'harness.gradients').toBe('function');
      const [gx, gw] = await scope(() => {
        const [x, w, y] = inputs();
        return h.gradients!((xx, ww) => loss(xx!, ww!, y), [x, w]);
      });
      fail('d/dembeddings', compareNormwise(Array.from(gx!), c.gradEmbeddings, rtol));
      fail('d/dcenters', compareNormwise(Array.from(gw!), c.gradCenters, rtol));
    }
  });
}
