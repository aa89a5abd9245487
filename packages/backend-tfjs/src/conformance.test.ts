import { conformanceSuite } from '@marginkit/core/testing';
import type * as tfc from '@tensorflow/tfjs-core';
import { tfjsBackend } from './backend.js';
import { TF_VARIANTS, useTfBackend } from './tf-variants.js';

conformanceSuite<tfc.Tensor>(
  TF_VARIANTS.map((variant) => ({
    name: `tfjs-${variant}`,
    differentiable: true,
    setup: async () => {
      const tf = await useTfBackend(variant);
      return {
        backend: tfjsBackend(tf),
        tensor: (values, shape, dtype) => tf.tensor(values as number[], [...shape], dtype),
        read: (t) => t.dataSync(),
        gradients: (f, xs) =>
          tf
            .grads((...args: tfc.Tensor[]) => f(...args))([...xs])
            .map((g) => g.dataSync()),
        scope: (fn) => {
          tf.engine().startScope();
          try {
            return fn();
          } finally {
            tf.engine().endScope();
          }
        },
      };
    },
  })),
);
