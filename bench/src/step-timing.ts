/** What the loss-step benchmarks share: the median timing loop and the PyTorch reference run. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The median wall time of `step` in seconds over `runs` runs, after `warmup` untimed runs. */
export async function medianSeconds(runs: number, warmup: number, step: () => unknown): Promise<number> {
  for (let i = 0; i < warmup; i++) await step();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await step();
    t.push((performance.now() - s) / 1000);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/**
 * The same ArcFace head step in PyTorch CPU autograd (2 threads, `loss_step.py`), with the same
 * sizes, runs and warm-up; undefined (with a note) when Debian's /usr/bin/python3 lacks torch.
 */
export function pytorchStep(sizes: { B: number; D: number; C: number }, runs: number, warmup: number): { seconds: number } | undefined {
  const python = '/usr/bin/python3';
  if (!existsSync(python) || spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
    console.log('  (PyTorch reference unavailable: apt-get install python3-torch)');
    return undefined;
  }
  const script = join(dirname(fileURLToPath(import.meta.url)), 'loss_step.py');
  const { B, D, C } = sizes;
  return JSON.parse(execFileSync(python, [script, String(B), String(D), String(C), String(runs), String(warmup)], { encoding: 'utf8' }));
}
