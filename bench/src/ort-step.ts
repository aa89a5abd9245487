/**
 * The ArcFace step and its floor on ONNX Runtime through backend-ort: the traced loss (forward),
 * the loss and its gradient graph (forward + backward), each compiled once into one session and
 * run on the fed inputs, and a training step of the head (`headTrainer` with SGD-momentum: loss,
 * gradients and the update in one session run). The outputs come back to JavaScript as a user of
 * `compile` or `headTrainer` gets them.
 */
import { type CompiledGraph, type HeadTrainer, type OrtModule, headTrainer, ortBackend, sgd } from '@marginkit/backend-ort';
import { arcface, marginSoftmaxLoss } from '@marginkit/core';
import { ortFloor } from './floor.js';
import { type Pass, type StepInputs, TRAIN_PASSES, TRAIN_SGD } from './inputs.js';
import { ARCFACE, type StepCase } from './step-case.js';

/** A {@link StepCase} on `ort` (onnxruntime-node or onnxruntime-web) with these session options. */
export function ortStepCase(ort: OrtModule, sessionOptions: Record<string, unknown>, inputs: StepInputs): StepCase {
  const { B, D, C } = inputs;
  const backend = ortBackend(ort, { sessionOptions });
  const ex = backend.placeholder('embeddings', [-1, D]);
  const ew = backend.placeholder('centers', [C, D]);
  const ey = backend.placeholder('labels', [-1], 'int32');
  const feeds = { embeddings: { data: inputs.x, dims: [B, D] }, centers: { data: inputs.w, dims: [C, D] } };
  const labels = { data: inputs.y, dims: [B] };
  const lossOf = () => marginSoftmaxLoss(backend, { margin: arcface({ m: ARCFACE.m }), scale: ARCFACE.scale });
  const graphs = new Map<string, Promise<CompiledGraph>>();
  const graph = (key: string, build: () => Promise<CompiledGraph>) => {
    if (!graphs.has(key)) graphs.set(key, build());
    return graphs.get(key)!;
  };
  const stepGraph = (pass: Pass) =>
    graph(`step ${pass}`, () => {
      const loss = lossOf()(ex, ew, ey);
      if (pass === 'fwd') return backend.compile({ loss });
      const [gx, gw] = backend.gradients(loss, [ex, ew]);
      return backend.compile({ loss, gx: gx!, gw: gw! });
    });
  let trainer: Promise<HeadTrainer> | undefined;
  const train = async () => {
    trainer ??= headTrainer(backend, { loss: lossOf(), centers: inputs.w, classes: C, dim: D, optimizer: sgd(TRAIN_SGD) });
    return (await (await trainer).step(feeds.embeddings, labels)).loss;
  };
  const scalar = (v: { data: unknown }) => (v.data as Float32Array)[0]!;
  return {
    passes: TRAIN_PASSES,
    async step(pass) {
      if (pass === 'train') return train();
      const out = await (await stepGraph(pass)).run({ ...feeds, labels });
      return scalar(out['loss']!);
    },
    async floor(pass) {
      const g = await graph(`floor ${pass}`, () => backend.compile({ floor: ortFloor(backend, ex, ew, pass) }));
      return scalar((await g.run(feeds))['floor']!);
    },
    async dispose() {
      if (trainer) await (await trainer).dispose();
      await backend.dispose();
    },
  };
}
