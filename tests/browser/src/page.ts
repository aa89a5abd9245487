/**
 * The page bundled for the browser suite: runs marginkit on tfjs (WebGL, WebGPU, cpu), on
 * onnxruntime-web (wasm, WebGPU) and the eval package inside Chromium, and hands the numbers back
 * to the Node test through `window.marginkit`.
 */
import { ortBackend } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { createRegistry } from '@marginkit/core';
import { verificationReport } from '@marginkit/eval';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as ort from 'onnxruntime-web';

// The wasm binaries and their glue are served by the test under /ort/.
ort.env.wasm.wasmPaths = '/ort/';
ort.env.logLevel = 'error';

/** A named input for an ONNX Runtime session: dtype, dims and row-major values. */
export interface PageFeed {
  readonly type: 'float32' | 'int32';
  readonly dims: number[];
  readonly data: number[];
}

/** A loss case as in fixtures/margin-losses.json (only what the page needs). */
export interface PageLossCase {
  readonly config: Readonly<Record<string, unknown>>;
  readonly embeddings: { readonly shape: number[]; readonly data: number[] };
  readonly centers: { readonly shape: number[]; readonly data: number[] };
  readonly labels: number[];
}

/** What the page computes for a loss case. */
export interface PageLossResult {
  readonly loss: number;
  readonly gradEmbeddings: number[];
  readonly gradCenters: number[];
}

const api = {
  /**
   * Starts what the tests use — tfjs's WebGL and WebGPU backends, onnxruntime-web on the wasm and
   * WebGPU execution providers (one loss case each) — so that each test times its own work, not a
   * runtime's start-up (compiling onnxruntime-web's wasm alone took 25 s on a loaded 2-core machine).
   */
  async start(warmUp: PageLossCase): Promise<void> {
    for (const name of ['webgl', 'webgpu']) await api.setBackend(name);
    for (const ep of ['wasm', 'webgpu']) await api.ortLosses([warmUp], ep);
  },
  async setBackend(name: string): Promise<{ backend: string; float32: boolean }> {
    const ok = await tf.setBackend(name);
    if (!ok) console.error(`tfjs could not initialise the ${name} backend`);
    await tf.ready();
    return { backend: tf.getBackend(), float32: name !== 'webgl' || tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE') };
  },
  losses(cases: readonly PageLossCase[]): PageLossResult[] {
    const registry = createRegistry();
    const backend = tfjsBackend(tf);
    return cases.map((c) =>
      tf.tidy(() => {
        const loss = registry.loss(backend, c.config);
        const x = tf.tensor(c.embeddings.data, c.embeddings.shape, 'float32');
        const w = tf.tensor(c.centers.data, c.centers.shape, 'float32');
        const y = tf.tensor1d(c.labels, 'int32');
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, y))([x, w]);
        return { loss: value.dataSync()[0]!, gradEmbeddings: Array.from(grads[0]!.dataSync()), gradCenters: Array.from(grads[1]!.dataSync()) };
      }),
    );
  },
  verification(scores: number[], labels: number[], fars: number[]): { auc: number; eer: number; tar: number[] } {
    const r = verificationReport(Float64Array.from(scores), labels, { farTargets: fars, policy: 'nearest' });
    return { auc: r.auc, eer: r.eer.eer, tar: r.tarAtFar.map((t) => t.tar) };
  },
  memory: () => tf.memory().numTensors,
  /** Runs ONNX bytes made in Node with onnxruntime-web on an execution provider ('wasm' or 'webgpu'). */
  async ortRun(model: number[], feeds: Record<string, PageFeed>, ep: string): Promise<Record<string, number[]>> {
    const session = await ort.InferenceSession.create(Uint8Array.from(model), { executionProviders: [ep], logSeverityLevel: 3 });
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.type === 'int32' ? Int32Array.from(f.data) : Float32Array.from(f.data), f.dims)]),
    );
    const out = await session.run(inputs);
    await session.release();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
  },
  /** backend-ort in the page: traces each case, differentiates it and runs it on onnxruntime-web. */
  async ortLosses(cases: readonly PageLossCase[], ep: string): Promise<PageLossResult[]> {
    const registry = createRegistry();
    const backend = ortBackend(ort, { sessionOptions: { executionProviders: [ep], logSeverityLevel: 3 } });
    const results: PageLossResult[] = [];
    for (const c of cases) {
      const x = backend.tensor(c.embeddings.data, c.embeddings.shape, 'float32', 'embeddings');
      const w = backend.tensor(c.centers.data, c.centers.shape, 'float32', 'centers');
      const y = backend.tensor(c.labels, [c.labels.length], 'int32', 'labels');
      const loss = registry.loss(backend, c.config)(x, w, y);
      const [gx, gw] = backend.gradients(loss, [x, w]);
      const [l, dx, dw] = await backend.run([loss, gx!, gw!]);
      results.push({
        loss: (l!.data as Float32Array)[0]!,
        gradEmbeddings: Array.from(dx!.data as Float32Array),
        gradCenters: Array.from(dw!.data as Float32Array),
      });
    }
    await backend.dispose();
    return results;
  },
};

declare global {
  interface Window {
    marginkit: typeof api;
  }
}
window.marginkit = api;
document.title = 'marginkit ready';
