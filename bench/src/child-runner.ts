/**
 * Runs each runtime, and PyTorch, in a child process of its own, so that each peak RSS is that
 * runtime's alone; returns what the child printed, or the reason it failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pass, StepSizes } from './inputs.js';
import type { PassResult } from './measure.js';
import type { Repeats, Timing } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';

/** A child's results: the passes and its peak RSS, or the error that ended it. */
export type ChildResult = { readonly passes: readonly PassResult[]; readonly peakRssMB: number } | { readonly error: string };

/** PyTorch's results for one size and thread count (no floor: PyTorch is the yardstick). */
export type PytorchResult =
  | { readonly passes: Readonly<Partial<Record<Pass, { readonly timing: Timing; readonly loss: number }>>>; readonly peakRssMB: number }
  | { readonly error: string };

const failure = (what: string, r: ReturnType<typeof spawnSync>): { error: string } => {
  const lines = String(r.stderr ?? '')
    .trim()
    .split('\n')
    .filter((l) => !/^\s+at /.test(l) && l.length < 300);
  // The error's own line (e.g. tfjs-backend-wasm's "RuntimeError: Aborted()" when its 4 GB heap is
  // exhausted), else the last lines.
  const errorLine = lines.filter((l) => /Error|Aborted/.test(l)).slice(-1);
  const stderr = (errorLine.length > 0 ? errorLine : lines.slice(-3)).join(' | ');
  return { error: `${what} ${r.error ? r.error.message : `exited with ${r.status ?? r.signal}`}: ${stderr}` };
};

/**
 * The children's environment: with `hugePages`, glibc's malloc asks the kernel for transparent huge
 * pages on its large (mmap'd) blocks (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, glibc ≥ 2.35, where
 * the kernel's THP mode is `madvise` or `always`). Each [C, D] buffer a runtime hands to JavaScript
 * is fresh memory; at C = 100,000 that is 200 MB, 50,000 page faults of 4 KiB and ~0.6 s here,
 * against ~40 ms with 2 MiB pages. PyTorch's child gets the same environment.
 */
export function childEnv(hugePages: boolean): NodeJS.ProcessEnv {
  if (!hugePages) return process.env;
  const tunables = [process.env['GLIBC_TUNABLES'], 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':');
  return { ...process.env, GLIBC_TUNABLES: tunables };
}

/**
 * Runs the TypeScript worker `script` (a file beside this one) in a child Node with `args` and
 * `env`; returns the JSON of its `RESULT <json>` line, or the reason it failed, named `what`.
 */
export function runWorker<R>(what: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv): R | { readonly error: string } {
  const argv = ['--conditions=@marginkit/source', '--import', 'tsx', join(here, script), ...args];
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 26, env });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  return r.status === 0 && line ? (JSON.parse(line.slice(7)) as R) : failure(what, r);
}

/** Runs `worker.ts` for `runtime` at `size`. */
export function runRuntime(runtime: string, size: StepSizes, repeats: Repeats, env: NodeJS.ProcessEnv): ChildResult {
  return runWorker(runtime, 'worker.ts', [runtime, String(size.B), String(size.D), String(size.C), JSON.stringify(repeats)], env);
}

/** Whether Debian's python3 has torch (install: apt-get install python3-torch). */
export const hasTorch = (): boolean => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** Runs `loss_step.py` at `size` with `threads`, timing `passes`. */
export function runPytorch(threads: number, size: StepSizes, repeats: Repeats, passes: readonly Pass[], env: NodeJS.ProcessEnv): PytorchResult {
  const { warmup, minRuns, maxRuns, budgetSeconds } = repeats;
  const args = [...[size.B, size.D, size.C, threads, warmup, minRuns, maxRuns, budgetSeconds].map(String), passes.join(',')];
  const r = spawnSync(PYTHON, [join(here, 'loss_step.py'), ...args], { encoding: 'utf8', env });
  if (r.status !== 0) return failure(`PyTorch (${threads} threads)`, r);
  const { peakRssMB, ...timed } = JSON.parse(r.stdout);
  return { passes: timed, peakRssMB };
}
