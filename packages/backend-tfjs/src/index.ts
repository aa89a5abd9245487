/**
 * `@marginkit/backend-tfjs`: run marginkit losses on TensorFlow.js (any of its backends), and
 * use the margin head as a `tf.layers.Layer` in `model.fit`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * const backend = tfjsBackend(tf);
 * ```
 *
 * @packageDocumentation
 */
export { type TfModule, tfjsBackend } from './backend.js';
export { type MarginHead, type MarginHeadArgs, type MarginHeadClass, type TfLayersModule, logitsCrossEntropy, marginHeadLayer } from './layer.js';
