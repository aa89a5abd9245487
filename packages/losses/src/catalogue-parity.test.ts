import { readFileSync } from 'node:fs';
import { createRegistry } from '@marginkit/core';
import { type StepFixtures, referenceTarget, stepParitySuite } from '@marginkit/core/testing';
import { ortTargets } from '../../backend-ort/test/ort-variants.js';
import { tfjsTargets } from '../../backend-tfjs/test/tf-variants.js';
import { registerCatalogue } from './registry.js';

const fixtures: StepFixtures = JSON.parse(readFileSync(new URL('../../../fixtures/catalogue-losses.json', import.meta.url), 'utf8'));
const registry = registerCatalogue(createRegistry());

// Every catalogue loss (and sub-centres with ArcFace and CosFace) against the independent float64
// PyTorch implementation of each paper's formula (tools/make_catalogue_fixtures.py): loss,
// per-sample losses, auxiliary loss, next state and both gradients.
stepParitySuite([referenceTarget()], fixtures, 1e-9, registry);
stepParitySuite(tfjsTargets(), fixtures, 1e-4, registry);
stepParitySuite(ortTargets(), fixtures, 1e-4, registry);
