/**
 * SGD with momentum in WebAssembly SIMD (wasm/sgd-momentum.wat): the update of dense-update.ts's
 * `denseSgd`, bit for bit, about four times faster. A JavaScript loop rounds every operation to
 * float32 one entry at a time (about 10 ns an entry here, well below the memory's speed); the
 * kernel does four entries an instruction and is bound by memory.
 *
 * The velocity of each chunk lives in the kernel's memory, where the kernel reads and writes it in
 * place; so do the centres where the backend can read them there (`backend.share`: ONNX Runtime).
 * The gradient (ONNX Runtime hands it back in fresh memory), and centres held elsewhere, pass
 * through a small scratch block in the kernel's memory a few rows at a time, so the extra copies
 * stay in the cache. A memory holds at most 2 GiB; more chunks take more memories.
 *
 * @packageDocumentation
 */
import { BYTES_BASE64 } from './wasm/sgd-momentum.generated.js';

const PAGE = 65536;
/** The bytes of one memory at most: chunks past it go into another. */
const MEMORY_LIMIT = 2 ** 31;
/** The bytes of one scratch block of rows (g and w each): a few rows, well inside L2. */
const BLOCK_BYTES = 64 * 1024;

interface KernelExports {
  sgd(g: number, w: number, v: number, coef: number, norms: number, rows: number, dim: number, mu: number, lr: number, wd: number): void;
  finite(p: number, n: number): number;
}

/** One chunk's velocity (and centres) in a kernel's memory, and the update that reads and writes them there. @internal */
export interface SgdKernel {
  /** The chunk's velocity, [rows·D] float32, zero at first: a view on the kernel's memory. */
  readonly velocity: Float32Array;
  /**
   * With `centres`, room for the chunk's centres, [rows·D] float32, beside the velocity: the owner
   * fills it and binds it (`backend.share`), and the update then reads and writes it in place.
   */
  readonly centres?: Float32Array;
  /**
   * One step on every entry of the chunk `w` ([rows·D]): the rule of `denseSgd` with momentum μ,
   * learning rate η and weight decay λ (each already rounded to float32), the deferred norm term's
   * coefficients c (per row; undefined for none), writing ‖w_j‖ of each updated row into `norms`.
   * Reads `g` whole first: with an entry ±∞ or NaN it returns false and changes nothing.
   */
  update(g: Float32Array, coefficients: Float64Array | undefined, w: Float32Array, norms: Float64Array, mu: number, lr: number, wd: number): boolean;
}

/** The compiled kernel, or undefined where WebAssembly or its SIMD is missing. */
function compileKernel(): WebAssembly.Module | undefined {
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return undefined;
  const bytes = Uint8Array.from(atob(BYTES_BASE64), (c) => c.charCodeAt(0));
  return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : undefined;
}

/**
 * Velocity buffers for chunks of `rows` rows of `dim` entries: each a kernel's memory view where
 * WebAssembly SIMD runs and `dim` is a multiple of 4, else undefined (the caller keeps plain arrays
 * and the JavaScript update). A memory that cannot be had (the engine's limit) leaves the rest of
 * the chunks to JavaScript too; both give the same values. With `centres`, each chunk also gets
 * room for its centres in the same memory (see {@link SgdKernel.centres}). `memoryBytes` caps one
 * memory (tests make it small to use several).
 * @internal
 */
export function sgdKernels(
  rows: readonly number[],
  dim: number,
  options: { readonly centres?: boolean; readonly memoryBytes?: number } = {},
): (SgdKernel | undefined)[] {
  const { centres = false, memoryBytes = MEMORY_LIMIT } = options;
  const arrays = centres ? 2 : 1;
  const module = dim % 4 === 0 ? compileKernel() : undefined;
  const out: (SgdKernel | undefined)[] = rows.map(() => undefined);
  if (module === undefined) return out;
  const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / (4 * dim)));
  const scratch = blockRows * dim * 8 + blockRows * 16;
  let k = 0;
  while (k < rows.length) {
    // Chunks k..end share one memory: the scratch, then each chunk's velocity.
    let bytes = scratch;
    let end = k;
    while (end < rows.length && bytes + arrays * rows[end]! * dim * 4 <= memoryBytes - PAGE) bytes += arrays * rows[end++]! * dim * 4;
    if (end === k) return out; // one chunk larger than a memory: JavaScript
    let memory: WebAssembly.Memory;
    try {
      const pages = Math.ceil(bytes / PAGE);
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch {
      return out; // the engine refused the memory: the remaining chunks update in JavaScript
    }
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const exports = kernelExports(instance);
    if (exports === undefined) return out;
    let offset = scratch;
    for (; k < end; k++) {
      out[k] = kernel(memory, exports, blockRows, dim, offset, rows[k]!, centres);
      offset += arrays * rows[k]! * dim * 4;
    }
  }
  return out;
}

/** The module's two functions, typed (undefined if the module lacks them). */
function kernelExports(instance: WebAssembly.Instance): KernelExports | undefined {
  const { sgd, finite } = instance.exports;
  if (typeof sgd !== 'function' || typeof finite !== 'function') return undefined;
  return {
    sgd: (g, w, v, coef, norms, rows, dim, mu, lr, wd) => void sgd(g, w, v, coef, norms, rows, dim, mu, lr, wd),
    finite: (p, n) => Number(finite(p, n)),
  };
}

function kernel(
  memory: WebAssembly.Memory,
  exports: KernelExports,
  blockRows: number,
  dim: number,
  velocityAt: number,
  rows: number,
  withCentres: boolean,
): SgdKernel {
  const { sgd, finite } = exports;
  // Scratch layout: g block, w block (blockRows·dim float32 each), coefficients, norms (float64).
  const g0 = 0;
  const w0 = blockRows * dim * 4;
  const c0 = 2 * w0;
  const n0 = c0 + blockRows * 8;
  const f32 = new Float32Array(memory.buffer);
  const f64 = new Float64Array(memory.buffer, 0, (n0 + blockRows * 8) / 8);
  const centresAt = velocityAt + rows * dim * 4;
  const centres = withCentres ? new Float32Array(memory.buffer, centresAt, rows * dim) : undefined;
  return {
    velocity: new Float32Array(memory.buffer, velocityAt, rows * dim),
    ...(centres === undefined ? {} : { centres }),
    update(g, coefficients, w, norms, mu, lr, wd) {
      const block = blockRows * dim;
      for (let from = 0; from < g.length; from += block) {
        const to = Math.min(g.length, from + block);
        f32.set(g.subarray(from, to), g0 / 4);
        if (finite(g0, to - from) !== 1) return false;
      }
      // Centres in this memory are updated where they are; others pass through the w block.
      const inPlace = w === centres;
      for (let r0 = 0; r0 < rows; r0 += blockRows) {
        const r = Math.min(blockRows, rows - r0);
        const [from, to] = [r0 * dim, (r0 + r) * dim];
        f32.set(g.subarray(from, to), g0 / 4);
        if (!inPlace) f32.set(w.subarray(from, to), w0 / 4);
        if (coefficients === undefined) f64.fill(0, c0 / 8, c0 / 8 + r);
        else f64.set(coefficients.subarray(r0, r0 + r), c0 / 8);
        sgd(g0, inPlace ? centresAt + from * 4 : w0, velocityAt + from * 4, c0, n0, r, dim, mu, lr, wd);
        if (!inPlace) w.set(f32.subarray(w0 / 4, w0 / 4 + r * dim), from);
        norms.set(f64.subarray(n0 / 8, n0 / 8 + r), r0);
      }
      return true;
    },
  };
}
