import { describe, expect, it } from 'vitest';
import { OP_NAMES } from './ops.js';
import { conformanceCoverage, conformanceSuite, referenceTarget } from './testing/index.js';

describe('conformance suite', () => {
  it('has a case for every op of the op set', () => {
    expect(conformanceCoverage()).toEqual([...OP_NAMES]);
  });
});

// The reference backend is the oracle; it must pass its own suite (values only).
conformanceSuite([referenceTarget()]);
