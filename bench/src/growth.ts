import { freemem } from 'node:os';
import { join } from 'node:path';
import { childEnv, hasTorch, runPytorch, runWorker } from './child-runner.js';
import { type GrowthRow, type PytorchGrowth, growthSvg, growthTable, memoryFloor } from './growth-report.js';
import type { Repeats, Timing } from './stats.js';

/** What growth-worker.ts prints as its RESULT line. */
interface GrowthWorkerResult {
  readonly chunks: number;
  readonly setupSeconds: number;
  readonly step: Timing;
  /** The median of the steps' `updateSeconds` (the optimizer's share, in JavaScript). */
  readonly updateSeconds: number;
  readonly loss: number;
  readonly floor: Timing;
  readonly floorValue: number;
  readonly baseRssMB: number;
  readonly peakRssMB: number;
}

/** What `npm run bench -- growth` runs. */
export interface GrowthPlan {
  readonly classes: readonly number[];
  readonly batch: number;
  readonly dim: number;
  readonly classChunk: number;
  readonly threads: number;
  readonly repeats: Repeats;
  readonly pytorch: boolean;
  readonly hugePages: boolean;
  /** ONNX Runtime's CPU memory arena (default on); `--no-arena` frees each run's intermediates. */
  readonly arena: boolean;
  /** The trainer's `keepLogits` (default `'auto'`: kept when B ≤ D). */
  readonly keepLogits: boolean | 'auto';
  readonly json: string;
  readonly svg: string;
}

export const GROWTH_USAGE = `npm run bench -- growth [--classes 10000,100000,300000,1000000] [--chunk 16384] [--batch 256] [--threads 2] [--quick] [--no-pytorch] [--no-hugepages] [--no-arena] [--keep-logits auto|true|false] [--json PATH] [--svg PATH]
  --quick: C in {10000, 100000}, 1 warm-up and 2 runs each.
  --no-arena: sessions without ONNX Runtime's CPU memory arena (enableCpuMemArena: false).
  --keep-logits: the trainer's keepLogits (auto: keep pass 1's cosines for pass 2 when B ≤ D).`;

const FULL: Repeats = { warmup: 1, minRuns: 3, maxRuns: 5, budgetSeconds: 20 };
const QUICK: Repeats = { warmup: 1, minRuns: 2, maxRuns: 2, budgetSeconds: 0 };

const positive = (v: string | undefined, flag: string): number => {
  const n = Number((v ?? '').replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: ${v} is not a positive integer\n${GROWTH_USAGE}`);
  return n;
};

/** Reads the arguments after `growth`; throws with the usage on anything unknown. */
export function parseGrowth(argv: readonly string[], reports: string): GrowthPlan {
  let classes = [10_000, 100_000, 300_000, 1_000_000];
  let [batch, classChunk, threads] = [256, 16_384, 2];
  let [quick, pytorch, hugePages, arena] = [false, true, true, true];
  let keepLogits: boolean | 'auto' = 'auto';
  let json = join(reports, 'growth.json');
  let svg = join(reports, 'growth.svg');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--classes') classes = (argv[++i] ?? '').split(',').map((v) => positive(v, a));
    else if (a === '--chunk') classChunk = positive(argv[++i], a);
    else if (a === '--batch') batch = positive(argv[++i], a);
    else if (a === '--threads') threads = positive(argv[++i], a);
    else if (a === '--quick') quick = true;
    else if (a === '--no-pytorch') pytorch = false;
    else if (a === '--no-hugepages') hugePages = false;
    else if (a === '--no-arena') arena = false;
    else if (a === '--keep-logits') {
      const v = argv[++i];
      if (v !== 'auto' && v !== 'true' && v !== 'false') throw new Error(`--keep-logits: ${v} is not auto, true or false\n${GROWTH_USAGE}`);
      keepLogits = v === 'auto' ? v : v === 'true';
    } else if (a === '--json') json = argv[++i] ?? '';
    else if (a === '--svg') svg = argv[++i] ?? '';
    else throw new Error(`unknown argument ${a}\n${GROWTH_USAGE}`);
  }
  if (!json || !svg) throw new Error(`--json and --svg need a path\n${GROWTH_USAGE}`);
  if (quick) classes = classes.filter((c) => c <= 100_000).slice(0, 2);
  return { classes, batch, dim: 512, classChunk, threads, repeats: quick ? QUICK : FULL, pytorch, hugePages, arena, keepLogits, json, svg };
}

/**
 * PyTorch's peak at C: linear in C from the largest C measured so far, else 5·C·D·4 (weights,
 * normalised copy, two gradients, momentum) plus eight [B, C] float32 matrices.
 */
function pytorchBytes(plan: GrowthPlan, C: number, measured: readonly GrowthRow[]): number {
  const last = [...measured].reverse().find((r) => 'step' in r.pytorch);
  if (last && 'step' in last.pytorch) return (last.pytorch.peakRssMB * 2 ** 20 * C) / last.C;
  return 5 * C * plan.dim * 4 + 8 * plan.batch * C * 4;
}

function runPytorchAt(plan: GrowthPlan, C: number, measured: readonly GrowthRow[], env: NodeJS.ProcessEnv): PytorchGrowth {
  const need = pytorchBytes(plan, C, measured);
  // Leave room: the machine has no swap, and an out-of-memory kill may pick another process.
  if (need > 0.6 * freemem()) {
    return { skipped: `needs ~${(need / 2 ** 30).toFixed(1)} GiB (estimated), more than 60% of the ${(freemem() / 2 ** 30).toFixed(1)} GiB free` };
  }
  const r = runPytorch(plan.threads, { B: plan.batch, D: plan.dim, C }, plan.repeats, ['train'], env);
  if ('error' in r) return { error: r.error };
  const train = r.passes.train!;
  return { step: train.timing, loss: train.loss, peakRssMB: r.peakRssMB };
}

function runChunked(plan: GrowthPlan, C: number, env: NodeJS.ProcessEnv): Omit<GrowthRow, 'pytorch'> {
  const keeps = plan.keepLogits === 'auto' ? plan.batch <= plan.dim : plan.keepLogits;
  const base = { B: plan.batch, D: plan.dim, C, classChunk: plan.classChunk, memoryFloor: memoryFloor(plan.batch, plan.dim, C, plan.classChunk, keeps) };
  const sizes = [plan.batch, plan.dim, C, plan.classChunk, plan.threads, plan.arena ? 1 : 0].map(String);
  const out = runWorker<GrowthWorkerResult>(`C = ${C}`, 'growth-worker.ts', [...sizes, JSON.stringify(plan.repeats), String(keeps)], env);
  if ('error' in out) return { ...base, error: out.error };
  return { ...base, ...out, overFloor: out.step.median / out.floor.median, excessMB: out.peakRssMB - out.baseRssMB - base.memoryFloor.totalMB };
}

/** Runs the plan: per C, PyTorch first (when it fits), then the chunked step's child. */
export function growthBench(plan: GrowthPlan): { rows: GrowthRow[]; svg: string } {
  const env = childEnv(plan.hugePages);
  const torch = plan.pytorch && hasTorch();
  if (plan.pytorch && !torch) console.log('  (PyTorch reference unavailable: apt-get install python3-torch)');
  const rows: GrowthRow[] = [];
  for (const C of plan.classes) {
    const start = performance.now();
    const pytorch: PytorchGrowth = torch ? runPytorchAt(plan, C, rows, env) : { skipped: plan.pytorch ? 'torch not installed' : '--no-pytorch' };
    const row: GrowthRow = { ...runChunked(plan, C, env), pytorch };
    rows.push(row);
    console.log(`${growthTable([row]).split('\n')[2]}   (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }
  return { rows, svg: growthSvg(rows, plan.threads) };
}
