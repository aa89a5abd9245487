/**
 * The bench in a browser: the same ArcFace step and floor as `npm run bench`, on tfjs (webgl,
 * webgpu, cpu) and onnxruntime-web (webgpu, wasm), so that a user can measure their own GPU.
 * Served by `serve.ts`; sizes and runtimes come from the URL (`?B=256&C=10000&runtimes=tfjs-webgl`)
 * or from `window.marginkitBench.run(...)`, which the browser test calls with a tiny size.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as ort from 'onnxruntime-web';
import { PASSES, type StepSizes, stepInputs } from '../inputs.js';
import { measureCase } from '../measure.js';
import { ortStepCase } from '../ort-step.js';
import type { Repeats } from '../stats.js';
import type { StepCase } from '../step-case.js';
import { type BenchRow, benchRow, formatTable } from '../table.js';
import { tfjsStepCase } from '../tfjs-step.js';

// The wasm binaries and their glue are served under /ort/.
ort.env.wasm.wasmPaths = '/ort/';
ort.env.logLevel = 'error';
const params = new URLSearchParams(location.search);
// Threads need cross-origin isolation (the server sends COOP/COEP); ORT's own default otherwise.
ort.env.wasm.numThreads = crossOriginIsolated ? Number(params.get('threads') ?? Math.min(4, Math.ceil(navigator.hardwareConcurrency / 2))) : 1;

/** The runtimes the page knows. */
export const BROWSER_RUNTIMES = ['tfjs-webgl', 'tfjs-webgpu', 'tfjs-cpu', 'ort-web-webgpu', 'ort-web-wasm'] as const;
/** One of {@link BROWSER_RUNTIMES}. */
export type BrowserRuntime = (typeof BROWSER_RUNTIMES)[number];

/** What one run of the page measures. */
export interface BrowserPlan {
  readonly sizes: readonly StepSizes[];
  readonly runtimes: readonly BrowserRuntime[];
  readonly repeats: Repeats;
}

async function open(runtime: BrowserRuntime, sizes: StepSizes): Promise<StepCase> {
  const inputs = stepInputs(sizes);
  if (runtime.startsWith('tfjs-')) {
    const name = runtime.slice(5);
    if (!(await tf.setBackend(name)) || tf.getBackend() !== name) throw new Error(`tfjs could not start its ${name} backend`);
    return tfjsStepCase(tf, inputs);
  }
  return ortStepCase(ort, { executionProviders: [runtime.slice(8)], logSeverityLevel: 3 }, inputs);
}

/** Runs `plan`, one runtime and size after another; a runtime that fails gets rows with its error. */
async function run(plan: BrowserPlan, onRows: (rows: readonly BenchRow[]) => void = () => {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const size of plan.sizes) {
    for (const runtime of plan.runtimes) {
      const threads = runtime === 'ort-web-wasm' ? (ort.env.wasm.numThreads ?? 1) : 1;
      const base = { ...size, runtime, threads };
      let added: BenchRow[];
      try {
        const c = await open(runtime, size);
        try {
          added = (await measureCase(c, plan.repeats)).map((p) =>
            benchRow({ ...base, pass: p.pass, step: p.step, floor: p.floor, loss: p.loss, floorValue: p.floorValue }),
          );
        } finally {
          await c.dispose();
        }
      } catch (e) {
        added = PASSES.map((pass) => benchRow({ ...base, pass, error: String(e) }));
      }
      rows.push(...added);
      onRows(rows);
    }
  }
  return rows;
}

/** The plan in the page's URL: B, C (lists), D, runtimes, runs (and `threads` for ort-web-wasm, above); defaults B=256, C=10000, every runtime, 5 runs. */
function planFromUrl(params: URLSearchParams): BrowserPlan {
  const ints = (key: string, fallback: string) => (params.get(key) ?? fallback).split(',').map(Number);
  const runs = ints('runs', '5')[0]!;
  const wanted = params.get('runtimes')?.split(',');
  return {
    sizes: ints('C', '10000').flatMap((C) => ints('B', '256').map((B) => ({ B, D: ints('D', '512')[0]!, C }))),
    runtimes: BROWSER_RUNTIMES.filter((r) => !wanted || wanted.includes(r)),
    repeats: { warmup: 1, minRuns: runs, maxRuns: runs, budgetSeconds: 0 },
  };
}

const api = { run, runtimes: BROWSER_RUNTIMES };
declare global {
  interface Window {
    marginkitBench: typeof api;
  }
}
window.marginkitBench = api;

const out = document.createElement('pre');
document.body.append(out);
if (params.get('auto') !== '0') {
  const plan = planFromUrl(params);
  out.textContent = `running ${JSON.stringify(plan)} …`;
  run(plan, (rows) => {
    out.textContent = formatTable(rows);
  }).then((rows) => {
    out.textContent = `${formatTable(rows)}\n\nJSON:\n${JSON.stringify(rows, null, 2)}`;
    document.title = 'marginkit bench done';
  });
}
document.title = params.get('auto') === '0' ? 'marginkit bench ready' : 'marginkit bench running';
