/** What the bench times in each runtime: an ArcFace step and its matmul floor, for one pass. */
import type { PASSES, Pass } from './inputs.js';

/** One runtime holding one size's inputs. */
export interface StepCase {
  /** The passes it times: {@link PASSES}, and the training step where the runtime has a head trainer. */
  readonly passes: readonly Pass[];
  /** Runs the step; returns the loss (read back, so the work is done). */
  step(pass: Pass): Promise<number>;
  /** Runs the floor: the step's bare matmuls, outputs reduced inside the runtime; returns that scalar. */
  floor(pass: Pass): Promise<number>;
  /** Frees what the case holds. */
  dispose(): Promise<void>;
}

/** The ArcFace head of every runtime: m = 0.5, scale 64 (as insightface). */
export const ARCFACE = { m: 0.5, scale: 64 } as const;
