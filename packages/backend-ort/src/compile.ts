import { BackendError, InvalidArgumentError } from '@marginkit/core';
import { type IndexRange, indexRanges } from './feed-check.js';
import { type FeedChecks, type FeedValidation, type Feeds, ortFeeds } from './feeds.js';
import { type OrtTensor, topologicalOrder } from './graph.js';
import { type GraphInput, type Lowered, lowerGraph } from './lower.js';
import type { OrtModule, OrtValue } from './ort-module.js';
import type { CacheEntry, SessionCache } from './session-cache.js';

/** Options of {@link OrtBackend.compile} and {@link OrtBackend.run}. */
export interface CompileOptions {
  /** What is checked when data is fed; default the backend's {@link OrtBackendOptions.validate}. */
  readonly validate?: FeedValidation;
}

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

/** What compiling and running use of a backend: its module, session cache and default validation. @internal */
export interface Runner {
  readonly ort: OrtModule;
  readonly cache: SessionCache;
  readonly defaultValidate: FeedValidation;
}

/** Reads a `validate` option: `'full'`, `'shapes'`, or `fallback` when undefined. @internal */
export function readValidate(argument: string, value: unknown, fallback: FeedValidation): FeedValidation {
  if (value === undefined) return fallback;
  if (value !== 'full' && value !== 'shapes') throw new InvalidArgumentError(argument, `expected 'full' or 'shapes', got ${String(value)}`);
  return value;
}

/** The feed checks of the graph computing `named`, with the options of one compile or run. */
function feedChecks(runner: Runner, named: readonly [string, OrtTensor][], options: unknown): FeedChecks {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', `expected an object such as { validate: 'shapes' }, got ${String(options)}`);
  const validate = readValidate('options.validate', (options as CompileOptions).validate, runner.defaultValidate);
  const ranges = validate === 'full' ? indexRanges(topologicalOrder(named.map(([, t]) => t))) : new Map<number, IndexRange>();
  return { validate, ranges };
}

/** Runs a cached session on checked feeds; a failure of ONNX Runtime becomes a BackendError. */
async function runSession(
  runner: Runner,
  entry: CacheEntry,
  lowered: Lowered,
  feeds: Feeds | undefined,
  checks: FeedChecks,
): Promise<Record<string, OrtValue>> {
  const inputs = ortFeeds(runner.ort, lowered, feeds, checks);
  const session = await entry.session;
  try {
    return await session.run(inputs);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint = /GatherElements/.test(message) ? ' (an index fed to gatherPerRow, such as a label, is outside [0, columns))' : '';
    throw new BackendError('run', `ONNX Runtime failed to run the graph${hint}: ${message}`, { cause: e });
  }
}

/** Lowers and compiles (or takes from the cache) the graph computing the named outputs. @internal */
export async function compileGraph(runner: Runner, named: [string, OrtTensor][], options: unknown): Promise<CompiledGraph> {
  const checks = feedChecks(runner, named, options);
  const lowered = lowerGraph(named);
  const entry = runner.cache.acquire(lowered);
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
      if (done || runner.cache.disposed) {
        return Promise.reject(new BackendError('compiled', `this compiled graph${done ? '' : "'s backend"} was disposed`));
      }
      return runSession(runner, entry, lowered, feeds, checks);
    },
    dispose: async () => {
      if (done) return;
      done = true;
      runner.cache.release(entry);
    },
  };
}

/** Compiles (cached) and runs once the graph computing `outputs`; the values in the same order. @internal */
export async function runOnce(runner: Runner, outputs: readonly OrtTensor[], feeds: Feeds | undefined, options: unknown): Promise<OrtValue[]> {
  const named = outputs.map((t, i): [string, OrtTensor] => [`output${i}`, t]);
  const checks = feedChecks(runner, named, options);
  const lowered = lowerGraph(named);
  const entry = runner.cache.acquire(lowered);
  try {
    const result = await runSession(runner, entry, lowered, feeds, checks);
    return named.map(([n]) => result[n]!);
  } finally {
    runner.cache.release(entry);
  }
}
