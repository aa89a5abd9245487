import type { OrtTensor } from './graph.js';
import { intAttr, intsAttr } from './onnx.js';
import type { OnnxWriter } from './ops/op-rule.js';
import type { RewrittenGraph } from './broadcast-rewrite.js';
import type { CanonicalGraph } from './structural-key.js';

/** Writes one fused node: the ONNX value names of the canonical nodes it reads, and its output name. @internal */
export type FusedLowering = (onnx: OnnxWriter, inputs: readonly string[], output: string) => void;

/** A rewritten graph in which some nodes are lowered by a fused rule instead of their op's rule. @internal */
export interface FusedGraph extends RewrittenGraph {
  /** The fused lowering of a node by canonical index; its inputs are `ref[index]`. */
  readonly fused: ReadonlyMap<number, FusedLowering>;
}

const opOf = (t: OrtTensor): string | undefined => (t.node.kind === 'op' ? t.node.op : undefined);

/**
 * Rewrites that save a pass over a large tensor, each giving the same values:
 * - `maximum(a, neg(a))` (in either order), the absolute value as the op set spells it, is one `Abs`;
 * - `sum(mul(v, v), axis)` is one `ReduceSumSquare` when nothing else reads the square.
 * The [C, D] centres are normalised this way every step, so each rewrite saves one write of
 * C × D floats there. @internal
 */
export function fuseElementwise(graph: CanonicalGraph, rewritten: RewrittenGraph, outputs: readonly OrtTensor[]): FusedGraph {
  const { unique, canon } = graph;
  const ref = rewritten.ref.map((r) => [...r]);
  const outputSet = new Set(outputs.map((t) => canon.get(t.id)!));
  const readers = unique.map(() => 0);
  ref.forEach((ins, i) => {
    if (rewritten.live.has(i)) for (const j of ins) readers[j]!++;
  });
  const fused = new Map<number, FusedLowering>();
  unique.forEach((t, i) => {
    if (!rewritten.live.has(i) || t.node.kind !== 'op') return;
    const [a, b] = ref[i]!;
    if (t.node.op === 'maximum' && a !== undefined && b !== undefined) {
      const x = opOf(unique[b]!) === 'neg' && ref[b]![0] === a ? a : opOf(unique[a]!) === 'neg' && ref[a]![0] === b ? b : undefined;
      if (x === undefined) return;
      ref[i] = [x];
      fused.set(i, (onnx, [n], out) => onnx.node('Abs', [n!], out));
      return;
    }
    if (t.node.op === 'sum' && a !== undefined) {
      const sq = unique[a]!;
      if (opOf(sq) !== 'mul' || ref[a]![0] !== ref[a]![1] || readers[a] !== 1 || outputSet.has(a)) return;
      const { axis, keepDims } = t.node.attrs as { axis: number; keepDims: boolean };
      ref[i] = [ref[a]![0]!];
      fused.set(i, (onnx, [n], out) => onnx.node('ReduceSumSquare', [n!], out, [intsAttr('axes', [axis]), intAttr('keepdims', keepDims ? 1 : 0)]));
    }
  });
  const live = new Set<number>();
  const stack = [...outputSet];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (live.has(i)) continue;
    live.add(i);
    stack.push(...ref[i]!);
  }
  return { ref, live, fused };
}
