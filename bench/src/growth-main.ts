/** `npm run bench -- growth`: parses the options, runs the growth bench, prints the table, writes JSON and SVG. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type GrowthPlan, growthBench, parseGrowth } from './growth.js';
import { growthTable } from './growth-report.js';

/** Runs it; returns the exit code. */
export function growthMain(argv: readonly string[], reports: string): number {
  let plan: GrowthPlan;
  try {
    plan = parseGrowth(argv, reports);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const started = performance.now();
  console.log(
    `\nChunked ArcFace training step (m = 0.5, s = 64, SGD-momentum) on onnxruntime-node, ${plan.threads} threads, B = ${plan.batch}, D = ${plan.dim}, chunks of ${plan.classChunk} classes, keepLogits ${String(plan.keepLogits)}`,
  );
  console.log(`${growthTable([]).split('\n').slice(0, 2).join('\n')}`);
  const { rows, svg } = growthBench(plan);
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${growthTable(rows)}\n\n${seconds.toFixed(0)} s in all`);
  // npm sets INIT_CWD to where it was run: relative paths are taken from there.
  const at = (p: string) => resolve(process.env['INIT_CWD'] ?? process.cwd(), p);
  const results = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, plan, seconds, rows };
  for (const [path, text] of [
    [at(plan.json), `${JSON.stringify(results, null, 2)}\n`],
    [at(plan.svg), svg],
  ] as const) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`Wrote ${path}`);
  }
  return 0;
}
