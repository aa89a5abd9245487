/**
 * One forward+backward step of the ArcFace head at face-recognition scale (B=256, D=512,
 * C=100,000): the traced loss and its VJP gradient graph on onnxruntime-node (2 intra-op threads)
 * and onnxruntime-web (wasm, 2 threads), against PyTorch CPU autograd (2 threads) in the same run.
 *
 *   npm run bench -- ort      (from the repository root)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OrtModule, ortBackend } from '@marginkit/backend-ort';
import { arcface, marginSoftmaxLoss } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';

export async function ortStepBench(sizes = { B: 256, D: 512, C: 100_000 }, runs = 5, warmup = 3): Promise<Record<string, unknown>> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { B, D, C } = sizes;
  const flops = 6 * B * D * C;
  console.log(`\nArcFace head step on ONNX Runtime, forward + backward, B=${B}, D=${D}, C=${C} (median of ${runs} after ${warmup} warm-up runs, for each)`);
  const rng = seededRandom(1);
  const x = Float32Array.from({ length: B * D }, () => rng.normal());
  const w = Float32Array.from({ length: C * D }, () => rng.normal());
  const y = Int32Array.from({ length: B }, () => rng.int(C));
  const out: Record<string, unknown> = { batch: B, dim: D, classes: C };
  const times: Record<string, number> = {};
  const variants: [string, () => Promise<OrtModule>, Record<string, unknown>][] = [
    ['onnxruntime-node', async () => await import('onnxruntime-node'), { intraOpNumThreads: 2, interOpNumThreads: 1 }],
    [
      'onnxruntime-web',
      async () => {
        const ort = await import('onnxruntime-web');
        ort.env.wasm.numThreads = 2;
        return ort;
      },
      {},
    ],
  ];
  for (const [name, load, sessionOptions] of variants) {
    const backend = ortBackend(await load(), { sessionOptions });
    const ex = backend.placeholder('embeddings', [-1, D]);
    const ew = backend.placeholder('centers', [C, D]);
    const loss = marginSoftmaxLoss(backend, { margin: arcface({ m: 0.5 }), scale: 64 })(ex, ew, backend.placeholder('labels', [-1], 'int32'));
    const [gx, gw] = backend.gradients(loss, [ex, ew]);
    const t0 = performance.now();
    const graph = await backend.compile({ loss, gx: gx!, gw: gw! });
    const compileSeconds = (performance.now() - t0) / 1000;
    const feeds = { embeddings: { data: x, dims: [B, D] }, centers: { data: w, dims: [C, D] }, labels: { data: y, dims: [B] } };
    // Warm-up runs, as many as PyTorch gets: ORT's memory arena grows over the first runs.
    for (let i = 0; i < warmup; i++) await graph.run(feeds);
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await graph.run(feeds);
      t.push((performance.now() - s) / 1000);
    }
    times[name] = t.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
    await backend.dispose();
    console.log(
      `  ${name}: ${times[name]!.toFixed(3)} s (${(flops / times[name]! / 1e9).toFixed(1)} GFLOP/s in the matmuls' terms; compile ${compileSeconds.toFixed(2)} s)`,
    );
  }
  out['ort'] = times;
  const python = '/usr/bin/python3';
  if (existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) {
    const ref = JSON.parse(
      execFileSync(python, [join(here, 'loss_step.py'), String(B), String(D), String(C), String(runs), String(warmup)], { encoding: 'utf8' }),
    );
    out['pytorch'] = ref;
    console.log(`  PyTorch CPU autograd (2 threads): ${ref.seconds.toFixed(3)} s (${(flops / ref.seconds / 1e9).toFixed(1)} GFLOP/s)`);
    const ratios: Record<string, number> = {};
    for (const [k, v] of Object.entries(times)) {
      ratios[k] = v / ref.seconds;
      console.log(`  ratio ${k} / PyTorch: ${ratios[k]!.toFixed(2)}${k === 'onnxruntime-node' ? ' (target ≤ 0.5)' : ''}`);
    }
    out['ratios'] = ratios;
  } else console.log('  (PyTorch reference unavailable: apt-get install python3-torch)');
  return out;
}
