import type { OrtTensor } from './graph.js';
import { lowerGraph } from './lower.js';
import { encodeModel } from './onnx.js';

/** Options of {@link OrtBackend.exportOnnx}. */
export interface ExportOptions {
  /**
   * Tensors made with {@link OrtBackend.tensor} whose values are stored in the model as
   * initialisers (e.g. trained centres) instead of staying graph inputs.
   */
  readonly freeze?: readonly OrtTensor[];
}

/** The `.onnx` bytes of the graph computing the named outputs, the `freeze` inputs stored as initialisers. @internal */
export function exportModel(named: readonly (readonly [string, OrtTensor])[], freeze: ReadonlySet<OrtTensor>): Uint8Array {
  return encodeModel(lowerGraph(named, { freeze }).model());
}
