import type { OrtTensor } from './graph.js';
import { intAttr, intsAttr, strAttr } from './onnx.js';
import type { OnnxWriter } from './ops/op-rule.js';
import { type RewrittenGraph, liveNodes } from './broadcast-rewrite.js';
import type { CanonicalGraph } from './structural-key.js';

/** Writes one fused node: the ONNX value names of the canonical nodes it reads, and its output name. @internal */
export type FusedLowering = (onnx: OnnxWriter, inputs: readonly string[], output: string) => void;

/** A rewritten graph in which some nodes are lowered by a fused rule instead of their op's rule. @internal */
export interface FusedGraph extends RewrittenGraph {
  /** The fused lowering of a node by canonical index; its inputs are `ref[index]`. */
  readonly fused: ReadonlyMap<number, FusedLowering>;
}

const opOf = (t: OrtTensor): string | undefined => (t.node.kind === 'op' ? t.node.op : undefined);

/** A float32 scalar constant (any rank, one value). */
function isScalarConstant(t: OrtTensor): boolean {
  return t.node.kind === 'op' && t.node.op === 'constant' && t.dtype === 'float32' && t.shape.every((d) => d === 1);
}

/** True when `small` broadcasts to `big` and has fewer elements: fewer dims, or a 1 where `big` has more. */
function broadcastsSmaller(small: readonly number[], big: readonly number[]): boolean {
  if (small.length < big.length) return true;
  return small.length === big.length && small.some((d, k) => d === 1 && big[k] !== 1);
}

/**
 * Rewrites that save a pass over a large tensor, each giving the same values:
 * - `maximum(a, neg(a))` (in either order), the absolute value as the op set spells it, is one `Abs`;
 * - `sum(mul(v, v), axis)` is one `ReduceSumSquare` when nothing else reads the square;
 * - `max(|x|, axis)`, when nothing else reads |x|, is `max(ReduceMax(x), −ReduceMin(x))`: two reads, no write;
 * - `max(neg(x), axis)`, when nothing else reads −x, is `−ReduceMin(x)`: one read, no write (core
 *   spells max|x| as `maximum(max(x), max(−x))`, since a full-size `maximum` is a slow kernel on
 *   tfjs-backend-wasm);
 * - `mul(div(a, b), c)` and `mul(mul(a, b), c)`, c a scalar constant and b smaller than a (broadcast),
 *   apply c to b: `div(a, b / c)`, `mul(a, b · c)`, when nothing else reads the inner result (a
 *   learning rate or a scale meets a gradient this way).
 * - `sub(a, mul(oneHot(i, depth), m))` (either factor order), i = `cast(clip(v, lo, hi))` with
 *   0 ≤ lo ≤ hi < depth and m of shape [B, 1], is one `ScatterElements` adding −m at each row's
 *   index (reduction `add`): no [B, depth] one-hot, product or difference is written. This is
 *   how core's chunked loss masks the target column of a chunk's logits. It gives the same values
 *   for finite m (an m of ±∞ or NaN turns the unfused row into NaN through 0·m, the fused one only
 *   at the index).
 * The [C, D] centres are normalised and updated this way every step, so each rewrite saves one
 * write of C × D floats there. @internal
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
    if (t.node.op === 'max' && a !== undefined && fused.has(a) && readers[a] === 1 && !outputSet.has(a) && opOf(unique[a]!) === 'maximum') {
      const { axis, keepDims } = t.node.attrs as { axis: number; keepDims: boolean };
      const attrs = [intsAttr('axes', [axis]), intAttr('keepdims', keepDims ? 1 : 0)];
      ref[i] = [ref[a]![0]!];
      fused.set(i, (onnx, [n], out) => {
        const top = onnx.node('ReduceMax', [n!], onnx.temp(), attrs);
        const bottom = onnx.node('Neg', [onnx.node('ReduceMin', [n!], onnx.temp(), attrs)], onnx.temp());
        onnx.node('Max', [top, bottom], out);
      });
      return;
    }
    if (t.node.op === 'max' && a !== undefined && opOf(unique[a]!) === 'neg' && readers[a] === 1 && !outputSet.has(a) && !fused.has(a)) {
      const { axis, keepDims } = t.node.attrs as { axis: number; keepDims: boolean };
      const attrs = [intsAttr('axes', [axis]), intAttr('keepdims', keepDims ? 1 : 0)];
      ref[i] = [ref[a]![0]!];
      fused.set(i, (onnx, [n], out) => onnx.node('Neg', [onnx.node('ReduceMin', [n!], onnx.temp(), attrs)], out));
      return;
    }
    if (t.node.op === 'mul' && a !== undefined && b !== undefined) {
      const [inner, c] = isScalarConstant(unique[b]!) ? [a, b] : isScalarConstant(unique[a]!) ? [b, a] : [undefined, undefined];
      if (inner === undefined || c === undefined || readers[inner] !== 1 || outputSet.has(inner) || fused.has(inner)) return;
      const op = opOf(unique[inner]!);
      if (op !== 'div' && op !== 'mul') return;
      const [p, q] = ref[inner]!;
      const shape = (j: number): readonly number[] => unique[j]!.shape;
      const small = broadcastsSmaller(shape(q!), shape(p!)) ? [p!, q!] : op === 'mul' && broadcastsSmaller(shape(p!), shape(q!)) ? [q!, p!] : undefined;
      if (small === undefined || shape(i).join() !== shape(small[0]!).join()) return;
      const onnxOp = op === 'div' ? 'Div' : 'Mul';
      ref[i] = [small[0]!, small[1]!, c];
      fused.set(i, (onnx, [big, sm, k], out) => onnx.node(onnxOp, [big!, onnx.node(onnxOp, [sm!, k!], onnx.temp())], out));
      return;
    }
    if (t.node.op === 'sub' && a !== undefined && b !== undefined) {
      // Every operand of the difference has its shape [B, depth]: ScatterElements writes one entry a row, it cannot broadcast.
      const [rows, depth] = t.shape;
      if (t.shape.length !== 2 || !(rows! > 0 && depth! > 0) || unique[a]!.shape.join() !== t.shape.join() || unique[b]!.shape.join() !== t.shape.join())
        return;
      const scatter = maskedColumn(unique, ref, b, (j) => readers[j] === 1 && !outputSet.has(j) && !fused.has(j));
      if (scatter === undefined) return;
      ref[i] = [a, scatter.index, scatter.mask];
      fused.set(i, (onnx, [x, index, mask], out) => {
        const at = onnx.node('Unsqueeze', [index!, onnx.constant('int64', [1], [1])], onnx.temp());
        onnx.node('ScatterElements', [x!, at, onnx.node('Neg', [mask!], onnx.temp())], out, [intAttr('axis', 1), strAttr('reduction', 'add')]);
      });
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
  const live = liveNodes(ref, outputSet);
  return { ref, live, fused };
}

/**
 * For `mul(oneHot(i, depth), m)` at canonical index `product` (either order), where the product and
 * the one-hot are `private` (read once, not outputs), i is `cast(clip(v, lo, hi))` with
 * 0 ≤ lo ≤ hi < depth (every index valid) and m is [B, 1]: the canonical indices of i and m.
 */
function maskedColumn(
  unique: CanonicalGraph['unique'],
  ref: readonly (readonly number[])[],
  product: number,
  isPrivate: (j: number) => boolean,
): { index: number; mask: number } | undefined {
  if (opOf(unique[product]!) !== 'mul' || !isPrivate(product)) return undefined;
  const [p, q] = ref[product]!;
  if (p === undefined || q === undefined) return undefined;
  const [hot, mask] = opOf(unique[p]!) === 'oneHot' ? [p, q] : opOf(unique[q]!) === 'oneHot' ? [q, p] : [undefined, undefined];
  if (hot === undefined || mask === undefined || !isPrivate(hot)) return undefined;
  const { depth } = attrsOf<{ depth: number }>(unique[hot]!);
  const index = ref[hot]![0]!;
  const clip = ref[index]?.[0];
  if (opOf(unique[index]!) !== 'cast' || clip === undefined || opOf(unique[clip]!) !== 'clip') return undefined;
  const { min, max } = attrsOf<{ min: number; max: number }>(unique[clip]!);
  const rows = unique[hot]!.shape[0];
  const m = unique[mask]!.shape;
  if (!(min >= 0 && max <= depth - 1) || m.length !== 2 || m[0] !== rows || m[1] !== 1 || unique[mask]!.dtype !== 'float32') return undefined;
  return { index, mask };
}

function attrsOf<A>(t: OrtTensor): A {
  return (t.node.kind === 'op' ? t.node.attrs : {}) as A;
}
