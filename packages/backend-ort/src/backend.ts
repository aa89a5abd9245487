import {
  type Backend,
  BackendError,
  type DType,
  DTypeError,
  InvalidArgumentError,
  type OpName,
  type Ops,
  ShapeError,
  type TensorOps,
  createOps,
} from '@marginkit/core';
import { type IndexRange, checkFinite, checkIndexValues, indexRanges } from './feed-check.js';
import { type AnyAttrs, type InputData, OrtTensor, formatShape, inferOp, isOrtTensor, topologicalOrder } from './graph.js';
import { type GraphInput, type Lowered, boundData, lowerGraph } from './lower.js';
import { encodeModel } from './onnx.js';
import { vjp } from './vjp.js';

/**
 * A tensor value of ONNX Runtime, as `ort.Tensor` of onnxruntime-web or onnxruntime-node has it.
 * Only these members are used, so tensors from either package (or any object like them) work.
 */
export interface OrtValue {
  /** The element type, e.g. `'float32'`, `'int32'`, `'bool'`. */
  readonly type: string;
  /** The values, row-major. */
  readonly data: unknown;
  /** The dimensions. */
  readonly dims: readonly number[];
}

/** An InferenceSession as the backend uses it (the onnxruntime-common API). */
export interface OrtSessionLike {
  /** Runs the model on named inputs. */
  run(feeds: Record<string, OrtValue>): Promise<Record<string, OrtValue>>;
  /** Releases the session's native resources. */
  release(): Promise<void>;
}

/**
 * The parts of the `onnxruntime-web` or `onnxruntime-node` module the backend uses. Pass the
 * module itself: `import * as ort from 'onnxruntime-node'`.
 */
export interface OrtModule {
  /** Creates sessions from model bytes. */
  readonly InferenceSession: {
    /** `InferenceSession.create(bytes, options)`. */
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike>;
  };
  /** The tensor constructor, `new ort.Tensor(type, data, dims)`. */
  readonly Tensor: OrtTensorConstructor;
}

/** `ort.Tensor` as the backend constructs it. */
export interface OrtTensorConstructor {
  /** A tensor of `type` with row-major `data` and dimensions `dims`. */
  new (type: 'float32' | 'int32' | 'bool', data: Float32Array | Int32Array | Uint8Array, dims: readonly number[]): OrtValue;
}

/** Options of {@link ortBackend}. */
export interface OrtBackendOptions {
  /**
   * Session options passed to `InferenceSession.create` for every model, e.g.
   * `{ intraOpNumThreads: 2 }` on onnxruntime-node or `{ executionProviders: ['webgpu'] }` on
   * onnxruntime-web. (onnxruntime-web reads its thread count from `ort.env.wasm.numThreads`, which
   * must be set before the first session.) ONNX Runtime's own log goes to stderr at
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

/** What is checked when data is fed: see {@link OrtBackendOptions.validate}. */
export type FeedValidation = 'full' | 'shapes';

/** Options of {@link OrtBackend.compile} and {@link OrtBackend.run}. */
export interface CompileOptions {
  /** What is checked when data is fed; default the backend's {@link OrtBackendOptions.validate}. */
  readonly validate?: FeedValidation;
}

/** Data to feed an input: an `ort.Tensor` or `{ data, dims }` with data of the input's dtype. */
export type Feed = OrtValue | PlainFeed;

/** Input data without an `ort.Tensor`: the dtype is read from the typed array. */
export interface PlainFeed {
  /** Row-major values: a Float32Array for float32 inputs, an Int32Array for int32 inputs. */
  readonly data: InputData;
  /** The dimensions. */
  readonly dims: readonly number[];
}

/** Inputs fed by name. Inputs made with {@link OrtBackend.tensor} may be omitted (their bound values are used). */
export type Feeds = Readonly<Record<string, Feed>>;

/** A compiled graph: an InferenceSession with named inputs and outputs. */
export interface CompiledGraph {
  /** The inputs, in order, with their static shapes (−1 where any size is accepted). */
  readonly inputs: readonly GraphInput[];
  /** The output names, in order. */
  readonly outputs: readonly string[];
  /** The ONNX model the session runs. */
  readonly model: Uint8Array;
  /**
   * Runs the session; returns the outputs by name as `ort.Tensor`s of the module passed to {@link ortBackend}.
   * Feeds are checked first (see {@link OrtBackendOptions.validate}): dims non-negative integers
   * matching the graph and non-empty where the graph's size is open (`ShapeError`), data a
   * Float32Array / Int32Array of the input's dtype (`DTypeError`) and, with `'full'`, finite
   * float32 values (`NonFiniteError`) and in-range labels (`LabelError`); each error names `feeds.<input>`.
   */
  run(feeds?: Feeds): Promise<Record<string, OrtValue>>;
  /** Releases this graph's hold on its session (released when no compiled graph uses it). Idempotent. */
  dispose(): Promise<void>;
}

/** Cache counters, for tests and diagnostics. */
export interface OrtCacheStats {
  /** Sessions created since the backend was made. */
  readonly sessionsCreated: number;
  /** Compilations served from the cache. */
  readonly cacheHits: number;
  /** Sessions alive now. */
  readonly live: number;
}

/** Options of {@link OrtBackend.exportOnnx}. */
export interface ExportOptions {
  /**
   * Tensors made with {@link OrtBackend.tensor} whose values are stored in the model as
   * initialisers (e.g. trained centres) instead of staying graph inputs.
   */
  readonly freeze?: readonly OrtTensor[];
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

const MODULE_PARTS = ['InferenceSession.create', 'Tensor'] as const;

function checkModule(ort: unknown): asserts ort is OrtModule {
  if (typeof ort !== 'object' || ort === null) {
    throw new BackendError('ort', `expected the onnxruntime-web or onnxruntime-node module, got ${ort === null ? 'null' : typeof ort}`);
  }
  const o = ort as Record<string, unknown>;
  const session = o['InferenceSession'] as Record<string, unknown> | undefined;
  const missing: string[] = [];
  if (typeof session !== 'function' && (typeof session !== 'object' || session === null)) missing.push('InferenceSession.create');
  else if (typeof session['create'] !== 'function') missing.push('InferenceSession.create');
  if (typeof o['Tensor'] !== 'function') missing.push('Tensor');
  if (missing.length > 0) {
    const hint = 'tidy' in o && 'tensor' in o ? ' (this looks like TensorFlow.js: use tfjsBackend from @marginkit/backend-tfjs)' : '';
    throw new BackendError(
      'ort',
      `not an ONNX Runtime module${hint}: looked for ${MODULE_PARTS.join(', ')}; missing ${missing.join(', ')}. Pass the module itself: import * as ort from 'onnxruntime-node' (or 'onnxruntime-web')`,
    );
  }
}

const TYPED: Record<DType, { from(values: ArrayLike<number>): InputData }> = {
  float32: Float32Array,
  int32: Int32Array,
  bool: Uint8Array,
};

function checkName(argument: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(argument, `must be a non-empty string, got ${String(name)}`);
  if (name.startsWith('mk.')) throw new InvalidArgumentError(argument, `'${name}': names starting with 'mk.' are reserved for the backend's own values`);
  return name;
}

function checkShape(argument: string, shape: unknown, allowUnknown: boolean): readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d >= 0 || (allowUnknown && d === -1)))) {
    throw new ShapeError(
      argument,
      `expected an array of non-negative integers${allowUnknown ? ' (or −1 for a size known at run time)' : ''}, got ${JSON.stringify(shape)}`,
    );
  }
  return shape as readonly number[];
}

function checkDType(argument: string, dtype: unknown): 'float32' | 'int32' {
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError(argument, `expected 'float32' or 'int32', got ${String(dtype)}`);
  return dtype;
}

interface CacheEntry {
  readonly session: Promise<OrtSessionLike>;
  readonly largeConstants: readonly Uint8Array[];
  readonly bytes: Uint8Array;
  refs: number;
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
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `expected an object, got ${String(options)}`);
  const cacheSize = options.cacheSize ?? 16;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new InvalidArgumentError('options.cacheSize', `must be a positive integer, got ${cacheSize}`);
  if (options.sessionOptions !== undefined && (typeof options.sessionOptions !== 'object' || options.sessionOptions === null)) {
    throw new InvalidArgumentError('options.sessionOptions', `expected an object of ONNX Runtime session options, got ${String(options.sessionOptions)}`);
  }
  const sessionOptions = { ...(options.sessionOptions ?? {}) };
  const defaultValidate = readValidate('options.validate', options.validate, 'full');
  const owner = {};
  let nextId = 0;
  let autoName = 0;
  let sessionsCreated = 0;
  let cacheHits = 0;
  let disposed = false;
  const cache = new Map<string, CacheEntry>();

  const make = (op: OpName, inputs: readonly OrtTensor[], attrs: AnyAttrs): OrtTensor => {
    const { shape, dtype } = inferOp(op, inputs, attrs);
    return new OrtTensor(owner, nextId++, shape, dtype, { kind: 'op', op, inputs, attrs });
  };
  const record =
    <K extends OpName>(op: K): TensorOps<OrtTensor>[K] =>
    (inputs: readonly OrtTensor[], attrs: AnyAttrs) =>
      make(op, inputs, attrs);
  const ops: TensorOps<OrtTensor> = {
    constant: (_, attrs) => {
      const values = typeof attrs.values === 'number' ? attrs.values : Array.from(attrs.values);
      return make('constant', [], { ...attrs, values, shape: [...attrs.shape] });
    },
    matmul: record('matmul'),
    add: record('add'),
    sub: record('sub'),
    mul: record('mul'),
    div: record('div'),
    maximum: record('maximum'),
    minimum: record('minimum'),
    greater: record('greater'),
    less: record('less'),
    where: record('where'),
    neg: record('neg'),
    sqrt: record('sqrt'),
    exp: record('exp'),
    log: record('log'),
    cos: record('cos'),
    sin: record('sin'),
    acos: record('acos'),
    floor: record('floor'),
    clip: record('clip'),
    sum: record('sum'),
    mean: record('mean'),
    max: record('max'),
    logSumExp: record('logSumExp'),
    reshape: (inputs, attrs) => make('reshape', inputs, { shape: [...attrs.shape] }),
    gatherPerRow: record('gatherPerRow'),
    oneHot: record('oneHot'),
    stopGradient: record('stopGradient'),
    cast: record('cast'),
  };

  const isTensor = (value: unknown): value is OrtTensor => isOrtTensor(value) && value.owner === owner;
  const base: Backend<OrtTensor> = {
    specificationVersion: 'v1',
    name: 'ort',
    ops,
    supports: { gradients: true, eagerValues: false },
    isTensor,
    shape: (t) => t.shape,
    dtype: (t) => t.dtype,
  };
  const tensorOps = createOps(base);

  const ownTensor = (argument: string, t: unknown): OrtTensor => {
    if (!isTensor(t)) {
      const why = isOrtTensor(t) ? 'a tensor of another ortBackend instance' : t === null ? 'null' : typeof t;
      throw new InvalidArgumentError(argument, `expected a tensor of this ort backend, got ${why}`);
    }
    return t;
  };
  const namedOutputs = (argument: string, outputs: unknown): [string, OrtTensor][] => {
    if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
      throw new InvalidArgumentError(
        argument,
        `expected an object of named tensors such as { loss }, got ${Array.isArray(outputs) ? 'an array' : String(outputs)}`,
      );
    }
    const entries = Object.entries(outputs as Record<string, unknown>);
    if (entries.length === 0) throw new InvalidArgumentError(argument, 'needs at least one tensor');
    return entries.map(([k, t]) => [checkName(`${argument}.${k}`, k), ownTensor(`${argument}.${k}`, t)]);
  };
  const alive = (): void => {
    if (disposed) throw new BackendError('backend', 'this ort backend was disposed');
  };

  const toOrt = (
    input: GraphInput,
    feed: Feed | undefined,
    fallback: InputData | undefined,
    validate: FeedValidation,
    range: IndexRange | undefined,
  ): OrtValue => {
    const arg = `feeds.${input.name}`;
    const checkValues = (data: InputData, dims: readonly number[], what: string): void => {
      if (validate !== 'full') return;
      if (input.dtype === 'float32') checkFinite(what, data as Float32Array, dims);
      else if (range) checkIndexValues(what, input.name, data, range);
    };
    if (feed === undefined) {
      if (!fallback) throw new InvalidArgumentError(arg, `is required: input '${input.name}' ${input.dtype} ${formatShape(input.shape)} has no bound values`);
      checkValues(fallback, input.shape, arg);
      return new ort.Tensor(input.dtype, fallback, input.shape);
    }
    if (typeof feed !== 'object' || feed === null || !('dims' in feed) || !('data' in feed)) {
      throw new InvalidArgumentError(arg, 'expected an ort.Tensor or { data, dims }');
    }
    const dims = feed.dims;
    if (!Array.isArray(dims) && !ArrayBuffer.isView(dims)) throw new ShapeError(arg, 'expected dims as an array of dimensions');
    const dimList = Array.from(dims as ArrayLike<unknown>);
    if (!dimList.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError(arg, `has dims [${dimList.map((d) => String(d)).join(', ')}]: every dimension must be a non-negative integer`);
    }
    if (dimList.length !== input.shape.length) {
      throw new ShapeError(
        arg,
        `has rank ${dimList.length} (dims [${dimList.join(', ')}]) but the graph was compiled for rank ${input.shape.length} ${formatShape(input.shape)}`,
      );
    }
    input.shape.forEach((d, i) => {
      if (d >= 0 && dimList[i] !== d) throw new ShapeError(arg, `has dims [${dimList.join(', ')}] but the graph needs ${formatShape(input.shape)}`);
      if (d < 0 && dimList[i] === 0) {
        throw new ShapeError(
          arg,
          `is empty: dims [${dimList.join(', ')}] have size 0 on axis ${i} (a batch needs at least one row; the graph takes ${formatShape(input.shape)})`,
        );
      }
    });
    let given: unknown;
    try {
      given = feed.data; // an ort.Tensor on a GPU throws here
    } catch (e) {
      throw new InvalidArgumentError(arg, `its data cannot be read on the CPU (${e instanceof Error ? e.message : String(e)}): feed CPU data`);
    }
    const type = 'type' in feed ? feed.type : given instanceof Float32Array ? 'float32' : given instanceof Int32Array ? 'int32' : 'unknown';
    if (type !== input.dtype) throw new DTypeError(arg, `expected ${input.dtype} data, got ${type === 'unknown' ? describeData(given) : String(type)}`);
    const want = input.dtype === 'int32' ? Int32Array : Float32Array;
    if (!(given instanceof want)) {
      throw new DTypeError(arg, `expected ${input.dtype} data in a ${want.name}, got ${describeData(given)} (convert it, e.g. ${want.name}.from(values))`);
    }
    const data = given as InputData;
    const size = dimList.reduce((p, d) => p * d, 1);
    if (data.length !== size) throw new ShapeError(arg, `has ${data.length} values but dims [${dimList.join(', ')}] need ${size}`);
    checkValues(data, dimList, arg);
    // A tensor of this module goes to the session as it is; anything else (a `{ data, dims }`, a
    // tensor of the other ONNX Runtime package) is wrapped from its data.
    return feed instanceof ort.Tensor ? feed : new ort.Tensor(input.dtype, data, dimList);
  };

  /** The session for a trace (cached by its structural key), and the trace itself: its bound values are this call's. */
  const acquire = (outputs: [string, OrtTensor][]): { entry: CacheEntry; lowered: Lowered } => {
    const lowered = lowerGraph(outputs);
    // The key spells out small constants and hashes large ones; a hit must also have equal large constants.
    let key = lowered.key;
    let entry = cache.get(key);
    for (let n = 1; entry && !sameBytes(entry.largeConstants, lowered.largeConstants); n++) {
      key = `${lowered.key}\n#${n}`;
      entry = cache.get(key);
    }
    if (entry) {
      cacheHits++;
      cache.delete(key);
      cache.set(key, entry); // most recently used last
    } else {
      const bytes = encodeModel(lowered.model());
      sessionsCreated++;
      const session = ort.InferenceSession.create(bytes, sessionOptions).catch((e: unknown) => {
        cache.delete(key);
        throw new BackendError('model', `ONNX Runtime could not load the traced model: ${e instanceof Error ? e.message : String(e)}`);
      });
      entry = { session, bytes, refs: 0, largeConstants: lowered.largeConstants };
      cache.set(key, entry);
      evict();
    }
    entry.refs++;
    return { entry, lowered };
  };
  /** Drops a hold on a cached session; sessions leave the cache (and are released) only through `evict` and `dispose`. */
  const release = (entry: CacheEntry): void => {
    entry.refs--;
    evict();
  };
  const evict = (): void => {
    for (const [key, entry] of cache) {
      if (cache.size <= cacheSize) break;
      if (entry.refs > 0) continue;
      cache.delete(key);
      entry.session.then((s) => s.release()).catch(() => undefined);
    }
  };
  const runEntry = async (
    entry: CacheEntry,
    lowered: Lowered,
    feeds: Feeds | undefined,
    validate: FeedValidation,
    ranges: ReadonlyMap<number, IndexRange>,
  ): Promise<Record<string, OrtValue>> => {
    const f = feeds ?? {};
    if (typeof f !== 'object' || f === null) throw new InvalidArgumentError('feeds', 'expected an object of inputs by name');
    for (const name of Object.keys(f)) {
      if (!lowered.inputs.some((i) => i.name === name)) {
        throw new InvalidArgumentError(
          `feeds.${name}`,
          `is not an input of this graph; its inputs are ${lowered.inputs.map((i) => i.name).join(', ') || 'none'}`,
        );
      }
    }
    const ortFeeds: Record<string, OrtValue> = {};
    for (const input of lowered.inputs) {
      ortFeeds[input.name] = toOrt(input, f[input.name], boundData(input.tensor), validate, ranges.get(input.tensor.id));
    }
    const session = await entry.session;
    try {
      return await session.run(ortFeeds);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const hint = /GatherElements/.test(message) ? ' (an index fed to gatherPerRow, such as a label, is outside [0, columns))' : '';
      throw new BackendError('run', `ONNX Runtime failed to run the graph${hint}: ${message}`);
    }
  };

  return {
    ...base,
    tensorOps,
    variable(values, shape) {
      return this.tensor(values, shape, 'float32');
    },
    async valueAndGradients(f, xs) {
      const inputs = xs.map((x, i) => ownTensor(`xs[${i}]`, x));
      const y = f(...inputs);
      if (!isTensor(y) || y.shape.length !== 0) throw new InvalidArgumentError('f', 'must return a scalar tensor of this backend');
      const outs = await this.run([y, ...this.gradients(y, inputs)]);
      return { value: Number((outs[0]!.data as ArrayLike<number>)[0]), gradients: outs.slice(1).map((o) => Float32Array.from(o.data as ArrayLike<number>)) };
    },
    async read(t) {
      const data = boundData(ownTensor('tensor', t));
      if (data === undefined)
        throw new InvalidArgumentError('tensor', 'is symbolic (a placeholder or a traced result): run it with backend.run([tensor], feeds)');
      return data;
    },
    placeholder(name, shape, dtype = 'float32') {
      alive();
      const n = checkName('placeholder.name', name);
      const s = checkShape('placeholder.shape', shape, true);
      const dt = checkDType('placeholder.dtype', dtype);
      return new OrtTensor(owner, nextId++, s, dt, { kind: 'input', name: n, bound: undefined });
    },
    tensor(values, shape, dtype = 'float32', name) {
      alive();
      const s = checkShape('tensor.shape', shape, false);
      const dt = checkDType('tensor.dtype', dtype);
      const n = name === undefined ? `input${autoName++}` : checkName('tensor.name', name);
      if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
        throw new InvalidArgumentError('tensor.values', `expected an array or typed array of numbers, got ${values === null ? 'null' : typeof values}`);
      }
      const size = s.reduce((p, d) => p * d, 1);
      if (values.length !== size) throw new ShapeError('tensor.values', `has ${values.length} values but shape ${formatShape(s)} needs ${size}`);
      return new OrtTensor(owner, nextId++, s, dt, { kind: 'input', name: n, bound: TYPED[dt].from(values), ...(name === undefined ? { auto: true } : {}) });
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
      const named = namedOutputs('outputs', outputs);
      const validate = readValidate('options.validate', compileOptionsOf(compileOptions).validate, defaultValidate);
      const { entry, lowered } = acquire(named);
      const ranges = validate === 'full' ? indexRanges(topologicalOrder(named.map(([, t]) => t))) : new Map<number, IndexRange>();
      try {
        await entry.session;
      } catch (e) {
        entry.refs--;
        throw e;
      }
      let done = false;
      return {
        inputs: lowered.inputs.map(({ name, shape, dtype }) => ({ name, shape, dtype })),
        outputs: lowered.outputs,
        model: entry.bytes,
        run: (feeds) => {
          if (done || disposed) return Promise.reject(new BackendError('compiled', `this compiled graph${done ? '' : "'s backend"} was disposed`));
          return runEntry(entry, lowered, feeds, validate, ranges);
        },
        dispose: async () => {
          if (done) return;
          done = true;
          release(entry);
        },
      };
    },
    async run(outputs, feeds, runOptions = {}) {
      alive();
      if (!Array.isArray(outputs)) throw new InvalidArgumentError('outputs', 'expected an array of tensors');
      const named = outputs.map((t, i): [string, OrtTensor] => [`output${i}`, ownTensor(`outputs[${i}]`, t)]);
      const validate = readValidate('options.validate', compileOptionsOf(runOptions).validate, defaultValidate);
      const ranges = validate === 'full' ? indexRanges(topologicalOrder(named.map(([, t]) => t))) : new Map<number, IndexRange>();
      const { entry, lowered } = acquire(named);
      try {
        const result = await runEntry(entry, lowered, feeds, validate, ranges);
        return named.map(([n]) => result[n]!);
      } finally {
        release(entry);
      }
    },
    exportOnnx(outputs, exportOptions = {}) {
      const named = namedOutputs('outputs', outputs);
      const freeze = new Set((exportOptions.freeze ?? []).map((t, i) => ownTensor(`options.freeze[${i}]`, t)));
      return encodeModel(lowerGraph(named, { freeze }).model());
    },
    stats: () => ({ sessionsCreated, cacheHits, live: cache.size }),
    async dispose() {
      disposed = true;
      const entries = [...cache.values()];
      cache.clear();
      await Promise.all(entries.map(async (e) => (await e.session.catch(() => undefined))?.release()));
    },
  };
}

function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
    return true;
  });
}

function describeData(data: unknown): string {
  if (ArrayBuffer.isView(data)) return `a ${data.constructor.name}`;
  if (Array.isArray(data)) return 'a plain array (use a Float32Array or Int32Array)';
  return typeof data;
}

function readValidate(argument: string, value: unknown, fallback: FeedValidation): FeedValidation {
  if (value === undefined) return fallback;
  if (value !== 'full' && value !== 'shapes') throw new InvalidArgumentError(argument, `expected 'full' or 'shapes', got ${String(value)}`);
  return value;
}

function compileOptionsOf(options: unknown): CompileOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', `expected an object such as { validate: 'shapes' }, got ${String(options)}`);
  return options as CompileOptions;
}
