import { InvalidArgumentError } from '@marginkit/core';
import { type OrtTensor, topologicalOrder } from './graph.js';
import { bytesOf } from './onnx.js';
import { constantData } from './ops/constant.js';
import type { OpAttrs } from './ops/op-rule.js';

/** Constants up to this many values are written into the structural key verbatim. */
const SPELLED_OUT = 64;

/** A traced graph with equal subexpressions merged, and its structural key. @internal */
export interface CanonicalGraph {
  /** The distinct nodes, inputs before users; a node's position is its canonical index. */
  readonly unique: readonly OrtTensor[];
  /** The canonical index of every tensor of the trace, by tensor id. */
  readonly canon: ReadonlyMap<number, number>;
  /** Equal for structurally equal graphs (same ops, attributes, constants, input names, shapes, outputs). */
  readonly key: string;
  /** The bytes of constants (and frozen inputs) hashed in the key, in key order. */
  readonly largeConstants: readonly Uint8Array[];
  /** The name of an input in the model: its own, or `mk.in<k>` by position for a name the backend made up. */
  inputName(t: OrtTensor): string;
}

/** A 53-bit hash of bytes (cyrb53), for constants in the structural key. */
function hashBytes(bytes: Uint8Array): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** A number as the key spells it: −0 apart from 0 (String(−0) is '0'). */
const spellNumber = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

const attrKey = (attrs: object): string => JSON.stringify(attrs, Object.keys(attrs).sort());

/**
 * Numbers the graph computing `outputs` canonically, merging equal subexpressions (common-
 * subexpression elimination), which also yields the structural key that sessions are cached by.
 * Inputs in `freeze` are keyed by their bound values, as they become initialisers.
 * @internal
 */
export function canonicalize(outputs: readonly (readonly [string, OrtTensor])[], freeze: ReadonlySet<OrtTensor>): CanonicalGraph {
  const canon = new Map<number, number>();
  const keyIndex = new Map<string, number>();
  const unique: OrtTensor[] = [];
  const keys: string[] = [];
  const inputNames = new Map<string, OrtTensor>();
  const autoNames = new Map<number, string>(); // tensor id -> positional name of an auto-named input
  const inputName = (t: OrtTensor): string => (t.node.kind === 'input' ? (autoNames.get(t.id) ?? t.node.name) : '');
  const largeConstants: Uint8Array[] = [];
  /** Values in the key: spelled out when small, else a hash (the bytes are kept for an exact check). */
  const spell = (data: ArrayLike<number> & ArrayBufferView): string => {
    if (data.length <= SPELLED_OUT) return Array.from(data, spellNumber).join(',');
    const bytes = bytesOf(data);
    largeConstants.push(bytes);
    return `#${hashBytes(bytes)}/${data.length}`;
  };
  // A filled constant (the ones of a reduction's gradient: [B·C] of them at times) is keyed by its
  // value, never materialised nor hashed.
  const constantKey = (attrs: OpAttrs<'constant'>): string =>
    typeof attrs.values === 'number' ? `fill=${spellNumber(attrs.values)}` : spell(constantData(attrs));
  const nodeKey = (t: OrtTensor): string => {
    const node = t.node;
    if (node.kind === 'op') {
      if (node.op === 'constant') return `constant:${t.dtype}:${t.shape.join(',')}:${constantKey(node.attrs)}`;
      return `${node.op}(${node.inputs.map((i) => canon.get(i.id)).join(',')})${attrKey(node.attrs)}`;
    }
    const other = inputNames.get(node.name);
    if (other && other !== t) {
      throw new InvalidArgumentError('inputs', `two different inputs are named '${node.name}'; give each placeholder or tensor a unique name`);
    }
    inputNames.set(node.name, t);
    if (node.auto) autoNames.set(t.id, `mk.in${autoNames.size}`);
    if (!freeze.has(t)) return `input:${inputName(t)}:${t.dtype}:${t.shape.join(',')}`;
    if (!node.bound) throw new InvalidArgumentError('freeze', `input '${node.name}' has no bound values to store as an initialiser`);
    return `frozen:${inputName(t)}:${t.dtype}:${t.shape.join(',')}:${spell(node.bound)}`;
  };
  for (const t of topologicalOrder(outputs.map(([, t]) => t))) {
    const key = nodeKey(t);
    let index = keyIndex.get(key);
    if (index === undefined) {
      index = unique.length;
      keyIndex.set(key, index);
      unique.push(t);
      keys.push(key);
    }
    canon.set(t.id, index);
  }
  for (const [outName] of outputs) {
    if (inputNames.has(outName))
      throw new InvalidArgumentError(`outputs.${outName}`, `'${outName}' is also the name of an input; give the output another name`);
  }
  const outputKey = outputs.map(([name, t]) => `${name}=${canon.get(t.id)}`).join(';');
  return { unique, canon, key: `${keys.join('\n')}\n=> ${outputKey}`, largeConstants, inputName };
}
