/**
 * Colours of the report. Classes (the scatter plots) and losses (every other figure) each have a
 * fixed colour, the same in every figure. Plain softmax, the baseline, is always near-black.
 */
import type { LossRun } from './model.js';

/** Class colours by class index (Tableau 10, which has exactly the 10 classes' worth). */
const CLASS_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The colour of class `index` (an index into ReportData.classNames). */
export function classColour(index: number): string {
  return Number.isInteger(index) && index >= 0 ? CLASS_COLOURS[index % CLASS_COLOURS.length]! : '#999999';
}

/** Colours of the margin losses, in run order (Okabe–Ito first: colour-blind safe). */
const LOSS_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#8c510a', '#6a3d9a', '#b8860b', '#c51b7d'];
/** Dash patterns used once the colours run out (runs 11–20, 21–30, …). */
const DASHES = ['', '7 3', '2 2', '9 3 2 3'];

/** The near-black of plain softmax. */
export const SOFTMAX_COLOUR = '#222222';

/** How a loss is drawn: a colour and a dash pattern ('' for solid). */
export interface LossStyle {
  readonly colour: string;
  readonly dash: string;
}

/** Styles of the runs, in run order: plain softmax near-black, the others by their order among the non-softmax runs. */
export function lossStyles(runs: readonly LossRun[]): LossStyle[] {
  let k = 0;
  return runs.map((run) => {
    if (run.margin === null) return { colour: SOFTMAX_COLOUR, dash: '' };
    const i = k++;
    return { colour: LOSS_COLOURS[i % LOSS_COLOURS.length]!, dash: DASHES[Math.floor(i / LOSS_COLOURS.length) % DASHES.length]! };
  });
}

/** The style of the n-th extra line that matches no run (e.g. a target curve of a loss that did not run). */
export function extraStyle(n: number): LossStyle {
  const L = LOSS_COLOURS.length;
  return { colour: LOSS_COLOURS[(((L - 1 - n) % L) + L) % L]!, dash: '4 3' };
}
