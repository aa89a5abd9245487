/** The growth bench's rows: the expected memory floor, the text table and the SVG plot of time and memory against C. */
import { linePlotSvg } from '@marginkit/eval';
import type { Timing } from './stats.js';

/** The bytes a chunked SGD-momentum step cannot go below at C classes (float32 everywhere). */
export interface MemoryFloor {
  /** The centres, C·D·4. */
  readonly centersMB: number;
  /** The momentum buffer, C·D·4. */
  readonly momentumMB: number;
  /**
   * One chunk's work: its centre gradient twice (ORT's output and the Float32Array that
   * `valueAndGradients` reads it into, 2·Cc·D·4) and four [B, Cc] float32 matrices (cosines,
   * logits, probabilities, their gradient).
   */
  readonly chunkMB: number;
  /** The cosines the step keeps from pass 1 for pass 2 (`keepLogits`), B·C·4; 0 when not kept. */
  readonly logitsMB: number;
  /** The sum. */
  readonly totalMB: number;
}

/** {@link MemoryFloor} at these sizes. */
export function memoryFloor(B: number, D: number, C: number, classChunk: number, keepLogits = false): MemoryFloor {
  const mb = (bytes: number) => bytes / 2 ** 20;
  const cc = Math.min(classChunk, C);
  const centersMB = mb(C * D * 4);
  const chunkMB = mb(2 * cc * D * 4 + 4 * B * cc * 4);
  const logitsMB = keepLogits ? mb(B * C * 4) : 0;
  return { centersMB, momentumMB: centersMB, chunkMB, logitsMB, totalMB: 2 * centersMB + chunkMB + logitsMB };
}

/** PyTorch at one C: timed, skipped (and why), or failed. */
export type PytorchGrowth =
  | { readonly step: Timing; readonly loss: number; readonly peakRssMB: number }
  | { readonly skipped: string }
  | { readonly error: string };

/** One C of the growth bench. */
export interface GrowthRow {
  readonly B: number;
  readonly D: number;
  readonly C: number;
  readonly classChunk: number;
  readonly chunks?: number;
  /** The chunked training step (ChunkedHeadTrainer, SGD-momentum), onnxruntime-node. */
  readonly step?: Timing;
  /** The median time of the step's optimizer update (ChunkedTrainerStepResult.updateSeconds). */
  readonly updateSeconds?: number;
  /** The three bare matmuls of the step's shapes, chunk by chunk in ORT, outputs summed in-graph. */
  readonly floor?: Timing;
  readonly overFloor?: number;
  readonly loss?: number;
  /** The child's RSS after loading ORT, before any centre existed. */
  readonly baseRssMB?: number;
  readonly peakRssMB?: number;
  readonly memoryFloor: MemoryFloor;
  /** Peak RSS − (base RSS + memory floor). */
  readonly excessMB?: number;
  readonly setupSeconds?: number;
  readonly pytorch: PytorchGrowth;
  readonly error?: string;
}

const s = (v: number) => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

/** The rows as a Markdown table. */
export function growthTable(rows: readonly GrowthRow[]): string {
  const head = [
    'C',
    'chunks',
    'step s (min–max)',
    'of which update s',
    'floor s',
    '× floor',
    'peak RSS MB',
    'floor MB (+base)',
    'excess MB',
    'PyTorch step s',
    'PyTorch RSS MB',
  ];
  const body = rows.map((r) => {
    const p = r.pytorch;
    const torch = 'step' in p ? [s(p.step.median), p.peakRssMB.toFixed(0)] : ['skipped' in p ? `skipped: ${p.skipped}` : `failed: ${p.error}`, ''];
    if (r.error || !r.step || !r.floor) return [r.C.toLocaleString('en'), '', `failed: ${r.error ?? 'no result'}`, '', '', '', '', '', '', ...torch];
    return [
      r.C.toLocaleString('en'),
      String(r.chunks),
      `${s(r.step.median)} (${s(r.step.min)}–${s(r.step.max)})`,
      r.updateSeconds === undefined ? '' : s(r.updateSeconds),
      s(r.floor.median),
      (r.step.median / r.floor.median).toFixed(2),
      r.peakRssMB!.toFixed(0),
      `${r.memoryFloor.totalMB.toFixed(0)} (+${r.baseRssMB!.toFixed(0)})`,
      r.excessMB!.toFixed(0),
      ...torch,
    ];
  });
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

/** Two line plots stacked in one SVG: step time and peak memory against C. */
export function growthSvg(rows: readonly GrowthRow[], threads: number): string {
  const ok = rows.filter((r) => r.step && r.floor);
  const torch = rows.filter((r) => 'step' in r.pytorch);
  const cs = (list: readonly GrowthRow[]) => list.map((r) => r.C);
  const torchStep = (r: GrowthRow) => ('step' in r.pytorch ? r.pytorch : undefined);
  const upTo = (values: readonly number[]): [number, number] => [0, Math.max(...values, 1e-9) * 1.1];
  const timeSeries = [
    { name: 'chunked step', x: cs(ok), y: ok.map((r) => r.step!.median) },
    { name: 'floor (3 matmuls)', x: cs(ok), y: ok.map((r) => r.floor!.median) },
    // PyTorch third, as in the memory plot below, so that it has the same colour in both.
    ...(torch.length > 0 ? [{ name: 'PyTorch step', x: cs(torch), y: torch.map((r) => torchStep(r)!.step.median) }] : []),
    // The optimizer's update cannot overlap the matmuls (one thread, bound by memory): with the floor it is what no loss can go below.
    ...(ok.every((r) => r.updateSeconds !== undefined)
      ? [{ name: 'floor + the step’s update', x: cs(ok), y: ok.map((r) => r.floor!.median + r.updateSeconds!) }]
      : []),
  ];
  const time = linePlotSvg(timeSeries, {
    title: `Training step, ORT node ${threads} threads, B = ${rows[0]?.B}, D = ${rows[0]?.D}`,
    xLabel: 'classes C',
    yLabel: 'seconds (median)',
    yRange: upTo(timeSeries.flatMap((t) => t.y)),
  });
  const memorySeries = [
    { name: 'peak RSS, chunked', x: cs(ok), y: ok.map((r) => r.peakRssMB! / 1024) },
    { name: 'base + memory floor', x: cs(ok), y: ok.map((r) => (r.baseRssMB! + r.memoryFloor.totalMB) / 1024) },
    ...(torch.length > 0 ? [{ name: 'peak RSS, PyTorch', x: cs(torch), y: torch.map((r) => torchStep(r)!.peakRssMB / 1024) }] : []),
  ];
  const memory = linePlotSvg(memorySeries, { title: 'Peak RSS against C', xLabel: 'classes C', yLabel: 'GiB', yRange: upTo(memorySeries.flatMap((t) => t.y)) });
  const size = (svg: string) => Number(/height="(\d+)"/.exec(svg)?.[1] ?? 420);
  const [h1, h2] = [size(time), size(memory)];
  const width = Number(/width="(\d+)"/.exec(time)?.[1] ?? 720);
  const nested = (svg: string, y: number) => svg.replace('<svg ', `<svg y="${y}" `);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h1 + h2}" viewBox="0 0 ${width} ${h1 + h2}">`,
    nested(time, 0),
    nested(memory, h1),
    '</svg>',
    '',
  ].join('\n');
}
