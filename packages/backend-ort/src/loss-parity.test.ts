import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LossFixtures, lossParitySuite } from '@marginkit/core/testing';
import { ortTargets } from '../test/ort-variants.js';

const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('../../../fixtures/margin-losses.json', import.meta.url)), 'utf8')) as LossFixtures;

// Loss, per-sample losses and both gradients (from the VJP graphs) against the float64 PyTorch fixtures.
lossParitySuite(ortTargets(), fixtures, 1e-4);
