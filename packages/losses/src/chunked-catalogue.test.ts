import { InvalidArgumentError, arcface, chunkedMarginSoftmaxStep } from '@marginkit/core';
import { expectTypedRejection } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { expectTfjsParity } from '../test/chunked-parity.js';
import { adacos } from './margins/adacos.js';
import { adaface } from './margins/adaface.js';
import { curricularface } from './margins/curricularface.js';
import { elasticface } from './margins/elasticface.js';
import { magface } from './margins/magface.js';

const margins = [0.45, 0.52, 0.5, 0.61, 0.38, 0.49, 0.55, 0.47];

// Each catalogue margin through the chunked step against the unchunked marginSoftmaxStep on tfjs cpu:
// loss, per-sample losses, auxiliary loss, next state and both gradients, normwise within 1e-5.
describe('chunkedMarginSoftmaxStep runs the catalogue exactly', () => {
  it.each([4, 1, 11])('AdaFace (class-local clipped cosines, μ/σ state from the norms), chunks of %i', (classChunk) =>
    expectTfjsParity({ margin: adaface(), classChunk, spread: 4, state: { batchMean: [18], batchStd: [60] } }),
  );
  it('AdaFace, an evaluation step (state kept)', () =>
    expectTfjsParity({ margin: adaface(), classChunk: 3, state: { batchMean: [2], batchStd: [1] }, training: false }));
  it.each([4, 1])('ElasticFace-Arc (per-step margins), chunks of %i', (classChunk) =>
    expectTfjsParity({ margin: elasticface(), classChunk, inputs: { margins } }),
  );
  it('ElasticFace-Cos+ (margins sorted by the rank of c_y over the batch: needs every row’s true c_y)', () =>
    expectTfjsParity({ margin: elasticface({ variant: 'cos', plus: true }), classChunk: 3, inputs: { margins } }));
  it.each([2, 3])('ElasticFace-Arc+ (its margins, and so its gradient, follow the rank of every row’s true c_y), chunks of %i', (classChunk) =>
    expectTfjsParity({ margin: elasticface({ plus: true }), classChunk, inputs: { margins } }),
  );
  it.each([4, 11])('MagFace (auxiliary loss, added once per row), chunks of %i', (classChunk) =>
    expectTfjsParity({ margin: magface(), classChunk, spread: 12, scale: 64 }),
  );
  it.each([4, 1, 11])('CurricularFace (class-local hard negatives c_j·(t + c_j), state t), chunks of %i', (classChunk) =>
    expectTfjsParity({ margin: curricularface(), classChunk, state: { t: [0.4] } }),
  );
  it('CurricularFace with a large t: many hard negatives reweighted', () =>
    expectTfjsParity({ margin: curricularface({ m: 0.5 }), classChunk: 2, state: { t: [2] }, scale: 32 }));
  it.each([1, 3])('sub-center ArcFace (K = 3, max over sub-centres), chunks of %i', (classChunk) =>
    expectTfjsParity({ margin: arcface(), classChunk, subCenters: 3 }),
  );

  it('AdaCos gets a typed error saying why: its scale needs every class’s cosine', async () => {
    const backend = tfjsBackend(tf);
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 1);
    const w = tf.randomNormal([8, 6], 0, 1, 'float32', 2);
    const step = chunkedMarginSoftmaxStep(backend, { margin: adacos(), classChunk: 4 });
    try {
      await expectTypedRejection(() => step(x, tf.split(w, 2), [0, 1, 5, 7]), {
        error: InvalidArgumentError,
        argument: 'chunkedMarginSoftmaxStep.margin',
        message: /margin 'adacos' cannot run over class chunks: .*AdaCos: its scale needs Σ_j exp\(s·c_j\)/,
      });
    } finally {
      tf.dispose([x, w]);
    }
  });
});
