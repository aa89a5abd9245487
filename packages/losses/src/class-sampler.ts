// Partial FC's class sampling: which centres a batch uses, and its labels among them.

/**
 * The class centres Partial FC uses for one batch: the sorted unique labels (−1 skipped) plus
 * `count − positives` other classes drawn uniformly without replacement, all sorted ascending;
 * only the positives when there are at least `count` of them. The same distribution as
 * insightface's `perm = rand(C); perm[positive] = 2; topk(num_sample); sort`, drawn in
 * O(count) by Floyd's algorithm over the non-positive classes instead of O(C).
 *
 * `marks` is a zeroed scratch array of length ≥ C; it is zeroed again on return.
 * @internal
 */
export function sampleClasses(labels: Int32Array, classes: number, count: number, random: { uniform(): number }, marks: Uint8Array): Int32Array {
  const found: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l >= 0 && marks[l] === 0) {
      marks[l] = 1;
      found.push(l);
    }
  }
  const positives = Int32Array.from(found).sort();
  for (const p of positives) marks[p] = 0;
  const p = positives.length;
  if (count <= p) return positives;
  // Floyd: k distinct ranks, uniformly, among the n = C − P classes that are not positives.
  const k = count - p;
  const n = classes - p;
  const ranks = new Int32Array(k);
  for (let j = n - k, c = 0; j < n; j++, c++) {
    const t = Math.floor(random.uniform() * (j + 1));
    const pick = marks[t] === 1 ? j : t;
    marks[pick] = 1;
    ranks[c] = pick;
  }
  for (const r of ranks) marks[r] = 0;
  ranks.sort();
  // The r-th class that is not a positive is r + #(positives below it); merge with the positives.
  const out = new Int32Array(count);
  let pi = 0;
  let o = 0;
  for (const r of ranks) {
    while (pi < p && positives[pi]! <= r + pi) out[o++] = positives[pi++]!;
    out[o++] = r + pi;
  }
  while (pi < p) out[o++] = positives[pi++]!;
  return out;
}

/** Each label's position in the sorted `sampled` (insightface's `searchsorted`); −1 stays −1. @internal */
export function remapLabels(labels: Int32Array, sampled: Int32Array): Int32Array {
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0) {
      out[i] = -1;
      continue;
    }
    let lo = 0;
    let hi = sampled.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sampled[mid]! < l) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

/** The centres sampled per step for C classes and sampling rate r: min(C, max(2, int(r·C))). @internal */
export function sampleCount(classes: number, sampleRate: number): number {
  return Math.min(classes, Math.max(2, Math.trunc(sampleRate * classes)));
}
