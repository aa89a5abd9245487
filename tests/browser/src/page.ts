/**
 * The page bundled for the browser suite: runs marginkit on tfjs (webgl or cpu) and the eval
 * package inside Chromium, and hands the numbers back to the Node test through `window.marginkit`.
 */
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { createRegistry } from '@marginkit/core';
import { verificationReport } from '@marginkit/eval';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

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
};

declare global {
  interface Window {
    marginkit: typeof api;
  }
}
window.marginkit = api;
document.title = 'marginkit ready';
