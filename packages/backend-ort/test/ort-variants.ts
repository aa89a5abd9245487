import type { ConformanceTarget } from '@marginkit/core/testing';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { type OrtBackend, type OrtModule, ortBackend } from '../src/backend.js';
import type { OrtTensor } from '../src/graph.js';

/** The ONNX Runtime packages the tests run on in Node. @internal */
export const ORT_VARIANTS = ['node', 'web'] as const;

/** The module of a variant; onnxruntime-web is set to its wasm backend with `threads` threads (before the first session). @internal */
export function ortModule(variant: (typeof ORT_VARIANTS)[number], threads = 1): OrtModule {
  if (variant === 'web') {
    ortWeb.env.wasm.numThreads = threads;
    return ortWeb;
  }
  return ortNode;
}

/** Reads an output as numbers (bool as 0/1). @internal */
export function values(v: { readonly data: unknown }): number[] {
  return Array.from(v.data as ArrayLike<number>, Number);
}

/** One conformance target per ONNX Runtime package. @internal */
export function ortTargets(): ConformanceTarget<OrtTensor>[] {
  return ORT_VARIANTS.map((variant) => ({
    name: `ort-${variant}`,
    differentiable: true,
    computes: true,
    setup: async () => {
      const backend: OrtBackend = ortBackend(ortModule(variant));
      return {
        backend,
        tensor: (v, shape, dtype) => backend.tensor(v, shape, dtype),
        read: async (x) => values((await backend.run([x]))[0]!),
        gradients: async (f, xs) => {
          const y = f(...xs);
          const grads = backend.gradients(y, xs);
          return (await backend.run(grads)).map(values);
        },
        teardown: () => backend.dispose(),
      };
    },
  }));
}
