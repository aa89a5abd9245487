/**
 * One forward+backward step of the ArcFace head (loss gradients with respect to embeddings and
 * centres) on tfjs cpu and wasm, against PyTorch CPU autograd (2 threads) in the same run.
 *
 *   npm run bench -- loss     (from the repository root; `npm run bench` runs everything)
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { arcface, marginSoftmaxLoss } from '@marginkit/core';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { medianSeconds, pytorchStep } from './step-timing.js';

export async function lossStepBench(): Promise<Record<string, unknown>> {
  const [B, D, C, runs] = [256, 512, 2000, 5];
  const flops = 6 * B * D * C; // three [B,D]x[D,C]-sized matmuls: forward, and two in backward
  const out: Record<string, unknown> = { batch: B, dim: D, classes: C };
  console.log(`\nArcFace loss step, forward + backward, B=${B}, D=${D}, C=${C} (median of ${runs})`);
  const require = createRequire(import.meta.url);
  setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'dist')}/`);
  const times: Record<string, number> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await tf.setBackend(backend);
    const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin: arcface({ m: 0.5 }), scale: 64, validate: 'shapes' });
    const x = tf.randomNormal([B, D], 0, 1, 'float32', 1);
    const w = tf.randomNormal([C, D], 0, 1, 'float32', 2);
    const y = tf.randomUniform([B], 0, C, 'int32', 3);
    const step = () =>
      tf.tidy(() => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, y))([x, w]);
        grads[0]!.dataSync();
        grads[1]!.dataSync();
      });
    times[backend] = await medianSeconds(runs, 1, step);
    tf.dispose([x, w, y]);
    console.log(`  tfjs ${backend}: ${times[backend]!.toFixed(3)} s (${(flops / times[backend]! / 1e9).toFixed(2)} GFLOP/s in the matmuls' terms)`);
  }
  out['tfjs'] = times;
  const ref = pytorchStep({ B, D, C }, runs, 1);
  if (ref) {
    out['pytorch'] = ref;
    console.log(`  PyTorch CPU autograd (2 threads): ${ref.seconds.toFixed(3)} s (${(flops / ref.seconds / 1e9).toFixed(2)} GFLOP/s)`);
    for (const [k, v] of Object.entries(times)) console.log(`  ratio tfjs ${k} / PyTorch: ${(v / ref.seconds).toFixed(2)}`);
  }
  return out;
}
