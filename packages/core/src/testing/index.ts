/**
 * `@marginkit/core/testing`: the backend conformance suite (run it with vitest from a backend
 * package; it checks every op's value and gradient against float64 values from PyTorch), a float64
 * reference backend in plain TypeScript, a seeded random source, and assertions that bad input
 * gets a typed error naming the argument.
 *
 * @example
 * ```ts
 * import { referenceBackend } from '@marginkit/core/testing';
 * console.log(referenceBackend().name); // 'reference-f64'
 * ```
 *
 * @packageDocumentation
 */
export { type BadInputCase, type ErrorClass, type TypedErrorExpectation, expectTypedError, expectTypedRejection } from './bad-input.js';
export { type ConformanceHarness, type ConformanceTarget, type Tol, conformanceCoverage, conformanceSuite } from './conformance.js';
export { type FixtureTensor, type LossFixtureCase, type LossFixtures, compareNormwise, lossParitySuite } from './loss-parity.js';
export { type Random, seededRandom } from './random.js';
export { type StepFixtureCase, type StepFixtures, stepParitySuite } from './step-parity.js';
export { RefTensor, referenceBackend, referenceTarget } from './reference-backend.js';
