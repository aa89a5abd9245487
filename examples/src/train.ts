import { type OrtBackend, adam, headTrainer } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import type { MarginConfig } from '@marginkit/core';
import { createHead } from '@marginkit/losses';
import type * as tf from '@tensorflow/tfjs';
import type { Split } from './data.js';

/** What one epoch reports. */
export interface EpochReport {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches. */
  readonly loss: number;
  /** Held-out accuracy: nearest class centre by cosine. */
  readonly accuracy: number;
}

/** Angular statistics of held-out embeddings, in degrees, and the embeddings themselves. */
export interface AngleReport {
  /** L2-normalised held-out embeddings, row-major [N, D]. */
  readonly embeddings: Float32Array;
  /** Mean angle between an embedding and its own class centre. */
  readonly ownDeg: number;
  /** Mean angle between an embedding and the nearest other class centre. */
  readonly otherDeg: number;
}

/** Options of {@link trainEmbedding}. */
export interface TrainOptions {
  /** The margin under test, as a config of `@marginkit/losses`' registry (core's margins and the catalogue). */
  readonly margin: MarginConfig;
  /** The scale s. */
  readonly scale: number;
  /** Sub-centres per class (sub-center ArcFace); default 1. */
  readonly subCenters?: number;
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Hidden units of the two-layer net. */
  readonly hidden: number;
  /** Epochs over the training split. */
  readonly epochs: number;
  /** Minibatch size. */
  readonly batchSize: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Seed of the weight initialisers and the batch order. */
  readonly seed: number;
  /** Called after every batch (for a progress bar) and every epoch. */
  readonly onBatch?: (batch: number, batches: number, loss: number) => void;
  /** Called after every epoch. */
  readonly onEpoch?: (report: EpochReport) => void;
  /**
   * Train the head (centres, loss, gradients, Adam update) on ONNX Runtime with this backend
   * instead of tfjs. The net stays on tfjs and is trained with the embeddings' gradient that the
   * ORT step returns.
   */
  readonly ortHead?: OrtBackend;
}

/**
 * Trains a small embedding net (dense-relu-dense) and a centre matrix with the margin softmax
 * loss, and reports the loss, held-out accuracy and angular separation.
 */
export async function trainEmbedding(
  t: typeof tf,
  data: { train: Split; test: Split },
  o: TrainOptions,
): Promise<{ epochs: EpochReport[]; angles: AngleReport }> {
  const classes = 1 + Math.max(...(await data.train.labels.data()));
  // The head owns the centres (a tf.Variable that the optimizer updates) and the margin's state.
  const spec = {
    margin: o.margin,
    numClasses: classes,
    embeddingSize: o.embeddingDim,
    scale: o.scale,
    subCenters: o.subCenters ?? 1,
    init: { kind: 'normal', std: 1 },
    seed: o.seed + 2,
  } as const;
  const head = createHead(tfjsBackend(t), spec);
  const inputDim = data.train.x.shape[1];
  const net = t.sequential({
    layers: [
      t.layers.dense({ inputShape: [inputDim], units: o.hidden, activation: 'relu', kernelInitializer: t.initializers.heNormal({ seed: o.seed }) }),
      t.layers.dense({ units: o.embeddingDim, kernelInitializer: t.initializers.glorotNormal({ seed: o.seed + 1 }) }),
    ],
  });
  const optimizer = t.train.adam(o.learningRate);
  // On ONNX Runtime: the same head (same seed: same centres) and the same Adam (tfjs's ε = 1e-7), in one session per step.
  const ort = o.ortHead;
  const trainer = ort
    ? await headTrainer(ort, { ...(await createHead(ort, spec).trainerOptions()), optimizer: adam({ learningRate: o.learningRate, epsilon: 1e-7 }) })
    : undefined;
  const n = data.train.x.shape[0];
  const batches = Math.ceil(n / o.batchSize);
  const epochs: EpochReport[] = [];
  let order = Array.from({ length: n }, (_, i) => i);
  let rng = o.seed >>> 0;
  const random = () => {
    rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
    return rng / 4294967296;
  };

  const evaluate = (split: Split) =>
    t.tidy(() => {
      const e = net.apply(split.x) as tf.Tensor;
      const cos = head.logits(e);
      const acc = t.mean(t.cast(t.equal(t.argMax(cos, 1), split.labels), 'float32')).dataSync()[0]!;
      const own = t.sum(t.mul(cos, t.oneHot(split.labels, classes)), 1);
      const other = t.max(t.sub(cos, t.mul(t.oneHot(split.labels, classes), 3)), 1);
      const deg = (c: tf.Tensor) => (t.mean(t.acos(t.clipByValue(c, -1, 1))).dataSync()[0]! * 180) / Math.PI;
      const unit = t.div(e, t.norm(e, 2, 1, true));
      return { acc, ownDeg: deg(own), otherDeg: deg(other), embeddings: Float32Array.from(unit.dataSync()) };
    });

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    order = order
      .map((v) => [random(), v] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, v]) => v);
    let total = 0;
    for (let b = 0; b < batches; b++) {
      const idx = t.tensor1d(order.slice(b * o.batchSize, (b + 1) * o.batchSize), 'int32');
      const x = t.gather(data.train.x, idx);
      const y = t.gather(data.train.labels, idx);
      let v: number;
      if (trainer) {
        // Forward on tfjs, the head's step on ORT, then the net's gradient from the embeddings' gradient: Σ e ⊙ dE.
        const e = net.apply(x, { training: true }) as tf.Tensor2D;
        const step = await trainer.step(
          { data: Float32Array.from(await e.data()), dims: e.shape },
          { data: Int32Array.from(await y.data()), dims: [e.shape[0]] },
        );
        const dE = t.tensor2d(Float32Array.from(step.embeddingsGradient.data as Float32Array), e.shape);
        const { value, grads } = t.variableGrads(() => t.sum(t.mul(net.apply(x, { training: true }) as tf.Tensor, dE)));
        optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        t.dispose([e, dE, value, ...Object.values(grads)]);
        v = step.loss;
      } else {
        const value = optimizer.minimize(() => head.loss(net.apply(x, { training: true }) as tf.Tensor, y), true);
        v = value ? (await value.data())[0]! : Number.NaN;
        value?.dispose();
      }
      t.dispose([x, y, idx]);
      total += v;
      o.onBatch?.(b + 1, batches, v);
    }
    if (trainer) {
      head.centers = trainer.centers();
      head.state = trainer.state();
    }
    const report = { epoch, loss: total / batches, accuracy: evaluate(data.test).acc };
    epochs.push(report);
    o.onEpoch?.(report);
  }
  const { ownDeg, otherDeg, embeddings } = evaluate(data.test);
  net.dispose();
  head.dispose();
  optimizer.dispose();
  await trainer?.dispose();
  return { epochs, angles: { ownDeg, otherDeg, embeddings } };
}
