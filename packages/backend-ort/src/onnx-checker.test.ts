import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arcface, combinedMargin, cosface, marginSoftmaxLoss, sphereface } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';
import { describe, expect, it } from 'vitest';
import { ortBackend } from './backend.js';
import { headTrainer } from './head-trainer.js';
import { adam, sgd } from './optimizers.js';
import { ortModule } from '../test/ort-variants.js';

// onnx.checker.check_model(full_check=True) from Debian's python3-onnx: the independent judge of
// the models we write. Without it the suite skips with a notice; CI installs it and requires it.
const PYTHON = '/usr/bin/python3';
const hasChecker = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasChecker) {
  const message = 'onnx checker: /usr/bin/python3 cannot import onnx (apt-get install python3-onnx)';
  if (process.env['MARGINKIT_REQUIRE_ONNX_CHECKER']) throw new Error(message);
  console.warn(`\n*** ${message}; these tests are skipped here. CI installs it and runs them. ***\n`);
}

const CHECK = `
import sys, onnx
for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    print(path.rsplit('/', 1)[-1], 'ok', m.opset_import[0].version)
`;

describe.runIf(hasChecker)('exported models pass onnx.checker (full_check) of python3-onnx', () => {
  it('losses, their gradient graphs, head logits and training steps', async () => {
    const backend = ortBackend(ortModule('node'));
    const models: Record<string, Uint8Array> = {};
    const margins = {
      arcface: arcface(),
      cosface: cosface(),
      sphereface: sphereface(),
      combined: combinedMargin({ m1: 1.2, m2: 0.3, m3: 0.2 }),
      straightThrough: arcface({ gradient: 'straight-through' }),
    };
    for (const [name, margin] of Object.entries(margins)) {
      const x = backend.placeholder('embeddings', [-1, 16]);
      const w = backend.placeholder('centers', [10, 16]);
      const y = backend.placeholder('labels', [-1], 'int32');
      const loss = marginSoftmaxLoss(backend, { margin })(x, w, y);
      models[`${name}-loss`] = backend.exportOnnx({ loss });
      const [dx, dw] = backend.gradients(loss, [x, w]);
      models[`${name}-gradients`] = backend.exportOnnx({ loss, dEmbeddings: dx!, dCenters: dw! });
    }
    {
      // The masked target column of core's chunked loss, fused to one ScatterElements (reduction 'add').
      const o = backend.tensorOps;
      const z = backend.placeholder('z', [4, 10]);
      const col = o.cast(o.clip(backend.placeholder('col', [4]), 0, 9), 'int32');
      const mask = backend.placeholder('mask', [4, 1]);
      models['masked-column'] = backend.exportOnnx({ masked: o.sub(z, o.mul(o.oneHot(col, 10), mask)) });
    }
    const rng = seededRandom(3);
    for (const optimizer of [sgd({ learningRate: 0.1, momentum: 0.9 }), adam()]) {
      const trainer = await headTrainer(backend, {
        loss: marginSoftmaxLoss(backend, { margin: arcface() }),
        centers: Float32Array.from({ length: 80 }, () => rng.normal()),
        classes: 10,
        dim: 8,
        optimizer,
      });
      models[`step-${optimizer.kind}`] = trainer.model();
      models['logits-frozen'] = trainer.logitsModel('initializer');
      models['logits-input'] = trainer.logitsModel('input');
      await trainer.dispose();
    }
    await backend.dispose();
    const dir = mkdtempSync(join(tmpdir(), 'marginkit-onnx-'));
    try {
      const paths = Object.entries(models).map(([name, bytes]) => {
        const path = join(dir, `${name}.onnx`);
        writeFileSync(path, bytes);
        return path;
      });
      const out = execFileSync(PYTHON, ['-c', CHECK, ...paths], { encoding: 'utf8' });
      expect(out.trim().split('\n')).toEqual(Object.keys(models).map((name) => `${name}.onnx ok 17`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
