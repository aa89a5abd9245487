import { expect } from 'vitest';
import type { Registry } from '../registry.js';
import type { ConformanceHarness, ConformanceTarget } from './conformance.js';
import { type FixtureTensor, compareNormwise } from './loss-parity.js';
import { perTargetSuite } from './per-target.js';

/** One golden case of a stateful loss step: config, inputs, state in, and the float64 results. */
export interface StepFixtureCase {
  /** A readable name. */
  readonly name: string;
  /** A loss config for `Registry.step` (with `subCenters`). */
  readonly config: {
    /** The margin config. */
    readonly margin: Readonly<Record<string, unknown>>;
    /** The scale s. */
    readonly scale: number;
    /** The reduction. */
    readonly reduction: 'mean' | 'sum';
    /** K sub-centres per class. */
    readonly subCenters: number;
  };
  /** Whether the step trains (the state advances). */
  readonly training: boolean;
  /** Embeddings [B, D]. */
  readonly embeddings: FixtureTensor;
  /** Centres [C·K, D]. */
  readonly centers: FixtureTensor;
  /** Labels [B]; −1 is ignored. */
  readonly labels: readonly number[];
  /** The state fed in, by name (row-major values). */
  readonly state: Readonly<Record<string, readonly number[]>>;
  /** The per-step inputs fed in, by name ([B] each). */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** The reduced loss. */
  readonly loss: number;
  /** Per-sample losses [B]. */
  readonly perSample: readonly number[];
  /** The reduced auxiliary loss, or null. */
  readonly auxiliaryLoss: number | null;
  /** The next state, by name. */
  readonly nextState: Readonly<Record<string, readonly number[]>>;
  /** d loss / d embeddings, row-major. */
  readonly gradEmbeddings: readonly number[];
  /** d loss / d centres, row-major. */
  readonly gradCenters: readonly number[];
}

/** The file written by `tools/make_catalogue_fixtures.py`. */
export interface StepFixtures {
  /** What produced the file. */
  readonly generator: string;
  /** The cases. */
  readonly cases: readonly StepFixtureCase[];
}

/**
 * Registers, for each backend variant, one test per golden step case: loss, per-sample losses,
 * auxiliary loss, next state and (for differentiable targets) both gradients must match the float64
 * fixtures within `rtol` (normwise). The registry must know the fixtures' margin types (for the
 * catalogue, `registerCatalogue(createRegistry())` from `@marginkit/losses`). Rows labelled −1 are
 * ignored (`ignoreIndex: -1`).
 *
 * @param targets - backend variants.
 * @param fixtures - the parsed fixture file.
 * @param rtol - relative tolerance; 1e-4 for float32 backends.
 * @param registry - the registry that builds the steps.
 *
 * @example
 * ```ts
 * // In a test file (fixtures/ is in the marginkit repository):
 * import { readFileSync } from 'node:fs';
 * import { createRegistry } from '@marginkit/core';
 * import { referenceTarget, stepParitySuite } from '@marginkit/core/testing';
 * import { registerCatalogue } from '@marginkit/losses';
 * const fixtures = JSON.parse(readFileSync('fixtures/catalogue-losses.json', 'utf8'));
 * stepParitySuite([referenceTarget()], fixtures, 1e-9, registerCatalogue(createRegistry()));
 * ```
 */
export function stepParitySuite<T>(targets: readonly ConformanceTarget<T>[], fixtures: StepFixtures, rtol: number, registry: Registry): void {
  perTargetSuite('step parity with float64 fixtures', targets, fixtures.cases, (h, c, target) => checkStepCase(h, c, rtol, registry, target.differentiable));
}

async function checkStepCase<T>(h: ConformanceHarness<T>, c: StepFixtureCase, rtol: number, registry: Registry, differentiable: boolean): Promise<void> {
  const scope = <R>(fn: () => R): R => (h.scope ? h.scope(fn) : fn());
  const step = registry.step(h.backend, { ...c.config, ignoreIndex: -1 });
  const specs = step.margin.state ?? {};
  const fail = (what: string, msg: string | undefined): void => {
    if (msg) expect.fail(`${c.name}: ${what} ${msg}`);
  };
  const tensors = () => {
    const x = h.tensor(c.embeddings.data, c.embeddings.shape, 'float32');
    const w = h.tensor(c.centers.data, c.centers.shape, 'float32');
    const y = h.tensor(c.labels, [c.labels.length], 'int32');
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, h.tensor(v, specs[k]?.shape ?? [v.length], 'float32')]));
    const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, h.tensor(v, [v.length], 'float32')]));
    return { x, w, y, options: { state, inputs, training: c.training } };
  };
  const stateKeys = Object.keys(c.nextState).sort();
  expect(Object.keys(specs).sort(), `${c.name}: state entries`).toEqual(stateKeys);
  const read = await scope(async () => {
    const { x, w, y, options } = tensors();
    const r = step(x, w, y, options);
    const outs = [r.loss, r.perSample, ...stateKeys.map((k) => r.state[k]!), ...(r.auxiliaryLoss === undefined ? [] : [r.auxiliaryLoss])];
    return Promise.all(outs.map(async (t) => Array.from(await h.read(t))));
  });
  fail('loss', compareNormwise(read[0]!, [c.loss], rtol));
  fail('per-sample loss', compareNormwise(read[1]!, c.perSample, rtol));
  stateKeys.forEach((k, i) => {
    fail(`next state ${k}`, compareNormwise(read[2 + i]!, c.nextState[k]!, rtol));
  });
  const aux = read[2 + stateKeys.length];
  expect(aux === undefined, `${c.name}: has an auxiliary loss`).toBe(c.auxiliaryLoss === null);
  if (aux !== undefined) fail('auxiliary loss', compareNormwise(aux, [c.auxiliaryLoss!], rtol));
  if (!differentiable) return;
  const [gx, gw] = await scope(() => {
    const { x, w, y, options } = tensors();
    return h.gradients!((xx, ww) => step(xx!, ww!, y, options).loss, [x, w]);
  });
  fail('d/dembeddings', compareNormwise(Array.from(gx!), c.gradEmbeddings, rtol));
  fail('d/dcenters', compareNormwise(Array.from(gw!), c.gradCenters, rtol));
}
