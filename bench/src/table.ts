/** The bench's rows: built from the children's results, printed as a table, written as JSON. */
import { type Pass, type StepSizes, stepFlops } from './inputs.js';
import type { Timing } from './stats.js';

/** One runtime, size and pass. */
export interface BenchRow extends StepSizes {
  readonly pass: Pass;
  readonly runtime: string;
  readonly threads: number;
  readonly step?: Timing;
  /** The three (forward: one) bare matmuls of the step, outputs kept in the runtime; none for PyTorch. */
  readonly floor?: Timing;
  readonly loss?: number;
  /** The floor's scalar (the sum of its outputs). */
  readonly floorValue?: number;
  /** PyTorch CPU with the same threads, same size and pass, same run. */
  readonly pytorch?: Timing;
  /** Median step / median PyTorch. */
  readonly ratioToPytorch?: number;
  /** Median step / median floor. */
  readonly overFloor?: number;
  /**
   * Median floor / median PyTorch step: where the runtime's bare matmuls alone take longer than a
   * target ratio to PyTorch, no formulation of the loss can meet it on that runtime.
   */
  readonly floorToPytorch?: number;
  /** The step's matmul FLOPs over its median time. */
  readonly gflops?: number;
  /** The child process's peak RSS (both passes, step and floor). */
  readonly peakRssMB?: number;
  readonly error?: string;
}

/** A row with its derived columns filled in. */
export function benchRow(base: Omit<BenchRow, 'ratioToPytorch' | 'overFloor' | 'floorToPytorch' | 'gflops'>): BenchRow {
  const { step, floor, pytorch } = base;
  if (!step) return base;
  return {
    ...base,
    ...(pytorch ? { ratioToPytorch: step.median / pytorch.median } : {}),
    ...(floor ? { overFloor: step.median / floor.median } : {}),
    ...(floor && pytorch ? { floorToPytorch: floor.median / pytorch.median } : {}),
    gflops: stepFlops(base, base.pass) / step.median / 1e9,
  };
}

const seconds = (s: number) => (s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3));
const fixed = (v: number | undefined, digits: number) => (v === undefined ? '' : v.toFixed(digits));

/** The rows as an aligned text table (Markdown-compatible). */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = ['B', 'C', 'pass', 'runtime', 'thr', 'median s', 'min–max s', '× PyTorch', '× floor', 'floor s', 'floor × PyTorch', 'GFLOP/s', 'peak RSS MB'];
  const body = rows.map((r) =>
    r.error || !r.step
      ? [String(r.B), r.C.toLocaleString('en'), r.pass, r.runtime, String(r.threads), `failed: ${r.error ?? 'no result'}`, '', '', '', '', '', '', '']
      : [
          String(r.B),
          r.C.toLocaleString('en'),
          r.pass,
          r.runtime,
          String(r.threads),
          seconds(r.step.median),
          `${seconds(r.step.min)}–${seconds(r.step.max)}`,
          fixed(r.ratioToPytorch, 2),
          fixed(r.overFloor, 2),
          r.floor ? seconds(r.floor.median) : '',
          fixed(r.floorToPytorch, 2),
          fixed(r.gflops, 1),
          fixed(r.peakRssMB, 0),
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i]!.startsWith('failed') ? 0 : b[i]!.length))));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 4 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}
