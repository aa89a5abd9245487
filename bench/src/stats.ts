/** Repeated timing: the median and spread of a step's wall time. */

/** Seconds over the timed repeats: median, min, max, quartiles and every sample. */
export interface Timing {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly q1: number;
  readonly q3: number;
  readonly samples: readonly number[];
}

/** How many times to run: `warmup` untimed, then `minRuns`…`maxRuns` timed, fewer when a run is slow. */
export interface Repeats {
  readonly warmup: number;
  readonly minRuns: number;
  readonly maxRuns: number;
  /** Timed runs stop once they have taken this many seconds in all (never before `minRuns`). */
  readonly budgetSeconds: number;
}

/** The `q` quantile (0…1) of sorted values, linearly interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Summarises seconds as a {@link Timing}. */
export function summarise(seconds: readonly number[]): Timing {
  const s = [...seconds].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), min: s[0]!, max: s[s.length - 1]!, q1: quantile(s, 0.25), q3: quantile(s, 0.75), samples: seconds };
}

/** Times `step` (awaited) with `repeats`; what the last run returned is kept as `last`. */
export async function timeRepeats<R>(step: () => R | Promise<R>, repeats: Repeats): Promise<{ timing: Timing; last: R }> {
  let last = undefined as R | undefined;
  for (let i = 0; i < repeats.warmup; i++) last = await step();
  const t: number[] = [];
  let total = 0;
  while (t.length < repeats.maxRuns && (t.length < repeats.minRuns || total < repeats.budgetSeconds)) {
    const start = performance.now();
    last = await step();
    const s = (performance.now() - start) / 1000;
    t.push(s);
    total += s;
  }
  return { timing: summarise(t), last: last as R };
}
