import { conformanceSuite } from '@marginkit/core/testing';
import { ortTargets } from '../test/ort-variants.js';

// Every op's value and gradient on onnxruntime-node and onnxruntime-web (wasm, in Node), against the float64 reference.
conformanceSuite(ortTargets());
