/** Times one runtime's {@link StepCase} for each pass: the step and its floor, one after the other. */
import { type Pass, floorPass } from './inputs.js';
import { type Repeats, type Timing, timeRepeats } from './stats.js';
import type { StepCase } from './step-case.js';

/** One pass of one runtime at one size. */
export interface PassResult {
  readonly pass: Pass;
  readonly step: Timing;
  readonly floor: Timing;
  /** The loss the step returned (the same inputs give the same loss on every runtime). */
  readonly loss: number;
  /** The scalar the floor returned (its outputs' sum: the same inputs give the same value everywhere). */
  readonly floorValue: number;
}

/**
 * Times `c`'s step and floor for each of its passes, floor first, each with `repeats`. A training
 * step shares the forward + backward floor (the same three matmuls), timed once.
 */
export async function measureCase(c: StepCase, repeats: Repeats): Promise<PassResult[]> {
  const floors = new Map<Pass, { readonly timing: Timing; readonly last: number }>();
  const out: PassResult[] = [];
  for (const pass of c.passes) {
    const fp = floorPass(pass);
    if (!floors.has(fp)) floors.set(fp, await timeRepeats(() => c.floor(fp), repeats));
    const floor = floors.get(fp)!;
    const step = await timeRepeats(() => c.step(pass), repeats);
    if (!Number.isFinite(step.last) || !Number.isFinite(floor.last)) throw new Error(`${pass}: non-finite result (loss ${step.last}, floor ${floor.last})`);
    out.push({ pass, step: step.timing, floor: floor.timing, loss: step.last, floorValue: floor.last });
  }
  return out;
}
