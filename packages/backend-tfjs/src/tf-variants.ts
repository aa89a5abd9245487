import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** The tfjs backends the tests run on in Node. @internal */
export const TF_VARIANTS = ['cpu', 'wasm'] as const;

/** Activates a tfjs backend by name (loading the wasm binaries from the installed package). @internal */
export async function useTfBackend(name: (typeof TF_VARIANTS)[number]): Promise<typeof tf> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'dist')}/`);
  }
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend ${name} did not initialise`);
  return tf;
}
