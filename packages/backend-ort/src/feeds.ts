import { DTypeError, InvalidArgumentError, ShapeError, checkDataLength, checkFinite, checkShape, checkTypedArray, formatShape } from '@marginkit/core';
import { type IndexRange, checkIndexValues } from './feed-check.js';
import type { InputData } from './graph.js';
import { type GraphInput, type Lowered, boundData } from './lower.js';
import type { OrtModule, OrtValue } from './ort-module.js';

/** What is checked when data is fed: see {@link OrtBackendOptions.validate}. */
export type FeedValidation = 'full' | 'shapes';

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

/** How the feeds of one graph are checked: the level, and the valid range of each input used as an index. @internal */
export interface FeedChecks {
  readonly validate: FeedValidation;
  readonly ranges: ReadonlyMap<number, IndexRange>;
}

function describeData(data: unknown): string {
  if (ArrayBuffer.isView(data)) return `a ${data.constructor.name}`;
  if (Array.isArray(data)) return 'a plain array (use a Float32Array or Int32Array)';
  return typeof data;
}

/** The dims of a feed of `input`, checked against the graph's static shape. */
function feedDims(arg: string, input: GraphInput, dims: unknown): number[] {
  const dimList = [...checkShape(arg, dims)];
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
  return dimList;
}

/** The data of a feed of `input`: a typed array of the input's dtype with one value per element of `dims`. */
function feedData(arg: string, input: GraphInput, feed: Feed, dims: readonly number[]): InputData {
  let given: unknown;
  try {
    given = feed.data; // an ort.Tensor on a GPU throws here
  } catch (e) {
    throw new InvalidArgumentError(arg, `its data cannot be read on the CPU (${e instanceof Error ? e.message : String(e)}): feed CPU data`);
  }
  const type = 'type' in feed ? feed.type : given instanceof Float32Array ? 'float32' : given instanceof Int32Array ? 'int32' : 'unknown';
  if (type !== input.dtype) throw new DTypeError(arg, `expected ${input.dtype} data, got ${type === 'unknown' ? describeData(given) : String(type)}`);
  const data = checkTypedArray(arg, given, input.dtype === 'int32' ? 'int32' : 'float32');
  checkDataLength(arg, data, dims);
  return data;
}

/** The value fed to `input` (or its bound values), checked, as an `ort.Tensor` of `ort`. */
function toOrtValue(
  ort: OrtModule,
  input: GraphInput,
  feed: Feed | undefined,
  fallback: InputData | undefined,
  checks: FeedChecks,
  range?: IndexRange,
): OrtValue {
  const arg = `feeds.${input.name}`;
  const checkValues = (data: InputData, dims: readonly number[]): void => {
    if (checks.validate !== 'full') return;
    if (input.dtype === 'float32') checkFinite(arg, data, dims);
    else if (range) checkIndexValues(arg, input.name, data, range);
  };
  if (feed === undefined) {
    if (!fallback) throw new InvalidArgumentError(arg, `is required: input '${input.name}' ${input.dtype} ${formatShape(input.shape)} has no bound values`);
    checkValues(fallback, input.shape);
    return new ort.Tensor(input.dtype, fallback, input.shape);
  }
  if (typeof feed !== 'object' || feed === null || !('dims' in feed) || !('data' in feed)) {
    throw new InvalidArgumentError(arg, 'expected an ort.Tensor or { data, dims }');
  }
  const dims = feedDims(arg, input, feed.dims);
  const data = feedData(arg, input, feed, dims);
  checkValues(data, dims);
  // A tensor of this module goes to the session as it is; anything else (a `{ data, dims }`, a
  // tensor of the other ONNX Runtime package) is wrapped from its data.
  return feed instanceof ort.Tensor ? feed : new ort.Tensor(input.dtype, data, dims);
}

/**
 * The session inputs of a lowered graph from the caller's feeds (bound values where a feed is
 * omitted), each checked as `checks` says; every error names `feeds.<input>`. @internal
 */
export function ortFeeds(ort: OrtModule, lowered: Lowered, feeds: Feeds | undefined, checks: FeedChecks): Record<string, OrtValue> {
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
  const out: Record<string, OrtValue> = {};
  for (const input of lowered.inputs) {
    out[input.name] = toOrtValue(ort, input, f[input.name], boundData(input.tensor), checks, checks.ranges.get(input.tensor.id));
  }
  return out;
}
