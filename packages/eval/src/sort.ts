import { EvalInputError } from './errors.js';

/**
 * LSD radix sorts for float arrays, ascending, in place (an optional scratch buffer of at least
 * the input's length can be passed to reuse memory across calls). Several times faster than
 * `TypedArray.prototype.sort` on millions of values (16-bit digits: 2 passes for float32,
 * 4 for float64). Keys map IEEE floats to unsigned integers that order like the floats
 * (flip the sign bit of positives, every bit of negatives). NaN must be excluded beforehand.
 * @internal
 */
export function sortFloat64(values: Float64Array, scratch?: Float64Array): Float64Array {
  const n = values.length;
  if (n < 1 << 14) return values.sort();
  if (scratch && scratch.length < n) throw new EvalInputError('scratch', `has ${scratch.length} values, fewer than the ${n} to sort (sortFloat64)`);
  let src: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let dst: Uint32Array = scratch ? new Uint32Array(scratch.buffer, scratch.byteOffset, n * 2) : new Uint32Array(n * 2);
  // To keys, in place: words are little-endian [lo, hi].
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1]!;
    if (hi & 0x80000000) {
      src[2 * i] = ~src[2 * i]! >>> 0;
      src[2 * i + 1] = ~hi >>> 0;
    } else src[2 * i + 1] = (hi | 0x80000000) >>> 0;
  }
  // All four 16-bit digit histograms in one read; a pass whose digit is the same for every key is skipped.
  const hist = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const lo = src[2 * i]!;
    const hi = src[2 * i + 1]!;
    hist[lo & 0xffff]!++;
    hist[65536 + (lo >>> 16)]!++;
    hist[131072 + (hi & 0xffff)]!++;
    hist[196608 + (hi >>> 16)]!++;
  }
  let passes = 0;
  for (let pass = 0; pass < 4; pass++) {
    const counts = hist.subarray(pass * 65536, (pass + 1) * 65536);
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    if (counts[(src[word]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(src[2 * i + word]! >>> shift) & 0xffff]!++;
      dst[2 * at] = src[2 * i]!;
      dst[2 * at + 1] = src[2 * i + 1]!;
    }
    [src, dst] = [dst, src];
    passes++;
  }
  // An odd number of passes leaves the keys in the scratch buffer: copy them back.
  if (passes % 2 === 1) {
    dst.set(src);
    src = dst;
  }
  // The sorted keys are in the caller's buffer; decode.
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1]!;
    if (hi & 0x80000000) src[2 * i + 1] = (hi & 0x7fffffff) >>> 0;
    else {
      src[2 * i] = ~src[2 * i]! >>> 0;
      src[2 * i + 1] = ~hi >>> 0;
    }
  }
  return values;
}

/** Radix sort of a Float32Array, ascending, in place. @internal */
export function sortFloat32(values: Float32Array, scratch?: Float32Array): Float32Array {
  const n = values.length;
  if (n < 1 << 14) return values.sort();
  if (scratch && scratch.length < n) throw new EvalInputError('scratch', `has ${scratch.length} values, fewer than the ${n} to sort (sortFloat32)`);
  let src: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, n);
  let dst: Uint32Array = scratch ? new Uint32Array(scratch.buffer, scratch.byteOffset, n) : new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = src[i]!;
    src[i] = k & 0x80000000 ? ~k >>> 0 : (k | 0x80000000) >>> 0;
  }
  const counts = new Uint32Array(65536);
  for (let pass = 0; pass < 2; pass++) {
    const shift = pass * 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(src[i]! >>> shift) & 0xffff]!++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) dst[counts[(src[i]! >>> shift) & 0xffff]!++] = src[i]!;
    [src, dst] = [dst, src];
  }
  for (let i = 0; i < n; i++) {
    const k = src[i]!;
    src[i] = k & 0x80000000 ? (k & 0x7fffffff) >>> 0 : ~k >>> 0;
  }
  return values;
}
