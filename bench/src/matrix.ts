/**
 * The benchmark's matrix: sizes (B, D, C), runtimes with their thread counts, repeats, and the
 * command-line filters that narrow it.
 */
import type { StepSizes } from './inputs.js';
import type { Repeats } from './stats.js';

/** A runtime the Node bench runs, each in its own child process. */
export interface RuntimeSpec {
  readonly id: string;
  /** tfjs (cpu, wasm) or ONNX Runtime (node, web's wasm). */
  readonly family: 'tfjs' | 'ort';
  /** Intra-op threads; PyTorch runs with the same. */
  readonly threads: number;
  /** The largest C it runs at (tfjs cpu only at the smallest). */
  readonly maxClasses: number;
}

export const RUNTIMES: readonly RuntimeSpec[] = [
  { id: 'tfjs-cpu', family: 'tfjs', threads: 1, maxClasses: 2000 },
  // tfjs-backend-wasm in Node runs its single-threaded build.
  { id: 'tfjs-wasm', family: 'tfjs', threads: 1, maxClasses: Number.POSITIVE_INFINITY },
  { id: 'ort-web-wasm-1t', family: 'ort', threads: 1, maxClasses: Number.POSITIVE_INFINITY },
  { id: 'ort-web-wasm-2t', family: 'ort', threads: 2, maxClasses: Number.POSITIVE_INFINITY },
  { id: 'ort-node-1t', family: 'ort', threads: 1, maxClasses: Number.POSITIVE_INFINITY },
  { id: 'ort-node-2t', family: 'ort', threads: 2, maxClasses: Number.POSITIVE_INFINITY },
];

/** What one `npm run bench` measures. */
export interface BenchPlan {
  readonly sizes: readonly StepSizes[];
  readonly runtimes: readonly RuntimeSpec[];
  readonly repeats: Repeats;
  /** Whether the eval benchmarks (verification, LFW) run too. */
  readonly evalParts: boolean;
  readonly json: string;
  /** Whether the children run with glibc's huge pages for large blocks (see `childEnv`); `--no-hugepages` turns it off. */
  readonly hugePages: boolean;
}

const FULL: Repeats = { warmup: 1, minRuns: 3, maxRuns: 7, budgetSeconds: 10 };
const QUICK: Repeats = { warmup: 1, minRuns: 3, maxRuns: 3, budgetSeconds: 0 };

export const USAGE = `npm run bench -- [eval|loss|ort] [--quick] [--runtime id,id] [--classes C,C] [--batch B,B] [--json PATH] [--no-hugepages]
  loss: the tfjs runtimes; ort: the ONNX Runtime ones; eval: verification and LFW only.
  runtimes: ${RUNTIMES.map((r) => r.id).join(', ')}
  --quick: B=128, C=2000, 3 runs each, no eval part (about 1-2 minutes).
  --no-hugepages: run the children without GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (default: with it).`;

const value = (v: string | undefined, flag: string): string => {
  if (!v || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
  return v;
};
const list = (v: string | undefined, flag: string): string[] => value(v, flag).split(',');
const numbers = (value: string | undefined, flag: string): number[] =>
  list(value, flag).map((v) => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: ${v} is not a positive integer\n${USAGE}`);
    return n;
  });

/** Reads the command line (after `npm run bench --`) into a plan; throws with the usage on anything unknown. */
export function parsePlan(argv: readonly string[], defaultJson: string): BenchPlan {
  let part: string | undefined;
  let quick = false;
  let ids: string[] | undefined;
  let classes = [2000, 10_000, 100_000];
  let batches = [128, 256];
  let json = defaultJson;
  let hugePages = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === 'eval' || a === 'loss' || a === 'ort') part = a;
    else if (a === '--quick') quick = true;
    else if (a === '--runtime') ids = list(argv[++i], a);
    else if (a === '--classes') classes = numbers(argv[++i], a);
    else if (a === '--batch') batches = numbers(argv[++i], a);
    else if (a === '--json') json = value(argv[++i], a);
    else if (a === '--no-hugepages') hugePages = false;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  const unknown = (ids ?? []).filter((id) => !RUNTIMES.some((r) => r.id === id));
  if (unknown.length > 0) throw new Error(`--runtime: unknown ${unknown.join(', ')}\n${USAGE}`);
  if (quick) {
    classes = [Math.min(...classes)];
    batches = [Math.min(...batches)];
  }
  const runtimes = RUNTIMES.filter(
    (r) => (ids ? ids.includes(r.id) : true) && (part === 'loss' ? r.family === 'tfjs' : part === 'ort' ? r.family === 'ort' : part !== 'eval'),
  );
  const sizes = classes.flatMap((C) => batches.map((B) => ({ B, D: 512, C })));
  return { sizes, runtimes, repeats: quick ? QUICK : FULL, evalParts: part === 'eval' || (part === undefined && !quick), json, hugePages };
}
