import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BackendError } from '@marginkit/core';
import type { ConformanceTarget } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type * as tfc from '@tensorflow/tfjs-core';
import { tfjsBackend } from '../src/backend.js';

/** The tfjs backends the tests run on in Node. @internal */
export const TF_VARIANTS = ['cpu', 'wasm'] as const;

/** Activates a tfjs backend by name (loading the wasm binaries from the installed package). @internal */
export async function useTfBackend(name: (typeof TF_VARIANTS)[number]): Promise<typeof tf> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'dist')}/`);
  }
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new BackendError('tfjs', `tf.setBackend('${name}') did not initialise the backend`);
  return tf;
}

/** One conformance target per tfjs variant, for the core conformance kit. @internal */
export function tfjsTargets(): ConformanceTarget<tfc.Tensor>[] {
  return TF_VARIANTS.map((variant) => ({
    name: `tfjs-${variant}`,
    differentiable: true,
    computes: true,
    setup: async () => {
      const t = await useTfBackend(variant);
      return {
        backend: tfjsBackend(t),
        tensor: (values, shape, dtype) => t.tensor(values as number[], [...shape], dtype),
        read: (x) => x.dataSync(),
        gradients: (f, xs) =>
          t
            .grads((...args: tfc.Tensor[]) => f(...args))([...xs])
            .map((g) => g.dataSync()),
        scope: (fn) => {
          t.engine().startScope();
          try {
            return fn();
          } finally {
            t.engine().endScope();
          }
        },
      };
    },
  }));
}
