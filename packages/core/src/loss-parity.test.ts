import { readFileSync } from 'node:fs';
import { RefTensor, type LossFixtures, lossParitySuite, referenceBackend } from './testing/index.js';

// The float64 reference backend must reproduce the independent PyTorch float64 fixtures to ~1e-9.
const fixtures: LossFixtures = JSON.parse(readFileSync(new URL('../../../fixtures/margin-losses.json', import.meta.url), 'utf8'));

lossParitySuite(
  [
    {
      name: 'reference-f64',
      differentiable: false,
      setup: async () => ({
        backend: referenceBackend(),
        tensor: (values, shape, dtype) => new RefTensor(shape, dtype, Float64Array.from(values)),
        read: (t) => t.data,
      }),
    },
  ],
  fixtures,
  1e-9,
);
