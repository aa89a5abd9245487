import type { OrtBackend } from './backend.js';
import type { Feed } from './feeds.js';
import type { OrtTensor } from './graph.js';
import { FLOAT32_MAX, InvalidArgumentError, NonFiniteError, type NumberRange, checkFloat32Positive, checkNumber } from '@marginkit/core';

/**
 * SGD with (heavy-ball) momentum: v ← μ·v + g; W ← W − η·v. The same rule as `tf.train.momentum` and PyTorch's SGD.
 * The update runs in float32: η must be a normal float32 (in [1.18e-38, 3.4e38]) and μ must stay below 1 in float32.
 */
export interface SgdOptimizer {
  /** The optimizer's kind. */
  readonly kind: 'sgd';
  /** η, the learning rate (> 0). */
  readonly learningRate: number;
  /** μ in [0, 1); 0 is plain SGD. */
  readonly momentum: number;
}

/**
 * Adam (Kingma & Ba): m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * W ← W − η·(m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε). The same rule as `tf.train.adam` and PyTorch's Adam.
 * The update runs in float32: η and ε must be normal float32 values (ε ≥ 1.18e-38, else √v + ε is 0
 * for a zero gradient and the update 0 / 0; ε ≤ 1.7e38), η / (1 − β₁) must not overflow float32,
 * and β₁, β₂ must stay below 1 in float32.
 */
export interface AdamOptimizer {
  /** The optimizer's kind. */
  readonly kind: 'adam';
  /** η, the learning rate (> 0). */
  readonly learningRate: number;
  /** β₁ in [0, 1). */
  readonly beta1: number;
  /** β₂ in [0, 1). */
  readonly beta2: number;
  /** ε > 0, added to the root of the second moment. */
  readonly epsilon: number;
}

/** An optimizer for {@link headTrainer}. */
export type HeadOptimizer = SgdOptimizer | AdamOptimizer;

/** A positive rate: finite and > 0. */
const POSITIVE: NumberRange = { min: 0, minOpen: true };
/** A decay factor: in [0, 1). */
const FRACTION: NumberRange = { min: 0, max: 1, maxOpen: true };

/** A factor in [0, 1) that must stay below 1 after rounding to float32. */
const checkFloat32Fraction = (argument: string, v: number): number => {
  if (Math.fround(v) >= 1)
    throw new InvalidArgumentError(argument, `is ${v}, which rounds to 1 in float32 (the graph computes in float32): use a value ≤ 0.99999994`);
  return v;
};

/** The SGD optimizer of checked options; errors name `<prefix>.<option>`. @internal */
export function checkSgd(prefix: string, options: { readonly learningRate: number; readonly momentum?: number }): SgdOptimizer {
  const learningRate = checkNumber(`${prefix}.learningRate`, options.learningRate, POSITIVE);
  checkFloat32Positive(`${prefix}.learningRate`, learningRate, 'a learning rate of this size');
  const momentum = checkFloat32Fraction(`${prefix}.momentum`, checkNumber(`${prefix}.momentum`, options.momentum ?? 0, FRACTION));
  return { kind: 'sgd', learningRate, momentum };
}

/** The Adam optimizer of checked options; errors name `<prefix>.<option>`. @internal */
export function checkAdam(
  prefix: string,
  options: { readonly learningRate?: number; readonly beta1?: number; readonly beta2?: number; readonly epsilon?: number },
): AdamOptimizer {
  const learningRate = checkNumber(`${prefix}.learningRate`, options.learningRate ?? 1e-3, POSITIVE);
  checkFloat32Positive(`${prefix}.learningRate`, learningRate, 'a learning rate of this size');
  const beta1 = checkFloat32Fraction(`${prefix}.beta1`, checkNumber(`${prefix}.beta1`, options.beta1 ?? 0.9, FRACTION));
  const beta2 = checkFloat32Fraction(`${prefix}.beta2`, checkNumber(`${prefix}.beta2`, options.beta2 ?? 0.999, FRACTION));
  const epsilon = checkNumber(`${prefix}.epsilon`, options.epsilon ?? 1e-8, POSITIVE);
  checkFloat32Positive(`${prefix}.epsilon`, epsilon, 'ε (added to √v, which is 0 for a parameter whose gradient is 0, giving 0 / 0)');
  if (epsilon > FLOAT32_MAX / 2) {
    throw new NonFiniteError(`${prefix}.epsilon`, `is ${epsilon}: √v + ε can overflow float32 (largest 3.4028e38); use ε ≤ 1.7e38 (1e-8 is usual)`);
  }
  const firstStep = learningRate / (1 - beta1);
  if (firstStep > FLOAT32_MAX) {
    throw new NonFiniteError(
      `${prefix}.learningRate`,
      `is ${learningRate}: the first step's bias-corrected step size η / (1 − β₁) = ${firstStep} overflows float32 (largest 3.4028e38)`,
    );
  }
  return { kind: 'adam', learningRate, beta1, beta2, epsilon };
}

/**
 * SGD with momentum for {@link headTrainer}.
 *
 * @param options - `learningRate` η > 0 (required) and `momentum` μ in [0, 1) (default 0).
 * @returns the optimizer description.
 *
 * @example
 * ```ts
 * import { sgd } from '@marginkit/backend-ort';
 * console.log(sgd({ learningRate: 0.1, momentum: 0.9 })); // { kind: 'sgd', learningRate: 0.1, momentum: 0.9 }
 * ```
 */
export function sgd(options: { readonly learningRate: number; readonly momentum?: number }): SgdOptimizer {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('sgd.options', 'expected { learningRate, momentum? }');
  return checkSgd('sgd', options);
}

/**
 * Adam for {@link headTrainer}.
 *
 * @param options - `learningRate` η (default 1e-3), `beta1` (0.9), `beta2` (0.999), `epsilon` (1e-8, as PyTorch; tfjs defaults to 1e-7).
 * @returns the optimizer description.
 *
 * @example
 * ```ts
 * import { adam } from '@marginkit/backend-ort';
 * console.log(adam({ learningRate: 0.01 }).beta2); // 0.999
 * ```
 */
export function adam(
  options: { readonly learningRate?: number; readonly beta1?: number; readonly beta2?: number; readonly epsilon?: number } = {},
): AdamOptimizer {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('adam.options', 'expected { learningRate?, beta1?, beta2?, epsilon? }');
  return checkAdam('adam', options);
}

/** The optimizer's step in the trainer's graph: its outputs, its state feeds, and its per-step scalars. @internal */
export interface OptimizerUpdate {
  /** `centersNext` and the next optimizer state, `<state>Next`. */
  readonly outputs: Record<string, OrtTensor>;
  /** The initial optimizer state (zeros) and the centres, fed as graph inputs by name. */
  readonly state: Record<string, Feed>;
  /** The scalars fed at step t (1-based): Adam's bias-corrected rates; none for SGD. */
  rates(t: number): Record<string, number>;
}

/**
 * Writes the update of centres `w` [classes, dim] with gradient `gw` into the traced graph:
 * SGD's velocity, or Adam's moments with its bias corrections fed as scalars (so one session
 * serves every step). @internal
 */
export function optimizerUpdate(backend: OrtBackend, optimizer: HeadOptimizer, w: OrtTensor, gw: OrtTensor): OptimizerUpdate {
  const o = backend.tensorOps;
  const shape = w.shape;
  const zeros = (): Feed => ({ data: new Float32Array(shape.reduce((p, d) => p * d, 1)), dims: [...shape] });
  if (optimizer.kind === 'sgd') {
    // The velocity is kept scaled by −η, u = −η·v: u' = μ·u − η·g and w' = w + u' (as v' = μ·v + g,
    // w' = w − η·v'). −η·g then folds into the gradient's last division by the row norms (a
    // [C, 1] operand), so the update writes the [C, D] state three times instead of four.
    // Without momentum there is no velocity to keep.
    const step = o.mul(gw, o.scalar(-optimizer.learningRate));
    if (optimizer.momentum === 0) return { outputs: { centersNext: o.add(w, step) }, state: {}, rates: () => ({}) };
    const u = backend.placeholder('velocity', shape);
    const u2 = o.add(o.mul(u, o.scalar(optimizer.momentum)), step);
    return {
      outputs: { velocityNext: u2, centersNext: o.add(w, u2) },
      state: { velocity: zeros() },
      rates: () => ({}), // η is constant: a constant of the graph
    };
  }
  const { beta1, beta2, epsilon, learningRate } = optimizer;
  const m = backend.placeholder('firstMoment', shape);
  const v = backend.placeholder('secondMoment', shape);
  // Bias corrections as fed scalars: stepSize = η / (1 − β₁ᵗ), secondScale = 1 / (1 − β₂ᵗ).
  const stepSize = backend.placeholder('stepSize', []);
  const secondScale = backend.placeholder('secondScale', []);
  const m2 = o.add(o.mul(m, o.scalar(beta1)), o.mul(gw, o.scalar(1 - beta1)));
  const v2 = o.add(o.mul(v, o.scalar(beta2)), o.mul(o.mul(gw, gw), o.scalar(1 - beta2)));
  const denom = o.add(o.sqrt(o.mul(v2, secondScale)), o.scalar(epsilon));
  return {
    outputs: { firstMomentNext: m2, secondMomentNext: v2, centersNext: o.sub(w, o.mul(o.div(m2, denom), stepSize)) },
    state: { firstMoment: zeros(), secondMoment: zeros() },
    rates: (t) => ({ stepSize: learningRate / (1 - beta1 ** t), secondScale: 1 / (1 - beta2 ** t) }),
  };
}
