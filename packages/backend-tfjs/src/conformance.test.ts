import { conformanceSuite } from '@marginkit/core/testing';
import { tfjsTargets } from '../test/tf-variants.js';

// Every op's value and gradient on tfjs cpu and wasm, against the float64 reference.
conformanceSuite(tfjsTargets());
