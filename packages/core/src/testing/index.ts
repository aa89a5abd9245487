/**
 * `@marginkit/core/testing`: the backend conformance suite (run it with vitest from a backend
 * package), the float64 reference backend it checks against, and a seeded random source.
 *
 * @example
 * ```ts
 * import { referenceBackend } from '@marginkit/core/testing';
 * console.log(referenceBackend().name); // 'reference-f64'
 * ```
 *
 * @packageDocumentation
 */
export { type ConformanceHarness, type ConformanceTarget, type Tol, conformanceCoverage, conformanceSuite } from './conformance.js';
export { type FixtureTensor, type LossFixtureCase, type LossFixtures, compareNormwise, lossParitySuite } from './loss-parity.js';
export { type Random, seededRandom } from './random.js';
export { type StepFixtureCase, type StepFixtures, stepParitySuite } from './step-parity.js';
export { RefTensor, referenceBackend, referenceTarget } from './reference-backend.js';
