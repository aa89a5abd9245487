import { type OrtBackend, adam, headTrainer } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import type { MarginConfig } from '@marginkit/core';
import { type MarginHead, createHead } from '@marginkit/losses';
import type * as tf from '@tensorflow/tfjs';
import type { Split } from './data.js';

/** What one epoch reports. */
export interface EpochReport {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches. */
  readonly loss: number;
  /** Held-out accuracy: the classifier's argmax (nearest centre by cosine for margin heads). */
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
  /** Per held-out sample, the angle θ_y to its own class centre, degrees. */
  readonly thetaTarget: Float64Array;
}

/** Options of {@link trainEmbedding}. */
export interface TrainOptions {
  /**
   * The margin under test, as a config of `@marginkit/losses`' registry (core's margins and the
   * catalogue), or `null` for plain softmax: a linear layer with bias on the raw embedding, the
   * ArcFace paper's baseline.
   */
  readonly margin: MarginConfig | null;
  /** The scale s (ignored by plain softmax). */
  readonly scale: number;
  /** Sub-centres per class (sub-center ArcFace); default 1. */
  readonly subCenters?: number;
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Hidden units of the net's layers (relu), before the linear embedding layer. */
  readonly hidden: number | readonly number[];
  /** Epochs over the training split. */
  readonly epochs: number;
  /** Minibatch size. */
  readonly batchSize: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Seed of the weight initialisers and the batch order. */
  readonly seed: number;
  /** Called after every batch (for a progress bar). */
  readonly onBatch?: (batch: number, batches: number, loss: number) => void;
  /** Called after every epoch. */
  readonly onEpoch?: (report: EpochReport) => void;
  /**
   * Train the head (centres, loss, gradients, Adam update) on ONNX Runtime with this backend
   * instead of tfjs. The net stays on tfjs and is trained with the embeddings' gradient that the
   * ORT step returns. Plain softmax always trains on tfjs.
   */
  readonly ortHead?: OrtBackend;
  /** More inputs to embed with the trained net (e.g. held-out images of unseen classes). */
  readonly embed?: tf.Tensor2D;
}

/** What {@link trainEmbedding} returns. */
export interface TrainResult {
  /** Per epoch: loss and held-out accuracy. */
  readonly epochs: EpochReport[];
  /** Held-out angles and normalised embeddings. */
  readonly angles: AngleReport;
  /** Raw (unnormalised) held-out embeddings [N, D]. */
  readonly features: Float32Array;
  /** The class centres (softmax: the weight rows) [C·K, D]. */
  readonly centers: Float32Array;
  /** Raw embeddings of `options.embed`, when given. */
  readonly embedded?: Float32Array;
}

/** The classifier on top of the net: a marginkit head, or plain softmax with bias. */
interface Classifier {
  /** The loss of a batch of embeddings. */
  loss(e: tf.Tensor, y: tf.Tensor1D): tf.Scalar;
  /** Scores [N, C] whose argmax is the prediction. */
  scores(e: tf.Tensor): tf.Tensor;
  /** Centres [C·K, D] (a tensor owned by the classifier). */
  centers(): tf.Tensor;
  dispose(): void;
}

function softmaxClassifier(t: typeof tf, classes: number, dim: number, seed: number): Classifier {
  const w = t.variable(t.randomNormal([classes, dim], 0, 1 / Math.sqrt(dim), 'float32', seed));
  const b = t.variable(t.zeros([classes]));
  const logits = (e: tf.Tensor) => t.add(t.matMul(e, w, false, true), b);
  return {
    loss: (e, y) => t.losses.softmaxCrossEntropy(t.oneHot(y, classes), logits(e)) as tf.Scalar,
    scores: logits,
    centers: () => w,
    dispose: () => t.dispose([w, b]),
  };
}

function headClassifier(head: MarginHead<tf.Tensor, tf.Scalar>): Classifier {
  return {
    loss: (e, y) => head.loss(e, y),
    scores: (e) => head.logits(e),
    centers: () => head.centers,
    dispose: () => head.dispose(),
  };
}

function buildNet(t: typeof tf, inputDim: number, o: TrainOptions): tf.Sequential {
  const hidden = typeof o.hidden === 'number' ? [o.hidden] : o.hidden;
  return t.sequential({
    layers: [
      ...hidden.map((units, i) =>
        t.layers.dense({
          ...(i === 0 ? { inputShape: [inputDim] } : {}),
          units,
          activation: 'relu',
          kernelInitializer: t.initializers.heNormal({ seed: o.seed + i }),
        }),
      ),
      t.layers.dense({ units: o.embeddingDim, kernelInitializer: t.initializers.glorotNormal({ seed: o.seed + hidden.length }) }),
    ],
  });
}

/** Held-out accuracy, angles to the own and the nearest other centre, and θ_y per sample. */
function evaluate(t: typeof tf, net: tf.Sequential, classifier: Classifier, split: Split, classes: number, subCenters: number) {
  const r = t.tidy(() => {
    const e = net.apply(split.x) as tf.Tensor2D;
    const acc = t.mean(t.cast(t.equal(t.argMax(classifier.scores(e), 1), split.labels), 'float32')).dataSync()[0]!;
    const unit = t.div(e, t.maximum(t.norm(e, 2, 1, true), 1e-12));
    const w = classifier.centers();
    const wUnit = t.div(w, t.maximum(t.norm(w, 2, 1, true), 1e-12));
    const all = t.matMul(unit, wUnit, false, true);
    const cos = subCenters === 1 ? all : t.max(t.reshape(all, [-1, classes, subCenters]), 2);
    const hot = t.oneHot(split.labels, classes);
    const own = t.sum(t.mul(cos, hot), 1);
    const other = t.max(t.sub(cos, t.mul(hot, 3)), 1);
    const deg = (c: tf.Tensor) => t.mul(t.acos(t.clipByValue(c, -1, 1)), 180 / Math.PI);
    return {
      acc,
      ownDeg: t.mean(deg(own)).dataSync()[0]!,
      otherDeg: t.mean(deg(other)).dataSync()[0]!,
      thetaTarget: Float32Array.from(deg(own).dataSync()),
      embeddings: Float32Array.from(unit.dataSync()),
      features: Float32Array.from(e.dataSync()),
    };
  });
  return { ...r, thetaTarget: Float64Array.from(r.thetaTarget) };
}

/**
 * Trains a small embedding net (dense-relu layers, then a linear embedding) and a classifier on
 * top — a marginkit head with the margin under test, or plain softmax with bias — and reports the
 * loss, held-out accuracy, angles, raw and normalised held-out embeddings and the centres.
 */
export async function trainEmbedding(t: typeof tf, data: { train: Split; test: Split }, o: TrainOptions): Promise<TrainResult> {
  const classes = 1 + Math.max(...(await data.train.labels.data()));
  const subCenters = o.margin === null ? 1 : (o.subCenters ?? 1);
  // The head owns the centres (a tf.Variable that the optimizer updates) and the margin's state.
  const spec =
    o.margin &&
    ({
      margin: o.margin,
      numClasses: classes,
      embeddingSize: o.embeddingDim,
      scale: o.scale,
      subCenters,
      init: { kind: 'normal', std: 1 },
      seed: o.seed + 2,
    } as const);
  const head = spec ? createHead(tfjsBackend(t), spec) : undefined;
  const classifier = head ? headClassifier(head) : softmaxClassifier(t, classes, o.embeddingDim, o.seed + 2);
  const net = buildNet(t, data.train.x.shape[1], o);
  const optimizer = t.train.adam(o.learningRate);
  // On ONNX Runtime: the same head (same seed: same centres) and the same Adam (tfjs's ε = 1e-7), in one session per step.
  const trainer =
    o.ortHead && spec
      ? await headTrainer(o.ortHead, {
          ...(await createHead(o.ortHead, spec).trainerOptions()),
          optimizer: adam({ learningRate: o.learningRate, epsilon: 1e-7 }),
        })
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

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    order = order
      .map((v) => [random(), v] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, v]) => v);
    let total = 0;
    for (let b = 0; b < batches; b++) {
      const idx = t.tensor1d(order.slice(b * o.batchSize, (b + 1) * o.batchSize), 'int32');
      const x = t.gather(data.train.x, idx);
      const y = t.gather(data.train.labels, idx) as tf.Tensor1D;
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
        const value = optimizer.minimize(() => classifier.loss(net.apply(x, { training: true }) as tf.Tensor, y), true);
        v = value ? (await value.data())[0]! : Number.NaN;
        value?.dispose();
      }
      t.dispose([x, y, idx]);
      total += v;
      o.onBatch?.(b + 1, batches, v);
    }
    if (trainer && head) {
      head.centers = trainer.centers();
      head.state = trainer.state();
    }
    const report = { epoch, loss: total / batches, accuracy: evaluate(t, net, classifier, data.test, classes, subCenters).acc };
    epochs.push(report);
    o.onEpoch?.(report);
  }
  const { ownDeg, otherDeg, embeddings, thetaTarget, features } = evaluate(t, net, classifier, data.test, classes, subCenters);
  const centers = Float32Array.from(await classifier.centers().data());
  const embedded = o.embed ? t.tidy(() => Float32Array.from((net.apply(o.embed!) as tf.Tensor).dataSync())) : undefined;
  net.dispose();
  classifier.dispose();
  optimizer.dispose();
  await trainer?.dispose();
  return { epochs, angles: { ownDeg, otherDeg, embeddings, thetaTarget }, features, centers, ...(embedded ? { embedded } : {}) };
}
