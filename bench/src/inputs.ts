/** The data every runtime's step gets: seeded embeddings, centres and labels (the same in Node and the browser). */
import { seededRandom } from '@marginkit/core/testing';

/** One step's sizes: batch B, embedding size D, classes C. */
export interface StepSizes {
  readonly B: number;
  readonly D: number;
  readonly C: number;
}

/** Embeddings [B, D], centres [C, D] (standard normal) and labels [B] in [0, C). */
export interface StepInputs extends StepSizes {
  readonly x: Float32Array;
  readonly w: Float32Array;
  readonly y: Int32Array;
}

/** The step's inputs for `sizes`, from seed 1 (the same values wherever they are made). */
export function stepInputs(sizes: StepSizes): StepInputs {
  const { B, D, C } = sizes;
  const rng = seededRandom(1);
  const x = Float32Array.from({ length: B * D }, () => rng.normal());
  const w = new Float32Array(C * D);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  const y = Int32Array.from({ length: B }, () => rng.int(C));
  return { B, D, C, x, w, y };
}

/** The step's matmul FLOPs: 2·B·C·D per matmul, one matmul forward, three forward + backward (and a training step). */
export function stepFlops(sizes: StepSizes, pass: Pass): number {
  return 2 * sizes.B * sizes.C * sizes.D * (pass === 'fwd' ? 1 : 3);
}

/**
 * Forward only (the loss), forward + backward (the loss and both gradients), or a training step of
 * the head (loss, gradients and the SGD-momentum update of the centres; ONNX Runtime's
 * `headTrainer`, and PyTorch's `optim.SGD`).
 */
export type Pass = 'fwd' | 'fwd+bwd' | 'train';
/** The passes every runtime times. */
export const PASSES: readonly Pass[] = ['fwd', 'fwd+bwd'];
/** The passes of runtimes with a head trainer (ONNX Runtime), and of PyTorch. */
export const TRAIN_PASSES: readonly Pass[] = ['fwd', 'fwd+bwd', 'train'];
/** The pass whose floor a pass has: a training step's matmuls are the forward + backward ones. */
export const floorPass = (pass: Pass): Pass => (pass === 'train' ? 'fwd+bwd' : pass);

/** The training step's optimizer: SGD with momentum, as insightface trains the head. */
export const TRAIN_SGD = { learningRate: 0.1, momentum: 0.9 } as const;
