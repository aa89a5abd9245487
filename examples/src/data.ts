import type * as tf from '@tensorflow/tfjs';

/** A labelled split: inputs [N, inputDim] and int32 labels [N]. */
export interface Split {
  readonly x: tf.Tensor2D;
  readonly labels: tf.Tensor1D;
}

/** Options of {@link clusteredData}. */
export interface ClusterOptions {
  /** Number of classes. */
  readonly classes: number;
  /** Training samples per class. */
  readonly trainPerClass: number;
  /** Held-out samples per class. */
  readonly testPerClass: number;
  /** Input dimension. */
  readonly inputDim: number;
  /** Standard deviation of the within-class noise (class centres have unit-scale coordinates). */
  readonly noise: number;
  /** Seed of every random draw. */
  readonly seed: number;
}

/**
 * Generated clustered data that a linear classifier cannot separate perfectly: Gaussian classes
 * around random centres, pushed through a fixed random tanh layer, so the embedding net has a
 * nonlinearity to undo.
 */
export function clusteredData(t: typeof tf, o: ClusterOptions): { train: Split; test: Split } {
  const centres = t.randomNormal([o.classes, o.inputDim], 0, 1, 'float32', o.seed);
  const mixing = t.randomNormal([o.inputDim, o.inputDim], 0, 1 / Math.sqrt(o.inputDim), 'float32', o.seed + 1);
  const make = (perClass: number, seed: number): Split => {
    const n = o.classes * perClass;
    const labels = t.tensor1d(
      Array.from({ length: n }, (_, i) => i % o.classes),
      'int32',
    );
    const x = t.tidy(
      () => t.tanh(t.matMul(t.add(t.gather(centres, labels), t.randomNormal([n, o.inputDim], 0, o.noise, 'float32', seed)), mixing)) as tf.Tensor2D,
    );
    return { x, labels };
  };
  const data = { train: make(o.trainPerClass, o.seed + 2), test: make(o.testPerClass, o.seed + 3) };
  t.dispose([centres, mixing]);
  return data;
}
