import { checkLabelValues } from '@marginkit/core';
import type { OrtTensor } from './graph.js';

/**
 * The values an int32 graph input may take because the graph uses it as an index: `lo` inclusive,
 * `hi` exclusive (Infinity when the indexed size is known only at run time). @internal
 */
export interface IndexRange {
  readonly lo: number;
  readonly hi: number;
  /** What indexes with it, for the error message, e.g. `a oneHot of depth 3`. */
  readonly uses: string;
}

/** A float32 scalar constant's value, or undefined. */
function scalarConstant(t: OrtTensor): number | undefined {
  if (t.node.kind !== 'op' || t.node.op !== 'constant') return undefined;
  const { values } = t.node.attrs as { values: number | readonly number[] };
  if (typeof values === 'number') return values;
  return values.length === 1 ? values[0] : undefined;
}

/**
 * The valid range of every int32 graph input that the graph uses as an index, derived from the
 * graph itself: an input that reaches a `oneHot` of depth C or a `gatherPerRow` over C columns
 * (through casts and stopGradient) must be in [0, C) — ONNX's GatherElements accepts negative
 * indices, and oneHot gives a zero row, so an out-of-range label would give a plausible, wrong
 * loss. When the index is first clamped at 0 (`maximum(labels, 0)`, which is how core's loss with
 * `ignoreIndex: -1` masks ignored rows), the input may also be −1, marginkit's only ignore index.
 * Inputs used as an index in any other way are not constrained. @internal
 */
export function indexRanges(order: readonly OrtTensor[]): Map<number, IndexRange> {
  const ranges = new Map<number, IndexRange>();
  const constrain = (index: OrtTensor, hi: number, what: string): void => {
    let t = index;
    let lo = 0;
    for (;;) {
      const node = t.node;
      if (node.kind === 'input') {
        if (t.dtype !== 'int32') return;
        const prev = ranges.get(t.id);
        ranges.set(
          t.id,
          prev
            ? { lo: Math.max(prev.lo, lo), hi: Math.min(prev.hi, hi), uses: prev.uses.includes(what) ? prev.uses : `${prev.uses} and ${what}` }
            : { lo, hi, uses: what },
        );
        return;
      }
      if (node.op === 'cast' || node.op === 'stopGradient') {
        t = node.inputs[0]!;
        continue;
      }
      if (node.op === 'maximum') {
        const [a, b] = node.inputs as [OrtTensor, OrtTensor];
        const other = scalarConstant(b) === 0 ? a : scalarConstant(a) === 0 ? b : undefined;
        if (other === undefined) return;
        lo = Math.min(lo, -1);
        t = other;
        continue;
      }
      return;
    }
  };
  for (const t of order) {
    if (t.node.kind !== 'op') continue;
    if (t.node.op === 'oneHot') {
      const depth = (t.node.attrs as { depth: number }).depth;
      constrain(t.node.inputs[0]!, depth, `a oneHot of depth ${depth}`);
    } else if (t.node.op === 'gatherPerRow') {
      const cols = t.node.inputs[0]!.shape[1]!;
      constrain(t.node.inputs[1]!, cols >= 0 ? cols : Number.POSITIVE_INFINITY, cols >= 0 ? `a gatherPerRow over ${cols} columns` : 'a gatherPerRow');
    }
  }
  return ranges;
}

/**
 * Throws a LabelError naming `argument` when a value of `data` is outside `range` (core's
 * `checkLabelValues`, with the use that constrains the input as the reason). @internal
 */
export function checkIndexValues(argument: string, name: string, data: ArrayLike<number>, range: IndexRange): void {
  checkLabelValues(argument, data, Number.isFinite(range.hi) ? range.hi : -1, {
    ...(range.lo < 0 ? { ignoreIndex: -1 } : {}),
    name,
    reason: `the graph uses '${name}' as an index into ${range.uses}`,
  });
}
