/**
 * One forward+backward step of the ArcFace head at face-recognition scale (B=256, D=512,
 * C=100,000): the traced loss and its VJP gradient graph on onnxruntime-node (2 intra-op threads)
 * and onnxruntime-web (wasm, 2 threads), against PyTorch CPU autograd (2 threads) in the same run.
 *
 *   npm run bench -- ort      (from the repository root)
 */
import { type OrtModule, ortBackend } from '@marginkit/backend-ort';
import { arcface, marginSoftmaxLoss } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';
import { medianSeconds, pytorchStep } from './step-timing.js';

export async function ortStepBench(sizes = { B: 256, D: 512, C: 100_000 }, runs = 5, warmup = 3): Promise<Record<string, unknown>> {
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
    times[name] = await medianSeconds(runs, warmup, () => graph.run(feeds));
    await backend.dispose();
    console.log(
      `  ${name}: ${times[name]!.toFixed(3)} s (${(flops / times[name]! / 1e9).toFixed(1)} GFLOP/s in the matmuls' terms; compile ${compileSeconds.toFixed(2)} s)`,
    );
  }
  out['ort'] = times;
  const ref = pytorchStep(sizes, runs, warmup);
  if (ref) {
    out['pytorch'] = ref;
    console.log(`  PyTorch CPU autograd (2 threads): ${ref.seconds.toFixed(3)} s (${(flops / ref.seconds / 1e9).toFixed(1)} GFLOP/s)`);
    const ratios: Record<string, number> = {};
    for (const [k, v] of Object.entries(times)) {
      ratios[k] = v / ref.seconds;
      console.log(`  ratio ${k} / PyTorch: ${ratios[k]!.toFixed(2)}${k === 'onnxruntime-node' ? ' (target ≤ 0.5)' : ''}`);
    }
    out['ratios'] = ratios;
  }
  return out;
}
