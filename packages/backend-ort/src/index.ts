/**
 * Run, export and differentiate marginkit losses on ONNX Runtime.
 *
 * `ortBackend(ort)` takes the `onnxruntime-web` or `onnxruntime-node` module. Its tensors are
 * symbolic: calling a loss traces a graph, which is lowered to an ONNX model (opset 17), compiled
 * once into an InferenceSession (cached by a structural key, with a symbolic batch dimension) and
 * run on the data you feed. `gradients` differentiates a traced graph with each op's
 * vector-Jacobian rule, so training a head runs entirely on ONNX Runtime (`headTrainer`).
 *
 * @packageDocumentation
 */
export { type OrtBackend, type OrtBackendOptions, ortBackend } from './backend.js';
export type { CompileOptions, CompiledGraph } from './compile.js';
export type { ExportOptions } from './export.js';
export type { Feed, FeedValidation, Feeds, PlainFeed } from './feeds.js';
export type { OrtModule, OrtSessionLike, OrtTensorConstructor, OrtValue } from './ort-module.js';
export type { OrtCacheStats } from './session-cache.js';
export { type InputData, OrtTensor } from './graph.js';
export type { GraphInput } from './lower.js';
export { IR_VERSION, OPSET } from './onnx.js';
export { type HeadStepResult, type HeadTrainer, type HeadTrainerOptions, headTrainer } from './head-trainer.js';
export { type AdamOptimizer, type HeadOptimizer, type SgdOptimizer, adam, sgd } from './optimizers.js';
