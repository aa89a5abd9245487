import { NonFiniteError } from '@marginkit/core';
import type { OrtBackend } from './backend.js';
import type { OrtTensor } from './graph.js';
import type { OrtValue } from './ort-module.js';
import type { HeadOptimizer } from './optimizers.js';

/** The name of the in-graph sum that screens output `key` for non-finite values. @internal */
export const checkName = (key: string): string => `${key}FiniteCheck`;

/**
 * In-graph screens of the float32 outputs of a trainer step: for each, the sum of all its values,
 * a read-only pass in ONNX Runtime. A sum is finite when every value is (a sum that overflows is
 * not, and then the values themselves are scanned), so a step reads the [C, D] outputs once in ORT
 * instead of scanning them in JavaScript. @internal
 */
export function finiteScreens(backend: OrtBackend, outputs: Readonly<Record<string, OrtTensor>>): Record<string, OrtTensor> {
  const o = backend.tensorOps;
  const screens: Record<string, OrtTensor> = {};
  for (const [key, t] of Object.entries(outputs)) {
    if (t.dtype !== 'float32' || t.shape.length === 0) continue;
    let s = t;
    while (s.shape.length > 0) s = o.sum(s, s.shape.length - 1);
    screens[checkName(key)] = s;
  }
  return screens;
}

/**
 * Throws a NonFiniteError naming the step's result `key` when a value of it is NaN or ±Infinity;
 * `screen`, the output's in-graph sum, skips the scan when it is finite. @internal
 */
export function checkStepOutput(key: string, value: OrtValue | undefined, screen: OrtValue | undefined, steps: number, optimizer: HeadOptimizer): void {
  const data = value?.data;
  if (!(data instanceof Float32Array)) return;
  const sum = screen?.data;
  if (sum instanceof Float32Array && Number.isFinite(sum[0]!)) return;
  for (let i = 0; i < data.length; i++) {
    if (Number.isFinite(data[i]!)) continue;
    const name = key.startsWith('state_') ? `state.${key.slice(6)}` : key;
    const dims = value!.dims;
    const at = dims.length === 2 ? `[${Math.floor(i / dims[1]!)}, ${i % dims[1]!}]` : `[${i}]`;
    throw new NonFiniteError(
      `step.${name}`,
      `step ${steps + 1} computed a non-finite ${name === 'centers' ? 'new centre' : name} value ${data[i]} at ${dims.length === 0 ? '[]' : at}: float32 overflowed ` +
        `(learning rate ${optimizer.learningRate}${optimizer.kind === 'adam' ? `, ε ${optimizer.epsilon}` : ''} too large for these gradients, or embeddings/centres too large); ` +
        'the step was not taken: centres, optimizer state and margin state are as they were',
    );
  }
}
