/**
 * Vitest setup of the projects that run TensorFlow.js in Node (see vitest.config.ts): sets tfjs's
 * own test flag, `IS_TEST`, as tfjs's test harness does (jasmine_util's setTestEnvs).
 *
 * In Node, tfjs-backend-cpu's first tensor write calls tfjs-core's `log.warn` with "Hi, looks like
 * you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node
 * backend…", and `log.warn` prints unless the `IS_TEST` or `PROD` flag is set. `IS_TEST` is the
 * one meant for tests: besides silencing tfjs's log it makes the engine check every kernel for
 * leaked data ids (`PROD` only silences the log). The flag lives on tfjs's global engine
 * (`globalThis._tfengine`), so every copy of tfjs-core in the test sees it.
 */
import { env } from '@tensorflow/tfjs-core';

env().set('IS_TEST', true);
