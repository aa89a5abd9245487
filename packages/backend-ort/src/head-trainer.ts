import {
  InvalidArgumentError,
  type MarginLoss,
  type MarginStep,
  ShapeError,
  checkDataLength,
  checkFinite,
  checkLabelValues,
  checkLabelsShape,
  checkMatrixShape,
  checkShape,
  checkTypedArray,
  cosineLogits,
} from '@marginkit/core';
import type { OrtBackend } from './backend.js';
import type { CompiledGraph } from './compile.js';
import type { Feed } from './feeds.js';
import type { OrtValue } from './ort-module.js';
import { checkName, checkStepOutput, finiteScreens } from './finite-outputs.js';
import { type HeadOptimizer, checkAdam, checkSgd, optimizerUpdate } from './optimizers.js';
import type { OrtTensor } from './graph.js';

/** Options of {@link headTrainer}. */
export interface HeadTrainerOptions {
  /**
   * The loss, made on this backend: `marginSoftmaxLoss(backend, { margin, scale })`,
   * `registry.loss(backend, config)`, or a stateful `marginSoftmaxStep(...)` (a head's
   * `trainerOptions()` gives one), whose margin state the trainer carries from step to step.
   */
  readonly loss: MarginLoss<OrtTensor> | MarginStep<OrtTensor>;
  /** With a step: the margin's state to start from (default its initial values). */
  readonly state?: Readonly<Record<string, Float32Array>>;
  /** With a step whose margin has per-step inputs (ElasticFace): draws them for a batch. */
  readonly inputs?: (batch: number) => Readonly<Record<string, Float32Array>>;
  /** The initial centres, row-major [classes, dim]; copied. */
  readonly centers: Float32Array;
  /** C, the number of classes (rows of `centers`). */
  readonly classes: number;
  /** D, the embedding dimension (columns of `centers`). */
  readonly dim: number;
  /** How the centres are updated. */
  readonly optimizer: HeadOptimizer;
}

/** What one training step returns. */
export interface HeadStepResult {
  /** The loss before the update. */
  readonly loss: number;
  /** d loss / d embeddings [B, D], to backpropagate into the network that made the embeddings. */
  readonly embeddingsGradient: OrtValue;
}

/** A head whose centres are trained on ONNX Runtime; see {@link headTrainer}. */
export interface HeadTrainer {
  /** Steps taken so far. */
  readonly steps: number;
  /**
   * One step: the loss and its gradients on ORT, then the optimizer's update of the centres, also on
   * ORT, in one session run. Labels are checked (integers in [0, classes), or −1 where the loss
   * ignores it) and embeddings must be finite and have at least one row. A step whose loss,
   * gradient, new centres or new optimizer/margin state is not finite (float32 overflowed) throws
   * a `NonFiniteError` (argument `step.<output>`, e.g. `step.centers`) and commits nothing: the
   * centres, optimizer state, margin state and `steps` stay as they were.
   * @param embeddings - [B, D] float32.
   * @param labels - [B] int32.
   */
  step(embeddings: Feed, labels: Feed): Promise<HeadStepResult>;
  /** A copy of the current centres [classes, dim]. */
  centers(): Float32Array;
  /** A copy of the margin's current state (empty for stateless losses). */
  state(): Record<string, Float32Array>;
  /**
   * The step graph as `.onnx` bytes. Inputs: embeddings, labels, centres, optimizer state (SGD with
   * momentum: `velocity`, kept scaled by −η; Adam: the moments and its bias-corrected rates).
   * Outputs: `loss`, `embeddingsGradient`, the next state `<input>Next`, and for each float output
   * of rank ≥ 1 the sum of its values, `<output>FiniteCheck`, which the trainer reads to skip
   * scanning an output whose sum is finite.
   */
  model(): Uint8Array;
  /**
   * The inference model of the head as `.onnx` bytes: embeddings [batch, D] → cosines [batch, C]
   * (output `cosines`), with the current centres stored as initialisers (`'initializer'`, default)
   * or left as an input named `centers` (`'input'`).
   */
  logitsModel(centersAs?: 'initializer' | 'input'): Uint8Array;
  /** Releases the step's session. */
  dispose(): Promise<void>;
}

/**
 * Trains a margin-softmax head (its class centres) entirely on ONNX Runtime: one session computes
 * the loss, its gradients through the traced VJP graph and the optimizer update, and the new
 * centres and optimizer state are fed back to the next step. The embeddings' gradient is returned
 * for the network that produced them. With a stateful step (AdaFace, CurricularFace, AdaCos) the
 * margin's state is a graph input and its next value a graph output, fed back the same way; a
 * head from `@marginkit/losses` gives everything as `await head.trainerOptions()`.
 *
 * Memory: ONNX Runtime's JavaScript API (1.30) hands every output back in a fresh buffer, so each
 * step allocates the new centres and optimizer state ([C, D] each, 200 MB at C = 100,000). On
 * Linux with glibc ≥ 2.35, run Node with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` so that those
 * buffers get transparent huge pages: at C = 100,000 a step took 0.65 s with it and 1.8–2.2 s
 * without here, the difference being 4 KiB page faults (see the ONNX Runtime guide).
 *
 * @param backend - an {@link OrtBackend}.
 * @param options - the loss, initial centres, sizes and optimizer.
 * @returns a trainer; call `step` per batch and `dispose` at the end.
 *
 * @example
 * ```ts
 * import { arcface, marginSoftmaxLoss } from '@marginkit/core';
 * import { adam, headTrainer, ortBackend } from '@marginkit/backend-ort';
 * import * as ort from 'onnxruntime-node';
 * const backend = ortBackend(ort);
 * const trainer = await headTrainer(backend, {
 *   loss: marginSoftmaxLoss(backend, { margin: arcface({ m: 0.2 }), scale: 8 }),
 *   centers: new Float32Array([1, 0.1, 0.1, 1]),
 *   classes: 2,
 *   dim: 2,
 *   optimizer: adam({ learningRate: 0.05 }),
 * });
 * const embeddings = { data: new Float32Array([1, 0.2, 0.1, 1, 0.9, -0.1]), dims: [3, 2] };
 * const labels = { data: new Int32Array([0, 1, 0]), dims: [3] };
 * const first = await trainer.step(embeddings, labels);
 * for (let i = 0; i < 20; i++) await trainer.step(embeddings, labels);
 * const last = await trainer.step(embeddings, labels);
 * console.log(last.loss < first.loss, last.embeddingsGradient.dims); // true [3, 2]
 * await trainer.dispose();
 * ```
 */
export async function headTrainer(backend: OrtBackend, options: HeadTrainerOptions): Promise<HeadTrainer> {
  const optimizer = checkTrainerOptions(options);
  const { classes, dim } = options;
  const x = backend.placeholder('embeddings', [-1, dim]);
  const y = backend.placeholder('labels', [-1], 'int32');
  const w = backend.placeholder('centers', [classes, dim]);
  const traced = traceLoss(backend, options, x, w, y, classes);
  const value = traced.loss;
  if (!backend.isTensor(value) || value.shape.length !== 0) {
    throw new ShapeError(
      'options.loss',
      `must reduce to a scalar (reduction 'mean' or 'sum'), got ${backend.isTensor(value) ? `shape [${value.shape.join(', ')}]` : 'no tensor'}`,
    );
  }
  const [gx, gw] = backend.gradients(value, [x, w]) as [OrtTensor, OrtTensor];
  const update = optimizerUpdate(backend, optimizer, w, gw);
  const results: Record<string, OrtTensor> = { loss: value, embeddingsGradient: gx, ...traced.outputs, ...update.outputs };
  const outputs: Record<string, OrtTensor> = { ...results, ...finiteScreens(backend, results) };
  const state: Record<string, Feed> = { ...traced.state, ...update.state, centers: { data: Float32Array.from(options.centers), dims: [classes, dim] } };
  let steps = 0;
  // The trainer checks what it is fed itself (embeddings, labels, drawn inputs) and its own state is
  // checked as it comes out, so the run checks shapes only: no scan of the [C, D] state per step.
  const graph: CompiledGraph = await backend.compile(outputs, { validate: 'shapes' });
  let running = false;

  return {
    get steps() {
      return steps;
    },
    async step(embeddings, labels) {
      if (running) throw new InvalidArgumentError('step', 'the previous step has not finished: await each step before the next');
      const b = checkEmbeddings(embeddings, dim);
      checkLabels(labels, b, classes / traced.subCenters, traced.ignore);
      running = true;
      try {
        const scalars = Object.fromEntries(Object.entries(update.rates(steps + 1)).map(([k, r]) => [k, { data: new Float32Array([r]), dims: [] as number[] }]));
        const out = await graph.run({ ...state, ...scalars, ...traced.draw(b), embeddings, labels });
        // Nothing is committed until every result is finite: a failed step leaves the trainer as it was.
        const check = (k: string, name: string): void => checkStepOutput(k, out[name], out[checkName(name)], steps, optimizer);
        check('loss', 'loss');
        check('embeddingsGradient', 'embeddingsGradient');
        for (const k of Object.keys(state)) check(k, `${k}Next`);
        for (const k of Object.keys(state)) state[k] = out[`${k}Next`]!;
        steps++;
        return { loss: (out['loss']!.data as Float32Array)[0]!, embeddingsGradient: out['embeddingsGradient']! };
      } finally {
        running = false;
      }
    },
    centers: () => Float32Array.from(state['centers']!.data as Float32Array),
    state: () => Object.fromEntries(traced.keys.map((k) => [k, Float32Array.from(state[`state_${k}`]!.data as Float32Array)])),
    model: () => graph.model,
    logitsModel(centersAs = 'initializer') {
      if (centersAs !== 'initializer' && centersAs !== 'input') {
        throw new InvalidArgumentError('centersAs', `expected 'initializer' or 'input', got ${String(centersAs)}`);
      }
      const e = backend.placeholder('embeddings', [-1, dim]);
      const c = backend.tensor(state['centers']!.data as Float32Array, [classes, dim], 'float32', 'centers');
      return backend.exportOnnx(
        { cosines: cosineLogits(backend, { subCenters: traced.subCenters })(e, c) },
        { freeze: centersAs === 'initializer' ? [c] : [] },
      );
    },
    dispose: () => graph.dispose(),
  };
}

/** The optimizer of checked trainer options (loss, sizes, centres, optimizer). */
function checkTrainerOptions(options: HeadTrainerOptions): HeadOptimizer {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected { loss, centers, classes, dim, optimizer }');
  const { loss, classes, dim } = options;
  if (typeof loss !== 'function') throw new InvalidArgumentError('options.loss', 'expected a loss function such as marginSoftmaxLoss(backend, { margin })');
  for (const [k, v] of [
    ['classes', classes],
    ['dim', dim],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`options.${k}`, `must be a positive integer, got ${String(v)}`);
  }
  if (!(options.centers instanceof Float32Array)) throw new InvalidArgumentError('options.centers', 'expected a Float32Array [classes × dim], row-major');
  if (options.centers.length !== classes * dim) {
    throw new ShapeError('options.centers', `has ${options.centers.length} values but classes × dim = ${classes} × ${dim} = ${classes * dim}`);
  }
  checkFinite('options.centers', options.centers, [classes, dim]);
  const given = options.optimizer as HeadOptimizer | null | undefined;
  if (typeof given !== 'object' || given === null || (given.kind !== 'sgd' && given.kind !== 'adam')) {
    throw new InvalidArgumentError('options.optimizer', 'expected sgd({ ... }) or adam({ ... })');
  }
  // Checked again: an optimizer object may have been written by hand, bypassing sgd() and adam().
  return given.kind === 'sgd' ? checkSgd('options.optimizer', given) : checkAdam('options.optimizer', given);
}

/** The batch size B of embeddings fed to a step: float32 [B, dim], B ≥ 1, every value finite. */
function checkEmbeddings(feed: Feed, dim: number): number {
  if (typeof feed !== 'object' || feed === null || !('dims' in feed)) throw new InvalidArgumentError('embeddings', 'expected an ort.Tensor or { data, dims }');
  const dims = checkShape('embeddings', Array.from(feed.dims));
  const [batch] = checkMatrixShape('embeddings', dims, { what: `[B, ${dim}]`, cols: dim });
  const data = checkTypedArray('embeddings', feed.data, 'float32');
  checkDataLength('embeddings', data, dims);
  checkFinite('embeddings', data, dims);
  return batch;
}

/** The loss traced on the trainer's placeholders, with a step's state and inputs as graph inputs and outputs. */
interface TracedLoss {
  readonly loss: OrtTensor;
  /** Next-state outputs, `state_<key>Next`. */
  readonly outputs: Record<string, OrtTensor>;
  /** The initial state feeds, `state_<key>`. */
  readonly state: Record<string, Feed>;
  /** The state's keys. */
  readonly keys: readonly string[];
  /** Draws the per-step input feeds, `input_<key>`, for a batch. */
  readonly draw: (batch: number) => Record<string, Feed>;
  readonly subCenters: number;
  readonly ignore: boolean;
}

function isStep(loss: MarginLoss<OrtTensor> | MarginStep<OrtTensor>): loss is MarginStep<OrtTensor> {
  return typeof (loss as Partial<MarginStep<OrtTensor>>).initialState === 'function' && typeof (loss as Partial<MarginStep<OrtTensor>>).margin === 'object';
}

function traceLoss(backend: OrtBackend, options: HeadTrainerOptions, x: OrtTensor, w: OrtTensor, y: OrtTensor, rows: number): TracedLoss {
  const { loss } = options;
  if (!isStep(loss)) {
    if (options.state !== undefined || options.inputs !== undefined) {
      throw new InvalidArgumentError('options.state', "state and inputs go with a stateful loss step (marginSoftmaxStep or a head's trainerOptions())");
    }
    return { loss: loss(x, w, y), outputs: {}, state: {}, keys: [], draw: () => ({}), subCenters: 1, ignore: false };
  }
  const specs = loss.margin.state ?? {};
  const keys = Object.keys(specs);
  const initial = loss.initialState(rows / loss.subCenters);
  const stateFeeds: Record<string, Feed> = {};
  const stateInputs: Record<string, OrtTensor> = {};
  for (const k of keys) {
    const given = options.state?.[k];
    const data = given === undefined ? initial[k]!.data : Float32Array.from(given);
    checkFinite(`options.state.${k}`, data, [data.length]);
    if (data.length !== initial[k]!.data.length) throw new ShapeError(`options.state.${k}`, `has ${data.length} values, expected ${initial[k]!.data.length}`);
    stateFeeds[`state_${k}`] = { data, dims: [...specs[k]!.shape] };
    stateInputs[k] = backend.placeholder(`state_${k}`, specs[k]!.shape);
  }
  const inputKeys = Object.keys(loss.margin.inputs ?? {});
  if (inputKeys.length > 0 && typeof options.inputs !== 'function') {
    throw new InvalidArgumentError(
      'options.inputs',
      `margin '${loss.margin.type}' needs per-step inputs (${inputKeys.join(', ')}): pass inputs: (batch) => ({ ... })`,
    );
  }
  const inputs = Object.fromEntries(inputKeys.map((k) => [k, backend.placeholder(`input_${k}`, [-1])]));
  const r = loss(x, w, y, { state: stateInputs, inputs, training: true });
  const draw = (batch: number): Record<string, Feed> => {
    if (inputKeys.length === 0) return {};
    const drawn = options.inputs!(batch);
    return Object.fromEntries(
      inputKeys.map((k) => {
        const v = drawn[k];
        if (!(v instanceof Float32Array) || v.length !== batch) throw new ShapeError(`options.inputs().${k}`, `expected a Float32Array of ${batch} values`);
        checkFinite(`options.inputs().${k}`, v, [batch]);
        return [`input_${k}`, { data: v, dims: [batch] }];
      }),
    );
  };
  const outputs = Object.fromEntries(keys.map((k) => [`state_${k}Next`, r.state[k]!]));
  return { loss: r.loss, outputs, state: stateFeeds, keys, draw, subCenters: loss.subCenters, ignore: loss.ignoreIndex === -1 };
}

/** Labels fed to a step: int32 [batch], each in [0, classes), or −1 where the loss ignores it. */
function checkLabels(feed: Feed, batch: number, classes: number, ignore: boolean): void {
  if (typeof feed !== 'object' || feed === null || !('dims' in feed)) throw new InvalidArgumentError('labels', 'expected an ort.Tensor or { data, dims }');
  const data = checkTypedArray('labels', feed.data, 'int32');
  const dims = checkShape('labels', Array.from(feed.dims));
  checkLabelsShape('labels', dims, batch);
  checkDataLength('labels', data, dims);
  checkLabelValues('labels', data, classes, ignore ? { ignoreIndex: -1 } : {});
}
