/**
 * Vitest setup of the projects that run TensorFlow.js in Node (see vitest.config.ts): silences
 * tfjs's own log with its `PROD` flag.
 *
 * In Node, tfjs-backend-cpu's first tensor write calls tfjs-core's `log.warn` with "Hi, looks like
 * you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node
 * backend…", which prints unless the `IS_TEST` or `PROD` flag is set. In tfjs-core 4.22 `PROD`
 * gates nothing else (only `log.warn`, `log.log` and the environment's flag notices), while
 * `IS_TEST` also turns on a per-kernel leak check that reports a false leak in
 * `tf.losses.softmaxCrossEntropy` (the tf.layers head's model.fit). The flag lives on tfjs's
 * global engine (`globalThis._tfengine`), so every copy of tfjs-core in the test sees it.
 */
import { env } from '@tensorflow/tfjs-core';

env().set('PROD', true);
