/**
 * Child process: load scores and labels from .npy, time verificationReport, report the time and
 * the peak RSS of this process (VmHWM), as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { verificationReport } from '@marginkit/eval';
import { readNpyFile } from '@marginkit/eval/node';

const [scoresPath, labelsPath] = process.argv.slice(2) as [string, string];
const scores = readNpyFile(scoresPath).data as Float64Array;
const labels = readNpyFile(labelsPath).data as Uint8Array;
const started = performance.now();
const report = verificationReport(scores, labels, { farTargets: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1] });
const seconds = (performance.now() - started) / 1000;
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
console.log(
  JSON.stringify({
    seconds,
    peakRssMB: hwm ? Number(hwm) / 1024 : null,
    auc: report.auc,
    tar: report.tarAtFar.map((t) => t.tar),
    rocPoints: report.roc.fpr.length,
  }),
);
