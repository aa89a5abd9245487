/**
 * The ArcFace step and its floor on ONNX Runtime through backend-ort: the traced loss (forward) or
 * the loss and its gradient graph (forward + backward), compiled once per pass into one session
 * and run on the fed inputs; the outputs come back to JavaScript as a user of `compile` gets them.
 */
import { type CompiledGraph, type OrtModule, ortBackend } from '@marginkit/backend-ort';
import { arcface, marginSoftmaxLoss } from '@marginkit/core';
import { ortFloor } from './floor.js';
import type { Pass, StepInputs } from './inputs.js';
import { ARCFACE, type StepCase } from './step-case.js';

/** A {@link StepCase} on `ort` (onnxruntime-node or onnxruntime-web) with these session options. */
export function ortStepCase(ort: OrtModule, sessionOptions: Record<string, unknown>, inputs: StepInputs): StepCase {
  const { B, D, C } = inputs;
  const backend = ortBackend(ort, { sessionOptions });
  const ex = backend.placeholder('embeddings', [-1, D]);
  const ew = backend.placeholder('centers', [C, D]);
  const ey = backend.placeholder('labels', [-1], 'int32');
  const feeds = { embeddings: { data: inputs.x, dims: [B, D] }, centers: { data: inputs.w, dims: [C, D] } };
  const graphs = new Map<string, Promise<CompiledGraph>>();
  const graph = (key: string, build: () => Promise<CompiledGraph>) => {
    if (!graphs.has(key)) graphs.set(key, build());
    return graphs.get(key)!;
  };
  const stepGraph = (pass: Pass) =>
    graph(`step ${pass}`, () => {
      const loss = marginSoftmaxLoss(backend, { margin: arcface({ m: ARCFACE.m }), scale: ARCFACE.scale })(ex, ew, ey);
      if (pass === 'fwd') return backend.compile({ loss });
      const [gx, gw] = backend.gradients(loss, [ex, ew]);
      return backend.compile({ loss, gx: gx!, gw: gw! });
    });
  const scalar = (v: { data: unknown }) => (v.data as Float32Array)[0]!;
  return {
    async step(pass) {
      const out = await (await stepGraph(pass)).run({ ...feeds, labels: { data: inputs.y, dims: [B] } });
      return scalar(out['loss']!);
    },
    async floor(pass) {
      const g = await graph(`floor ${pass}`, () => backend.compile({ floor: ortFloor(backend, ex, ew, pass) }));
      return scalar((await g.run(feeds))['floor']!);
    },
    dispose: () => backend.dispose(),
  };
}
