import { EvalInputError, NotEnoughClassesError } from './errors.js';

/** Scores: a typed array or plain numbers. Float32 input stays float32 (no copy to float64). */
export type Scores = Float64Array | Float32Array | readonly number[];
/** Binary labels: 1/true = genuine (same identity), 0/false = impostor. */
export type BinaryLabels = Uint8Array | Int32Array | Float64Array | readonly (number | boolean)[];

/** Checks scores: finite numbers. @internal */
export function checkScores(scores: Scores, argument = 'scores'): Float64Array | Float32Array {
  if (!(scores instanceof Float64Array) && !(scores instanceof Float32Array) && !Array.isArray(scores)) {
    throw new EvalInputError(argument, `expected a Float64Array, Float32Array or number[], got ${describe(scores)}`);
  }
  const s = scores instanceof Float64Array || scores instanceof Float32Array ? scores : Float64Array.from(scores);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]!)) throw new EvalInputError(argument, `${argument}[${i}] is ${s[i]}; every score must be finite`);
  }
  return s;
}

/** Checks binary labels (0/1 or booleans) and returns them as a Uint8Array. @internal */
export function checkLabels(labels: BinaryLabels, length: number, argument = 'labels'): Uint8Array {
  if (!ArrayBuffer.isView(labels) && !Array.isArray(labels)) throw new EvalInputError(argument, `expected 0/1 labels, got ${describe(labels)}`);
  const l = labels as ArrayLike<number | boolean>;
  if (l.length !== length) throw new EvalInputError(argument, `has ${l.length} entries but scores have ${length}`);
  if (labels instanceof Uint8Array) {
    // Already the right type: check in place, no copy (IJB-C has 15.7M labels).
    for (let i = 0; i < length; i++) {
      if (labels[i]! > 1) throw new EvalInputError(argument, `${argument}[${i}] = ${labels[i]}; labels must be 0/1 or booleans`);
    }
    return labels;
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const v = l[i];
    if (v === 1 || v === true) out[i] = 1;
    else if (v !== 0 && v !== false) throw new EvalInputError(argument, `${argument}[${i}] = ${String(v)}; labels must be 0/1 or booleans`);
  }
  return out;
}

/** Counts positives and negatives and throws unless both are present. @internal */
export function requireBothClasses(labels: Uint8Array, argument = 'labels'): { positives: number; negatives: number } {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  const negatives = labels.length - positives;
  if (labels.length === 0) throw new EvalInputError('scores', 'is empty');
  if (positives === 0) throw new NotEnoughClassesError(argument, 'has no positive (genuine) pairs: the true accept rate is undefined');
  if (negatives === 0) throw new NotEnoughClassesError(argument, 'has no negative (impostor) pairs: the false accept rate is undefined');
  return { positives, negatives };
}

/** Checks FAR targets: numbers in (0, 1). @internal */
export function checkRates(values: readonly number[], argument: string): readonly number[] {
  if (!Array.isArray(values) || values.length === 0) throw new EvalInputError(argument, 'expected a non-empty array of rates in (0, 1)');
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new EvalInputError(argument, `${argument}[${i}] = ${String(v)} is not in (0, 1)`);
  });
  return values;
}

/**
 * Checks identity labels (subject ids, class labels): an array-like of `length` finite numbers
 * (NaN never equals itself, so a NaN id would silently match nothing). @internal
 */
export function checkIds(values: ArrayLike<number>, argument: string, length: number): ArrayLike<number> {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number')
    throw new EvalInputError(argument, `expected an array of ids, got ${describe(values)}`);
  if (values.length !== length) throw new EvalInputError(argument, `has ${values.length} entries, expected ${length}`);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new EvalInputError(argument, `${argument}[${i}] = ${String(v)}; every id must be a finite number`);
  }
  return values;
}

/** A short description of a value's type. @internal */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return typeof value;
}
