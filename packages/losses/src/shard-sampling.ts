// Partial FC's sampling within one class shard: which of its classes a step uses, the labels
// among them, and their centre rows gathered for the passes.

import { remapLabels, sampleClasses, sampleCount } from './class-sampler.js';
import { seededGenerator } from './random.js';

/** One shard's sample for a step. @internal */
export interface ShardSample {
  /** The sampled classes, local to the shard (0 = its first class), sorted ascending. */
  readonly classes: Int32Array;
  /** The same classes in global numbering (what the coordinator reports as `sampled`). */
  readonly global: Int32Array;
  /** The step's labels as the shard's passes take them (see {@link sampleShard}). */
  readonly labels: Int32Array;
  /** The sampled classes' centre rows, K·D values each, in sample order. */
  readonly centers: Float32Array;
}

/**
 * Samples a shard's classes [start, end) for one step, as insightface's `PartialFC_V2.sample`
 * does on each rank: its positives (the batch's labels in its range) plus classes drawn uniformly
 * from the rest of its range, `sampleCount(end − start, r)` in all (only the positives when there
 * are more), sorted ({@link sampleClasses}, drawing from the generator state `random`).
 *
 * Labels: a label in [start, end) becomes `start + its position in the sample`; every other label
 * stays as it is. The shard keeps `offset = start` and `classes = C` and now holds the classes
 * [start, start + n) with n ≤ end − start, so:
 * - its own rows find their target at the right chunk and column of the gathered centres;
 * - a label of another shard q lies in q's range, disjoint from [start, end) ⊇ [start, start + n),
 *   so this shard treats the row as one whose target is elsewhere, exactly as it would treat q's
 *   remapped label (also in q's range): every shard agrees on which shard holds each target,
 *   without knowing the others' samples (no extra message round);
 * - the row pass (shard 0's, on its own relabelling) reads labels only to tell ignored rows (−1)
 *   from counted ones, which relabelling preserves.
 * The softmax is then over the union of every shard's sample, as insightface's.
 *
 * @param range - the shard's classes [start, end).
 * @param labels - the step's global labels [B] (−1 ignored).
 * @param sampleRate - r in (0, 1).
 * @param random - the shard's generator state for this step.
 * @param store - the shard's centres [(end − start)·K, D], `perRow` = K·D values per class, and a
 *   zeroed scratch array of end − start bytes (zeroed again on return).
 * @returns the sample, its labels and its gathered centres.
 * @internal
 */
export function sampleShard(
  range: readonly [number, number],
  labels: Int32Array,
  sampleRate: number,
  random: readonly number[],
  store: { readonly centers: Float32Array; readonly perRow: number; readonly marks: Uint8Array },
): ShardSample {
  const [start, end] = range;
  const mine = (l: number) => l >= start && l < end;
  const local = Int32Array.from(labels, (l) => (mine(l) ? l - start : -1));
  const classes = sampleClasses(local, end - start, sampleCount(end - start, sampleRate), seededGenerator(random), store.marks);
  const positions = remapLabels(local, classes);
  const { centers, perRow } = store;
  const gathered = new Float32Array(classes.length * perRow);
  for (let j = 0; j < classes.length; j++) gathered.set(centers.subarray(classes[j]! * perRow, (classes[j]! + 1) * perRow), j * perRow);
  return {
    classes,
    global: Int32Array.from(classes, (c) => c + start),
    labels: Int32Array.from(labels, (l, i) => (mine(l) ? start + positions[i]! : l)),
    centers: gathered,
  };
}
