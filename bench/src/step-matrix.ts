/**
 * The ArcFace step across the plan: for each size, PyTorch CPU with each thread count the chosen
 * runtimes use, then every runtime, each in its own child process; rows printed as they come.
 */
import { hasTorch, runPytorch, runRuntime } from './child-runner.js';
import { PASSES, type Pass, type StepSizes } from './inputs.js';
import type { BenchPlan } from './matrix.js';
import type { Timing } from './stats.js';
import { type BenchRow, benchRow, formatTable } from './table.js';

/** Runs the plan's step matrix; returns every row (PyTorch's too). */
export function stepMatrix(plan: BenchPlan): BenchRow[] {
  const torch = hasTorch();
  if (!torch) console.log('  (PyTorch reference unavailable: apt-get install python3-torch)');
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
        const r = runPytorch(threads, size, plan.repeats);
        const base = (pass: Pass) => ({ ...size, pass, runtime: `pytorch-${threads}t`, threads });
        if ('error' in r) {
          show(PASSES.map((pass) => benchRow({ ...base(pass), error: r.error })));
          continue;
        }
        reference.set(threads, { fwd: r.passes.fwd.timing, 'fwd+bwd': r.passes['fwd+bwd'].timing });
        show(
          PASSES.map((pass) =>
            benchRow({ ...base(pass), step: r.passes[pass].timing, pytorch: r.passes[pass].timing, loss: r.passes[pass].loss, peakRssMB: r.peakRssMB }),
          ),
        );
      }
    }
    for (const runtime of runtimes) show(runtimeRows(runtime.id, runtime.threads, size, plan, reference.get(runtime.threads)));
  }
  return rows;
}

function runtimeRows(runtime: string, threads: number, size: StepSizes, plan: BenchPlan, pytorch: Partial<Record<Pass, Timing>> | undefined): BenchRow[] {
  const r = runRuntime(runtime, size, plan.repeats);
  const base = (pass: Pass) => ({ ...size, pass, runtime, threads });
  if ('error' in r) return PASSES.map((pass) => benchRow({ ...base(pass), error: r.error }));
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
