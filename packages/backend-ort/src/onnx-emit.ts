import type { DType } from '@marginkit/core';
import type { OrtTensor } from './graph.js';
import { ElemType, IR_VERSION, ONNX_DTYPE, OPSET, type ProtoObject, tensorProto, valueInfo } from './onnx.js';
import type { OnnxWriter } from './ops/op-rule.js';
import { lowerNode } from './ops/index.js';
import type { FusedGraph } from './fuse-rewrite.js';
import type { CanonicalGraph } from './structural-key.js';

/** The ONNX graph being written: nodes, initialisers, and the writer the op rules use. */
interface ModelParts {
  readonly nodes: ProtoObject[];
  readonly initializers: ProtoObject[];
  readonly writer: OnnxWriter;
}

function modelParts(): ModelParts {
  const nodes: ProtoObject[] = [];
  const initializers: ProtoObject[] = [];
  const shared = new Map<string, string>(); // helper initialisers by content
  let tmp = 0;
  const writer: OnnxWriter = {
    node(opType, inputs, output, attribute = []) {
      nodes.push({ opType, input: [...inputs], output: [output], ...(attribute.length > 0 ? { attribute: [...attribute] } : {}) });
      return output;
    },
    temp: () => `mk.t${tmp++}`,
    constant(dtype, values, dims) {
      const k = `${dtype}:${dims.join(',')}:${values.join(',')}`;
      let n = shared.get(k);
      if (!n) {
        n = `mk.k${shared.size}`;
        shared.set(k, n);
        const data =
          dtype === 'int64' ? BigInt64Array.from(values.map((v) => BigInt(v))) : dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
        initializers.push(tensorProto(n, dims, ElemType[dtype], data));
      }
      return n;
    },
    initializer(name: string, dims: readonly number[], dtype: DType, data: ArrayBufferView) {
      initializers.push(tensorProto(name, dims, ONNX_DTYPE[dtype], data));
    },
  };
  return { nodes, initializers, writer };
}

/**
 * Writes the ModelProto (as a plain object, for `encodeModel`) of a canonical, rewritten graph:
 * graph inputs (the first unknown dimension named `batch`), frozen inputs and constants as
 * initialisers, each live op through its fused lowering or its rule's `lower`, and the outputs by name.
 * @internal
 */
export function emitModel(
  graph: CanonicalGraph,
  rewritten: FusedGraph,
  outputs: readonly (readonly [string, OrtTensor])[],
  freeze: ReadonlySet<OrtTensor>,
): ProtoObject {
  const { unique, canon, inputName } = graph;
  const { nodes, initializers, writer } = modelParts();
  const inputInfos: ProtoObject[] = [];
  // An op whose value is an output writes it under the output's name (the first, when several
  // outputs share it): an Identity to rename it would copy it when other nodes read it too.
  const direct = new Map<number, string>();
  for (const [outName, t] of outputs) {
    const i = canon.get(t.id)!;
    if (unique[i]!.node.kind === 'op' && rewritten.live.has(i) && !direct.has(i)) direct.set(i, outName);
  }
  const name = (i: number): string => {
    const t = unique[i]!;
    return t.node.kind === 'input' ? inputName(t) : (direct.get(i) ?? `mk.v${i}`);
  };
  unique.forEach((t, i) => {
    const node = t.node;
    const out = name(i);
    if (node.kind === 'op') {
      if (!rewritten.live.has(i)) return;
      const fused = rewritten.fused.get(i);
      if (fused) fused(writer, rewritten.ref[i]!.map(name), out);
      else lowerNode(writer, node, rewritten.ref[i]!.map(name), out);
    } else if (freeze.has(t)) {
      writer.initializer(out, t.shape, t.dtype, node.bound!);
    } else {
      const dimParams = t.shape.map((d, axis) => (d < 0 ? (axis === 0 ? 'batch' : `${out}_dim${axis}`) : undefined));
      inputInfos.push(valueInfo(out, t.dtype, t.shape, dimParams));
    }
  });
  const outputInfos = outputs.map(([outName, t]) => {
    const i = canon.get(t.id)!;
    if (direct.get(i) !== outName) writer.node('Identity', [name(i)], outName);
    return valueInfo(outName, t.dtype, t.shape);
  });
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'marginkit',
    graph: { name: 'marginkit', node: nodes, initializer: initializers, input: inputInfos, output: outputInfos },
  };
}
