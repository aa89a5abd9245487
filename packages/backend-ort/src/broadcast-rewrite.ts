import { broadcastShapes } from '@marginkit/core';
import type { OrtTensor } from './graph.js';
import { BROADCASTING_OPS } from './ops/binary.js';
import { isOnes } from './ops/vjp-helpers.js';
import type { CanonicalGraph } from './structural-key.js';

/** The inputs of every node by canonical index, after the rewrite, and the nodes the outputs need. @internal */
export interface RewrittenGraph {
  /** The canonical indices each node reads (empty for inputs and constants). */
  readonly ref: readonly (readonly number[])[];
  /** The nodes the outputs still depend on. */
  readonly live: ReadonlySet<number>;
}

/**
 * Rewrite: a multiplication by an all-ones constant only broadcasts (the VJP of a reduction writes
 * the cotangent that way). Where every consumer is an elementwise op that broadcasts to the same
 * shape anyway, consumers read the smaller tensor and the [B, C]-sized copy is not made.
 * @internal
 */
export function skipOnesBroadcasts(graph: CanonicalGraph, outputs: readonly OrtTensor[]): RewrittenGraph {
  const { unique, canon } = graph;
  const ref = unique.map((t) => (t.node.kind === 'op' ? t.node.inputs.map((x) => canon.get(x.id)!) : []));
  const consumers: number[][] = unique.map(() => []);
  ref.forEach((ins, i) => {
    for (const j of ins) consumers[j]!.push(i);
  });
  const outputSet = new Set(outputs.map((t) => canon.get(t.id)!));
  unique.forEach((t, i) => {
    if (t.node.kind !== 'op' || t.node.op !== 'mul' || outputSet.has(i)) return;
    const slot = ref[i]!.findIndex((j) => isOnes(unique[j]!));
    if (slot < 0) return;
    const k = ref[i]![1 - slot]!;
    const eligible = consumers[i]!.every((c) => {
      const node = unique[c]!.node;
      if (node.kind !== 'op' || !BROADCASTING_OPS.has(node.op)) return false;
      const ins = ref[c]!;
      if (ins.filter((j) => j === i).length !== 1) return false;
      const other = ins.find((j) => j !== i)!;
      const shape = broadcastShapes(unique[k]!.shape, unique[other]!.shape);
      return shape !== undefined && shape.join() === unique[c]!.shape.join();
    });
    if (!eligible || consumers[i]!.length === 0) return;
    for (const c of consumers[i]!) {
      ref[c] = ref[c]!.map((j) => (j === i ? k : j));
      consumers[k]!.push(c);
    }
    consumers[i] = [];
  });
  // What the outputs still need after the rewrite.
  const live = liveNodes(ref, outputSet);
  return { ref, live };
}

/**
 * The nodes the outputs still need: those reachable from `outputs` through `ref` (each node's
 * input nodes after a rewrite). @internal
 */
export function liveNodes(ref: readonly (readonly number[])[], outputs: Iterable<number>): Set<number> {
  const live = new Set<number>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (live.has(i)) continue;
    live.add(i);
    stack.push(...ref[i]!);
  }
  return live;
}
