/**
 * Child process of the bench: one runtime at one size. Sets the runtime up (threads, wasm files),
 * times the step and the floor for both passes, and prints one line `RESULT <json>` with the
 * results and this process's peak RSS (process.resourceUsage().maxRSS).
 *
 *   worker.ts <runtime id> <B> <D> <C> <repeats as JSON>
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { stepInputs } from './inputs.js';
import { measureCase } from './measure.js';
import { ortStepCase } from './ort-step.js';
import type { Repeats } from './stats.js';
import type { StepCase } from './step-case.js';
import { tfjsStepCase } from './tfjs-step.js';

const [id, b, d, c, repeatsJson] = process.argv.slice(2) as [string, string, string, string, string];
const inputs = stepInputs({ B: Number(b), D: Number(d), C: Number(c) });
const repeats: Repeats = JSON.parse(repeatsJson);
const threads = Number(/-(\d)t$/.exec(id)?.[1] ?? 1);

async function open(): Promise<StepCase> {
  if (id.startsWith('tfjs-')) {
    const tf = await import('@tensorflow/tfjs');
    tf.enableProdMode();
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'dist')}/`);
    if (!(await tf.setBackend(id.slice(5)))) throw new Error(`tfjs backend ${id} did not start`);
    return tfjsStepCase(tf, inputs);
  }
  if (id.startsWith('ort-node-')) {
    return ortStepCase(await import('onnxruntime-node'), { intraOpNumThreads: threads, interOpNumThreads: 1 }, inputs);
  }
  if (id.startsWith('ort-web-wasm-')) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    return ortStepCase(ort, { executionProviders: ['wasm'] }, inputs);
  }
  throw new Error(`unknown runtime ${id}`);
}

const stepCase = await open();
const passes = await measureCase(stepCase, repeats);
await stepCase.dispose();
console.log(`RESULT ${JSON.stringify({ passes, peakRssMB: process.resourceUsage().maxRSS / 1024 })}`);
