/**
 * marginkit benchmarks. Every timing is reported next to a reference measured in the same run on
 * the same machine (scikit-learn, numpy and PyTorch through Debian's /usr/bin/python3, when it has them).
 *
 *   npm run bench                       (from the repository root; everything)
 *   npm run bench -- --quick            (B=128, C=2,000, 3 runs: about 1-2 minutes)
 *   npm run bench -- loss | ort | eval  (the tfjs runtimes, the ONNX Runtime ones, the eval part)
 *   npm run bench -- --runtime ort-node-2t --classes 100000 --batch 256 --json out.json
 *   npm run bench -- growth [--classes 10000,100000,300000,1000000] [--chunk 16384]
 *                           (the chunked training step against C; see growth.ts)
 *
 * The ArcFace step (B in {128, 256}, D = 512, C in {2,000, 10,000, 100,000}; tfjs cpu at 2,000
 * only), forward and forward + backward, on tfjs cpu and wasm, onnxruntime-web wasm and
 * onnxruntime-node (1 and 2 threads each), each runtime and size in its own child process, beside
 * PyTorch CPU with the same threads and the floor (the step's bare matmuls in the same runtime).
 * The table goes to stdout, everything to reports/bench.json (or --json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evalBench } from './eval-bench.js';
import { growthMain } from './growth-main.js';
import { type BenchPlan, parsePlan } from './matrix.js';
import { stepMatrix } from './step-matrix.js';
import { formatTable } from './table.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (process.argv[2] === 'growth') process.exit(growthMain(process.argv.slice(3), resolve(root, 'reports')));
let plan: BenchPlan;
try {
  plan = parsePlan(process.argv.slice(2), resolve(root, 'reports', 'bench.json'));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, plan };
if (plan.evalParts) results['eval'] = evalBench();
if (plan.runtimes.length > 0) {
  console.log('\nArcFace step (m = 0.5, s = 64), D = 512: each runtime beside PyTorch CPU with its threads and its floor (the step’s bare matmuls)');
  const rows = stepMatrix(plan);
  results['step'] = rows;
  console.log(`\n${formatTable(rows)}`);
}
// npm sets INIT_CWD to where it was run: a relative --json is taken from there.
const file = resolve(process.env['INIT_CWD'] ?? process.cwd(), plan.json);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nWrote ${file}`);
