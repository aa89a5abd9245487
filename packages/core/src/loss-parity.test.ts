import { readFileSync } from 'node:fs';
import { type LossFixtures, lossParitySuite, referenceTarget } from './testing/index.js';

// The float64 reference backend must reproduce the independent PyTorch float64 fixtures to ~1e-9.
const fixtures: LossFixtures = JSON.parse(readFileSync(new URL('../../../fixtures/margin-losses.json', import.meta.url), 'utf8'));

lossParitySuite([referenceTarget()], fixtures, 1e-9);
