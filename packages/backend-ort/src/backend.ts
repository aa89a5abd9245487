import { type Backend, BackendError, InvalidArgumentError, type Ops, createOps } from '@marginkit/core';
import { type CompileOptions, type CompiledGraph, type Runner, compileGraph, readValidate, runOnce } from './compile.js';
import { type ExportOptions, exportModel } from './export.js';
import type { FeedValidation, Feeds } from './feeds.js';
import type { OrtTensor } from './graph.js';
import { boundData } from './lower.js';
import { type OrtModule, type OrtValue, checkModule } from './ort-module.js';
import { type OrtCacheStats, createSessionCache } from './session-cache.js';
import { createTracer } from './trace.js';
import { vjp } from './vjp.js';

// The module's types, beside the function that takes it.
export type { OrtModule, OrtValue } from './ort-module.js';

/** Options of {@link ortBackend}. */
export interface OrtBackendOptions {
  /**
   * Session options passed to `InferenceSession.create` for every model, e.g.
   * `{ intraOpNumThreads: 2 }` on onnxruntime-node or `{ executionProviders: ['webgpu'] }` on
   * onnxruntime-web. `intraOpNumThreads` defaults to the machine's thread count
   * (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` elsewhere); give it here
   * to override. (onnxruntime-web ignores it and reads its thread count from
   * `ort.env.wasm.numThreads`, which the user sets before the first session, e.g. to
   * `navigator.hardwareConcurrency`; it needs a cross-origin-isolated page for more than one.) ONNX Runtime's own log goes to stderr at
   * `logSeverityLevel` 2 (warnings and errors) by default; a failed run is also thrown as a
   * `BackendError` carrying ONNX Runtime's message, so `{ logSeverityLevel: 3 }` keeps errors only
   * and `{ logSeverityLevel: 4 }` silences everything but fatal errors.
   */
  readonly sessionOptions?: Readonly<Record<string, unknown>>;
  /** How many compiled sessions to keep for reuse, least recently used evicted first. Default 16. */
  readonly cacheSize?: number;
  /**
   * What is checked when data is fed (to compiled graphs and {@link OrtBackend.run}), the same
   * choice as a loss's `validate` on eager backends. `'full'` (default): shapes and dtypes, every
   * float32 value finite (else `NonFiniteError`), and every int32 input the graph uses as an index
   * (a label reaching `oneHot` or `gatherPerRow`) in range (else `LabelError`; −1 is accepted
   * where the graph masks it, as a loss with `ignoreIndex: -1` does). `'shapes'`: shapes and
   * dtypes only, for speed. {@link CompileOptions.validate} overrides it per graph.
   */
  readonly validate?: FeedValidation;
}

/**
 * The ONNX Runtime backend: a marginkit `Backend` (from `@marginkit/core`) whose tensors are symbolic.
 * Calling a loss traces a graph; {@link OrtBackend.compile} lowers it to an ONNX model (opset 17),
 * compiles it once into an InferenceSession (cached by a structural key) and runs it on fed data.
 * {@link OrtBackend.gradients} differentiates a traced graph into another graph.
 */
export interface OrtBackend extends Backend<OrtTensor> {
  /** The validated op set over this backend, for writing graphs by hand. */
  readonly tensorOps: Ops<OrtTensor>;
  /**
   * A graph input to be fed at run time.
   * @param name - the input's name (unique in a graph; not starting with `mk.`).
   * @param shape - dimensions; −1 for a size given only when data is fed (the batch).
   * @param dtype - default `'float32'`.
   */
  placeholder(name: string, shape: readonly number[], dtype?: 'float32' | 'int32'): OrtTensor;
  /**
   * A graph input with bound values: fed automatically, or overridden by a feed of the same name.
   * @param values - row-major values.
   * @param shape - dimensions (all known).
   * @param dtype - default `'float32'`.
   * @param name - default `input<k>`.
   */
  tensor(values: ArrayLike<number>, shape: readonly number[], dtype?: 'float32' | 'int32', name?: string): OrtTensor;
  /**
   * Symbolic gradients of `y` with respect to each of `xs`, from each op's vector-Jacobian rule.
   * @param y - a float32 scalar (or any shape, with `dy`).
   * @param xs - the tensors to differentiate with respect to.
   * @param dy - the cotangent of `y`; default 1 for a scalar.
   */
  gradients(y: OrtTensor, xs: readonly OrtTensor[], dy?: OrtTensor): OrtTensor[];
  /** Lowers and compiles the graph computing `outputs` (named by key), or takes it from the cache. */
  compile(outputs: Readonly<Record<string, OrtTensor>>, options?: CompileOptions): Promise<CompiledGraph>;
  /** Compiles (cached) and runs once; returns the outputs' values in the same order. */
  run(outputs: readonly OrtTensor[], feeds?: Feeds, options?: CompileOptions): Promise<OrtValue[]>;
  /** The `.onnx` bytes of the graph computing `outputs` (named by key). */
  exportOnnx(outputs: Readonly<Record<string, OrtTensor>>, options?: ExportOptions): Uint8Array;
  /** Cache counters. */
  stats(): OrtCacheStats;
  /** Releases every session; compiled graphs of this backend must not be run afterwards. */
  dispose(): Promise<void>;
}

/**
 * Creates the ONNX Runtime backend from the `onnxruntime-web` or `onnxruntime-node` module.
 *
 * @param ort - the ONNX Runtime module itself (`import * as ort from 'onnxruntime-node'`).
 * @param options - session options and cache size.
 * @returns a backend whose tensors are symbolic; see {@link OrtBackend}.
 *
 * @example
 * ```ts
 * import { arcface, marginSoftmaxLoss } from '@marginkit/core';
 * import { ortBackend } from '@marginkit/backend-ort';
 * import * as ort from 'onnxruntime-node';
 * const backend = ortBackend(ort);
 * const loss = marginSoftmaxLoss(backend, { margin: arcface(), scale: 16 });
 * const x = backend.placeholder('embeddings', [-1, 4]);
 * const w = backend.placeholder('centers', [3, 4]);
 * const y = backend.placeholder('labels', [-1], 'int32');
 * const value = loss(x, w, y);
 * const [dx, dw] = backend.gradients(value, [x, w]);
 * const step = await backend.compile({ loss: value, dx: dx!, dw: dw! });
 * const out = await step.run({
 *   embeddings: { data: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]), dims: [2, 4] },
 *   centers: { data: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]), dims: [3, 4] },
 *   labels: { data: new Int32Array([0, 1]), dims: [2] },
 * });
 * console.log(out.loss!.dims, out.dw!.dims); // [] [3, 4]
 * await backend.dispose();
 * ```
 */
export function ortBackend(ort: OrtModule, options: OrtBackendOptions = {}): OrtBackend {
  checkModule(ort);
  const { sessionOptions, cacheSize } = checkOptions(options);
  const cache = createSessionCache(ort, sessionOptions, cacheSize);
  const runner: Runner = { ort, cache, defaultValidate: readValidate('options.validate', options.validate, 'full') };
  const tracer = createTracer();
  const { isTensor, ownTensor } = tracer;
  const base: Backend<OrtTensor> = {
    specificationVersion: 'v1',
    name: 'ort',
    ops: tracer.ops,
    supports: { gradients: true, eagerValues: false },
    isTensor,
    shape: (t) => t.shape,
    dtype: (t) => t.dtype,
  };
  const tensorOps = createOps(base);
  const alive = (): void => {
    if (cache.disposed) throw new BackendError('backend', 'this ort backend was disposed');
  };

  return {
    ...base,
    tensorOps,
    variable(values, shape) {
      return this.tensor(values, shape, 'float32');
    },
    share(values, shape) {
      alive();
      return tracer.tensor(values, shape, 'float32', undefined, true);
    },
    async valueAndGradients(f, xs) {
      const inputs = xs.map((x, i) => ownTensor(`xs[${i}]`, x));
      const y = f(...inputs);
      if (!isTensor(y) || y.shape.length !== 0) throw new InvalidArgumentError('f', 'must return a scalar tensor of this backend');
      const outs = await this.run([y, ...this.gradients(y, inputs)]);
      return { value: Number((outs[0]!.data as ArrayLike<number>)[0]), gradients: outs.slice(1).map((o) => ownFloat32(o.data)) };
    },
    async compute(f, xs) {
      const inputs = xs.map((x, i) => ownTensor(`xs[${i}]`, x));
      const ys = f(...inputs);
      if (!Array.isArray(ys)) throw new InvalidArgumentError('f', 'must return an array of tensors of this backend');
      const outs = await this.run(ys.map((y, i) => ownTensor(`f()[${i}]`, y)));
      return outs.map((o) => ownFloat32(o.data));
    },
    async read(t) {
      const data = boundData(ownTensor('tensor', t));
      if (data === undefined)
        throw new InvalidArgumentError('tensor', 'is symbolic (a placeholder or a traced result): run it with backend.run([tensor], feeds)');
      return data;
    },
    placeholder(name, shape, dtype = 'float32') {
      alive();
      return tracer.placeholder(name, shape, dtype);
    },
    tensor(values, shape, dtype = 'float32', name) {
      alive();
      return tracer.tensor(values, shape, dtype, name);
    },
    gradients(y, xs, dy) {
      alive();
      const yy = ownTensor('y', y);
      if (!Array.isArray(xs)) throw new InvalidArgumentError('xs', 'expected an array of tensors');
      const xx = xs.map((x, i) => ownTensor(`xs[${i}]`, x));
      return vjp(tensorOps, yy, xx, dy === undefined ? undefined : ownTensor('dy', dy));
    },
    async compile(outputs, compileOptions = {}) {
      alive();
      return compileGraph(runner, tracer.namedOutputs('outputs', outputs), compileOptions);
    },
    async run(outputs, feeds, runOptions = {}) {
      alive();
      if (!Array.isArray(outputs)) throw new InvalidArgumentError('outputs', 'expected an array of tensors');
      return runOnce(
        runner,
        outputs.map((t, i) => ownTensor(`outputs[${i}]`, t)),
        feeds,
        runOptions,
      );
    },
    exportOnnx(outputs, exportOptions = {}) {
      const named = tracer.namedOutputs('outputs', outputs);
      return exportModel(named, new Set((exportOptions.freeze ?? []).map((t, i) => ownTensor(`options.freeze[${i}]`, t))));
    },
    stats: () => cache.stats(),
    dispose: () => cache.dispose(),
  };
}

/**
 * ORT hands each output back in a buffer of its own: a Float32Array is returned as it is (no second
 * copy: 0.8 s a step for a chunked head of 10⁶ classes), anything else is converted.
 */
function ownFloat32(data: unknown): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

/** The session options and cache size of checked backend options. */
function checkOptions(options: OrtBackendOptions): { sessionOptions: Record<string, unknown>; cacheSize: number } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `expected an object, got ${String(options)}`);
  const cacheSize = options.cacheSize ?? 16;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new InvalidArgumentError('options.cacheSize', `must be a positive integer, got ${cacheSize}`);
  if (options.sessionOptions !== undefined && (typeof options.sessionOptions !== 'object' || options.sessionOptions === null)) {
    throw new InvalidArgumentError('options.sessionOptions', `expected an object of ONNX Runtime session options, got ${String(options.sessionOptions)}`);
  }
  const threads = machineThreads();
  return { sessionOptions: { ...(threads === undefined ? {} : { intraOpNumThreads: threads }), ...(options.sessionOptions ?? {}) }, cacheSize };
}

/**
 * The number of threads the machine offers: `os.availableParallelism()` in Node (read through
 * `process.getBuiltinModule`, so nothing is imported where there is no Node),
 * `navigator.hardwareConcurrency` elsewhere; undefined when neither is there.
 */
function machineThreads(): number | undefined {
  const host = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown }; navigator?: { hardwareConcurrency?: unknown } };
  const os = host.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const n = os?.availableParallelism?.() ?? host.navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}
