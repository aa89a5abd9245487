/**
 * The ArcFace step across the plan: for each size, PyTorch CPU with each thread count the chosen
 * runtimes use, then every runtime, each in its own child process; rows printed as they come.
 */
import { type PytorchResult, childEnv, hasTorch, runPytorch, runRuntime } from './child-runner.js';
import { PASSES, type Pass, type StepSizes, TRAIN_PASSES } from './inputs.js';
import type { BenchPlan, RuntimeSpec } from './matrix.js';
import type { Timing } from './stats.js';
import { type BenchRow, benchRow, formatTable } from './table.js';

/** The passes a runtime times: ONNX Runtime has a head trainer, so also the training step. */
const passesOf = (r: RuntimeSpec): readonly Pass[] => (r.family === 'ort' ? TRAIN_PASSES : PASSES);

/** Runs the plan's step matrix; returns every row (PyTorch's too). */
export function stepMatrix(plan: BenchPlan): BenchRow[] {
  const torch = hasTorch();
  if (!torch) console.log('  (PyTorch reference unavailable: apt-get install python3-torch)');
  const env = childEnv(plan.hugePages);
  const rows: BenchRow[] = [];
  const show = (added: readonly BenchRow[]) => {
    rows.push(...added);
    console.log(formatTable(added).split('\n').slice(2).join('\n'));
  };
  console.log(formatTable([]));
  for (const size of plan.sizes) {
    const runtimes = plan.runtimes.filter((r) => size.C <= r.maxClasses);
    if (runtimes.length === 0) continue;
    const reference = new Map<number, Partial<Record<Pass, Timing>>>();
    if (torch) {
      for (const threads of [...new Set(runtimes.map((r) => r.threads))].sort()) {
        const passes = TRAIN_PASSES.filter((p) => runtimes.some((r) => r.threads === threads && passesOf(r).includes(p)));
        const r = runPytorch(threads, size, plan.repeats, passes, env);
        reference.set(threads, 'error' in r ? {} : Object.fromEntries(passes.map((p) => [p, r.passes[p]!.timing])));
        show(pytorchRows(r, size, threads, passes));
      }
    }
    for (const runtime of runtimes) show(runtimeRows(runtime, size, plan, env, reference.get(runtime.threads)));
  }
  return rows;
}

function pytorchRows(r: PytorchResult, size: StepSizes, threads: number, passes: readonly Pass[]): BenchRow[] {
  const base = (pass: Pass) => ({ ...size, pass, runtime: `pytorch-${threads}t`, threads });
  if ('error' in r) return passes.map((pass) => benchRow({ ...base(pass), error: r.error }));
  return passes.map((pass) => {
    const p = r.passes[pass]!;
    return benchRow({ ...base(pass), step: p.timing, pytorch: p.timing, loss: p.loss, peakRssMB: r.peakRssMB });
  });
}

function runtimeRows(
  runtime: RuntimeSpec,
  size: StepSizes,
  plan: BenchPlan,
  env: NodeJS.ProcessEnv,
  pytorch: Partial<Record<Pass, Timing>> | undefined,
): BenchRow[] {
  const r = runRuntime(runtime.id, size, plan.repeats, env);
  const base = (pass: Pass) => ({ ...size, pass, runtime: runtime.id, threads: runtime.threads });
  if ('error' in r) return passesOf(runtime).map((pass) => benchRow({ ...base(pass), error: r.error }));
  return r.passes.map((p) => {
    const reference = pytorch?.[p.pass];
    return benchRow({
      ...base(p.pass),
      step: p.step,
      floor: p.floor,
      loss: p.loss,
      floorValue: p.floorValue,
      peakRssMB: r.peakRssMB,
      ...(reference ? { pytorch: reference } : {}),
    });
  });
}
