import { describe, expect, it } from 'vitest';
import { OP_NAMES } from './ops.js';
import { conformanceCoverage, conformanceSuite, referenceTarget } from './testing/index.js';

describe('conformance suite', () => {
  it('has a case for every op of the op set', () => {
    expect(conformanceCoverage()).toEqual([...OP_NAMES]);
  });
});

// The float64 reference backend against PyTorch's float64 values on the same inputs: both compute
// in float64, so they agree to rounding (values only: the reference does not differentiate).
conformanceSuite([{ ...referenceTarget(), tolerance: { value: { rtol: 1e-12, atol: 1e-14 } } }]);
