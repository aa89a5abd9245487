/**
 * The browser bench page (bench/src/browser) in headless Chromium, for correctness only (no
 * timing is asserted): at a tiny size, every runtime it offers produces finite timings, and the
 * loss and the floor's scalar equal what tfjs cpu computes in Node from the same inputs. The ORT
 * runtimes also time a training step; run once, its loss is the loss before the update, the
 * forward's, and its floor is the forward + backward one.
 */
import * as tf from '@tensorflow/tfjs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserRuntime } from '../../../bench/src/browser/page.js';
import { type BenchPageServer, serveBenchPage } from '../../../bench/src/browser/serve.js';
import { PASSES, type Pass, TRAIN_PASSES, stepInputs } from '../../../bench/src/inputs.js';
import type { BenchRow } from '../../../bench/src/table.js';
import { tfjsStepCase } from '../../../bench/src/tfjs-step.js';
import { available, SWIFTSHADER_GPU_FLAGS, launchChromium } from './chromium.js';

const SIZE = { B: 6, D: 8, C: 10 };
const RUNTIMES: readonly BrowserRuntime[] = ['tfjs-webgl', 'tfjs-webgpu', 'tfjs-cpu', 'ort-web-webgpu', 'ort-web-wasm'];
const relative = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);

let server: BenchPageServer;
let browser: Browser;
let rows: BenchRow[];
/** tfjs cpu in Node on the same inputs: the loss and the floor's scalar, per pass. */
const reference: Partial<Record<Pass, { loss: number; floor: number }>> = {};

describe.runIf(available)('the browser bench page', () => {
  beforeAll(async () => {
    tf.enableProdMode(); // no "running TensorFlow.js in Node" banner
    await tf.setBackend('cpu');
    const c = tfjsStepCase(tf, stepInputs(SIZE));
    for (const pass of PASSES) reference[pass] = { loss: await c.step(pass), floor: await c.floor(pass) };
    reference.train = { loss: reference.fwd!.loss, floor: reference['fwd+bwd']!.floor };
    await c.dispose();
    server = await serveBenchPage();
    browser = await launchChromium(SWIFTSHADER_GPU_FLAGS);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}?auto=0`);
    await page
      .waitForFunction(() => document.title === 'marginkit bench ready', undefined, { timeout: 60_000 })
      .catch(() => {
        throw new Error(`the bench page did not load: ${errors.join('; ')}`);
      });
    rows = await page.evaluate(
      ([size, runtimes]) => window.marginkitBench.run({ sizes: [size], runtimes, repeats: { warmup: 0, minRuns: 1, maxRuns: 1, budgetSeconds: 0 } }),
      [SIZE, RUNTIMES] as const,
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('offers tfjs webgl, webgpu and cpu and onnxruntime-web webgpu and wasm, and runs each for its passes without error', () => {
    const passes = (r: BrowserRuntime) => (r.startsWith('ort-') ? TRAIN_PASSES : PASSES);
    expect(rows.map((r) => `${r.runtime} ${r.pass} ${r.error ?? 'ok'}`)).toEqual(RUNTIMES.flatMap((r) => passes(r).map((p) => `${r} ${p} ok`)));
  });

  it('gives finite, positive step and floor times and GFLOP/s', () => {
    for (const r of rows) {
      for (const v of [r.step?.median, r.step?.min, r.step?.max, r.floor?.median, r.overFloor, r.gflops]) {
        expect(Number.isFinite(v) && v! > 0, `${r.runtime} ${r.pass}: ${v}`).toBe(true);
      }
    }
  });

  it('computes the loss and the floor of tfjs cpu in Node, within 1e-4 (relative), on every runtime', () => {
    const off = rows.flatMap((r) => {
      const want = reference[r.pass]!;
      return [
        ...(relative(r.loss!, want.loss) > 1e-4 ? [`${r.runtime} ${r.pass} loss ${r.loss} ≠ ${want.loss}`] : []),
        ...(relative(r.floorValue!, want.floor) > 1e-4 ? [`${r.runtime} ${r.pass} floor ${r.floorValue} ≠ ${want.floor}`] : []),
      ];
    });
    expect(off).toEqual([]);
    expect(Number.isFinite(reference.fwd!.loss) && reference.fwd!.loss > 0).toBe(true);
  });
});
