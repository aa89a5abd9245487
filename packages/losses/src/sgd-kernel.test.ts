import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NonFiniteError } from '@marginkit/core';
import { expectTypedError, seededRandom } from '@marginkit/core/testing';
import { describe, expect, it } from 'vitest';
import { denseUpdate } from './dense-update.js';
import { sgdKernels } from './sgd-kernel.js';
import { sparseSgd } from './partial-fc.js';

const DIM = 12;

/** A chunk's gradient, centres and velocity, and per-row coefficients (every third row 0: no norm term). */
function chunk(rows: number, seed: number) {
  const rng = seededRandom(seed);
  const fill = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const coefficients = Float64Array.from({ length: rows }, (_, j) => (j % 3 === 0 ? 0 : rng.normal() * 0.3));
  return { g: fill(rows * DIM, 1), w: fill(rows * DIM, 0.5), v: fill(rows * DIM, 0.1), coefficients };
}

/** The same step through the JavaScript loop and through the kernel, from the same start; both results. */
function both(rows: readonly number[], options: { momentum: number; weightDecay: number }, memoryBytes?: number) {
  const optimizer = sparseSgd({ learningRate: 0.37, ...options });
  const kernels = sgdKernels(rows, DIM, memoryBytes === undefined ? {} : { memoryBytes });
  return rows.map((n, k) => {
    const { g, w, v, coefficients } = chunk(n, k + 1);
    const kernel = kernels[k]!;
    kernel.velocity.set(v);
    const js = { w: w.slice(), v: v.slice(), norms: new Float64Array(n) };
    const wasm = { w: w.slice(), v: kernel.velocity, norms: new Float64Array(n) };
    denseUpdate(optimizer, 0.37, 1, { g, coefficients, dim: DIM, norms: js.norms }, js.w, { momentumBuffer: js.v });
    denseUpdate(optimizer, 0.37, 1, { g, coefficients, dim: DIM, norms: wasm.norms }, wasm.w, { momentumBuffer: wasm.v }, kernel);
    return { js, wasm, memory: kernel.velocity.buffer };
  });
}

describe('SGD-momentum in WebAssembly (sgd-kernel.ts) equals the JavaScript update bit for bit', () => {
  it.each([
    ['momentum, no weight decay', { momentum: 0.9, weightDecay: 0 }],
    ['momentum and weight decay', { momentum: 0.9, weightDecay: 5e-4 }],
  ])('%s: centres, velocity and the updated rows’ norms', (_, options) => {
    // 1000 rows: the kernel's scratch holds 1365 rows of 12, so one block; 3000 rows: three, the last partial.
    for (const { js, wasm } of both([1000, 3000, 7], options)) {
      expect(wasm.w).toEqual(js.w);
      expect(Array.from(wasm.v)).toEqual(Array.from(js.v));
      expect(wasm.norms).toEqual(js.norms);
    }
  });

  it('the norms are the float64 norms of the updated rows', () => {
    const { wasm } = both([5], { momentum: 0.9, weightDecay: 0 })[0]!;
    for (let j = 0; j < 5; j++) {
      const row = Array.from(wasm.w.subarray(j * DIM, (j + 1) * DIM));
      expect(wasm.norms[j]).toBeCloseTo(Math.hypot(...row), 12);
    }
  });

  it('chunks past one memory go into another, with the same values', () => {
    // Memories of 512 KiB: 3000 rows of 12 float32 take 144 KB beside a 153 KB scratch, so two chunks a memory.
    const runs = both([3000, 3000, 3000, 3000], { momentum: 0.9, weightDecay: 0 }, 2 ** 19);
    expect(new Set(runs.map((r) => r.memory)).size).toBeGreaterThan(1);
    for (const { js, wasm } of runs) expect(wasm.w).toEqual(js.w);
  });

  it.each([
    ['+∞ in the last block', Number.POSITIVE_INFINITY, 2999 * DIM + 5],
    ['NaN in the first row', Number.NaN, 3],
  ])('a gradient with %s: returns false and changes nothing', (_, bad, at) => {
    const [kernel] = sgdKernels([3000], DIM);
    const { g, w, v, coefficients } = chunk(3000, 4);
    g[at] = bad;
    kernel!.velocity.set(v);
    const [w0, norms] = [w.slice(), new Float64Array(3000).fill(7)];
    expect(kernel!.update(g, coefficients, w, norms, 0.9, 0.1, 0)).toBe(false);
    expect(w).toEqual(w0);
    expect(Array.from(kernel!.velocity)).toEqual(Array.from(v));
    expect(norms.every((n) => n === 7)).toBe(true);
  });

  it.each([
    ['in the kernel', true],
    ['in the JavaScript loop', false],
  ])('denseUpdate with `check`: a NaN gradient throws NonFiniteError naming it, nothing changed (%s)', (_, inKernel) => {
    const [kernel] = sgdKernels([40], DIM);
    const { g, w, v, coefficients } = chunk(40, 5);
    g[17 * DIM + 2] = Number.NaN;
    const velocity = inKernel ? kernel!.velocity : v;
    velocity.set(v);
    const [w0, v0] = [w.slice(), v.slice()];
    const norms = new Float64Array(40);
    expectTypedError(
      () =>
        denseUpdate(
          sparseSgd({ learningRate: 0.1, momentum: 0.9 }),
          0.1,
          1,
          { g, coefficients, dim: DIM, norms },
          w,
          { momentumBuffer: velocity },
          kernel,
          'grad',
        ),
      { error: NonFiniteError, argument: 'grad' },
    );
    expect(w).toEqual(w0);
    expect(Array.from(velocity)).toEqual(Array.from(v0));
  });

  it('starts each velocity at zero, and leaves a dimension that is not a multiple of 4 to JavaScript', () => {
    const [kernel] = sgdKernels([10], DIM);
    expect(kernel!.velocity.every((v) => v === 0)).toBe(true);
    expect(sgdKernels([10, 10], 6)).toEqual([undefined, undefined]);
  });

  it('a chunk whose velocity is not the kernel’s takes the JavaScript loop', () => {
    const [kernel] = sgdKernels([4], DIM);
    const { g, w, v, coefficients } = chunk(4, 9);
    const norms = new Float64Array(4);
    denseUpdate(sparseSgd({ learningRate: 0.1, momentum: 0.9 }), 0.1, 1, { g, coefficients, dim: DIM, norms }, w, { momentumBuffer: v }, kernel);
    expect(kernel!.velocity.every((x) => x === 0)).toBe(true);
    expect(v.some((x) => x !== 0)).toBe(true);
  });
});

describe('the kernel’s bytes', () => {
  it('are what its .wat assembles to (scripts/build-wasm.mjs --check exits 0)', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-wasm.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
  });
});
