import {
  DEFAULT_EPSILON,
  InvalidArgumentError,
  type Margin,
  type MarginConfig,
  type Registry,
  cosineLogits,
  createRegistry,
  marginLogits,
} from '@marginkit/core';
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type TfModule, tfjsBackend } from './backend.js';

/** The tfjs module with layers (`@tensorflow/tfjs`), as the head layer needs `tf.layers.Layer`. */
export type TfLayersModule = TfModule & Pick<typeof tfl, 'layers' | 'initializers'> & Pick<typeof tfc, 'oneHot' | 'losses' | 'serialization'>;

/** Arguments of the margin head layer. */
export interface MarginHeadArgs {
  /** The number of classes C (rows of the centre matrix). */
  readonly numClasses: number;
  /** The margin, as a margin object or a JSON config (`{ type: 'arcface', m: 0.5 }`). */
  readonly margin: Margin | MarginConfig;
  /** The scale s; default 64. */
  readonly scale?: number;
  /** acos clamp ε; default 2⁻²³ (`DEFAULT_EPSILON`). */
  readonly epsilon?: number;
  /** The layer's name. */
  readonly name?: string;
  /** Seed of the centres' initialiser (glorot normal). */
  readonly seed?: number;
}

/** An instance of the head layer. */
export type MarginHead = tfl.layers.Layer & {
  /** The margin on the target logit. */
  readonly margin: Margin;
  /** The number of classes C. */
  readonly numClasses: number;
  /** The current centres [C, D]. */
  centers(): tfc.Tensor;
};

/** The head layer class that {@link marginHeadLayer} returns. */
export interface MarginHeadClass {
  /** Creates a head layer. */
  new (args: MarginHeadArgs): MarginHead;
  /** The class name tfjs serialises the layer under: `'MarginSoftmaxHead'`. */
  readonly className: string;
  /** Rebuilds a layer from its config (used by `tf.loadLayersModel`). */
  fromConfig: tfc.serialization.FromConfigMethod<MarginHead>;
}

/**
 * Creates the margin softmax head as a `tf.layers.Layer` class, for `model.fit` users. The layer
 * owns the class centres `[C, D]` as a trainable weight and takes `[embeddings [B, D], labels [B] or [B, 1]]`:
 * during training it outputs the scaled logits with the margin on each row's target class;
 * otherwise (predict, evaluate) the scaled cosines without margin. Compile the model with
 * {@link logitsCrossEntropy} and fit with one-hot targets. The layer serialises; call
 * `tf.serialization.registerClass(Head)` once in your app before loading a saved model
 * (marginkit registers nothing on import).
 *
 * @param tf - the union tfjs module (`@tensorflow/tfjs`), which includes layers.
 * @param options - a registry that rebuilds custom margins from their config on load.
 * @returns the layer class, bound to this tfjs instance.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { logitsCrossEntropy, marginHeadLayer } from '@marginkit/backend-tfjs';
 * const Head = marginHeadLayer(tf);
 * const x = tf.input({ shape: [8] });
 * const y = tf.input({ shape: [1], dtype: 'int32' }); // labels [B, 1]
 * const embedding = tf.layers.dense({ units: 4 }).apply(x) as tf.SymbolicTensor;
 * const logits = new Head({ numClasses: 3, margin: { type: 'arcface', m: 0.5 }, scale: 16 }).apply([embedding, y]) as tf.SymbolicTensor;
 * const model = tf.model({ inputs: [x, y], outputs: logits });
 * model.compile({ optimizer: 'adam', loss: logitsCrossEntropy(tf) });
 * const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
 * await model.fit([tf.randomNormal([4, 8]), labels], tf.oneHot(labels, 3), { epochs: 1, verbose: 0 });
 * ```
 */
export function marginHeadLayer(tf: TfLayersModule, options: { readonly registry?: Registry } = {}): MarginHeadClass {
  if (typeof tf?.layers?.Layer !== 'function') {
    throw new InvalidArgumentError('tf', "expected the union tfjs module with layers (import * as tf from '@tensorflow/tfjs')");
  }
  const registry = options.registry ?? createRegistry();
  const backend = tfjsBackend(tf);

  class MarginSoftmaxHead extends tf.layers.Layer {
    static className = 'MarginSoftmaxHead';
    readonly numClasses: number;
    readonly margin: Margin;
    readonly scale: number;
    readonly epsilon: number;
    readonly seed: number | undefined;
    private centerWeight: tfl.LayerVariable | undefined;
    private readonly train: (e: tfc.Tensor, c: tfc.Tensor, y: tfc.Tensor) => tfc.Tensor;
    private readonly infer: (e: tfc.Tensor, c: tfc.Tensor) => tfc.Tensor;

    constructor(args: MarginHeadArgs) {
      super(args.name === undefined ? {} : { name: args.name });
      if (!Number.isInteger(args.numClasses) || args.numClasses < 1) {
        throw new InvalidArgumentError('numClasses', `must be a positive integer, got ${String(args.numClasses)}`);
      }
      this.numClasses = args.numClasses;
      this.margin = typeof (args.margin as Margin).targetLogit === 'function' ? (args.margin as Margin) : registry.margin(args.margin);
      this.scale = args.scale ?? 64;
      this.epsilon = args.epsilon ?? DEFAULT_EPSILON;
      this.seed = args.seed;
      this.train = marginLogits(backend, { margin: this.margin, scale: this.scale, epsilon: this.epsilon, validate: 'shapes' });
      const cos = cosineLogits(backend, { validate: 'shapes' });
      this.infer = (e, c) => tf.mul(cos(e, c), this.scale);
    }

    override build(inputShape: tfl.Shape | tfl.Shape[]): void {
      const shapes = inputShape as tfl.Shape[];
      const dim = shapes[0]?.[1];
      if (!Array.isArray(shapes[0]) || typeof dim !== 'number') {
        throw new InvalidArgumentError('inputs', 'expected [embeddings [B, D], labels [B]] with a known D');
      }
      const init = tf.initializers.glorotNormal(this.seed === undefined ? {} : { seed: this.seed });
      this.centerWeight = this.addWeight('centers', [this.numClasses, dim], 'float32', init);
      this.built = true;
    }

    /** The current centres [C, D]. */
    centers(): tfc.Tensor {
      if (!this.centerWeight) throw new InvalidArgumentError('centers', 'the layer is not built yet: apply it to inputs first');
      return this.centerWeight.read();
    }

    override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
      const shapes = inputShape as tfl.Shape[];
      return [shapes[0]?.[0] ?? null, this.numClasses];
    }

    override call(inputs: tfc.Tensor | tfc.Tensor[], kwargs: { training?: boolean }): tfc.Tensor {
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw new InvalidArgumentError('inputs', 'the margin head takes [embeddings [B, D], labels [B]]');
      }
      const [embeddings, labels] = inputs as [tfc.Tensor, tfc.Tensor];
      const centers = this.centers();
      if (kwargs?.training !== true) return this.infer(embeddings, centers);
      const y = labels.dtype === 'int32' ? tf.reshape(labels, [-1]) : tf.cast(tf.reshape(labels, [-1]), 'int32');
      return this.train(embeddings, centers, y);
    }

    override getConfig(): tfc.serialization.ConfigDict {
      const config: tfc.serialization.ConfigDict = {
        ...super.getConfig(),
        numClasses: this.numClasses,
        margin: JSON.parse(JSON.stringify(this.margin.config)),
        scale: this.scale,
        epsilon: this.epsilon,
      };
      if (this.seed !== undefined) config['seed'] = this.seed;
      return config;
    }
  }
  return MarginSoftmaxHead;
}

/**
 * A `model.compile` loss for the head layer: softmax cross-entropy from logits. `yTrue` is
 * either one-hot `[B, C]` (what `model.fit` accepts for a custom loss: pass
 * `tf.oneHot(labels, C)` as the target) or integer class indices `[B]` / `[B, 1]`.
 *
 * @param tf - the tfjs module.
 * @returns `(yTrue, yPred) => loss`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { logitsCrossEntropy } from '@marginkit/backend-tfjs';
 * const ce = logitsCrossEntropy(tf);
 * console.log(ce(tf.tensor1d([1]), tf.tensor2d([[0, 0]])).dataSync()[0]!.toFixed(4)); // '0.6931' (ln 2)
 * console.log(ce(tf.tensor2d([[0, 1]]), tf.tensor2d([[0, 0]])).dataSync()[0]!.toFixed(4)); // '0.6931'
 * ```
 */
export function logitsCrossEntropy(tf: Pick<typeof tfc, 'oneHot' | 'cast' | 'reshape' | 'losses'>): (yTrue: tfc.Tensor, yPred: tfc.Tensor) => tfc.Tensor {
  return (yTrue, yPred) => {
    const classes = yPred.shape[yPred.shape.length - 1]!;
    const oneHot =
      yTrue.shape.length === 2 && yTrue.shape[1] === classes && classes > 1 ? yTrue : tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), 'int32'), classes);
    return tf.losses.softmaxCrossEntropy(oneHot, yPred);
  };
}
