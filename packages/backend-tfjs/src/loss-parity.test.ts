import { readFileSync } from 'node:fs';
import { type LossFixtures, lossParitySuite } from '@marginkit/core/testing';
import { tfjsTargets } from '../test/tf-variants.js';

const fixtures: LossFixtures = JSON.parse(readFileSync(new URL('../../../fixtures/margin-losses.json', import.meta.url), 'utf8'));

// Loss, per-sample losses and both gradients on tfjs (float32) against the float64 PyTorch
// reference, within 1e-4 relative (normwise), for every margin x fallback x gradient policy.
lossParitySuite(tfjsTargets(), fixtures, 1e-4);
