/**
 * The eval benchmarks, against references in the same run (scikit-learn / numpy through Debian's
 * /usr/bin/python3, when it has them):
 *
 * 1. IJB-C-sized verification: 15,658,489 pair scores with 19,557 genuine; marginkit's
 *    verificationReport (ROC + AUC + EER + TAR at FAR 1e-6..1e-1) against scikit-learn's
 *    roc_curve + auc (+ the TAR lookups); peak RSS of a fresh process.
 * 2. LFW 10-fold on 6,000 pairs of 512-d embeddings, against insightface's loops and a
 *    vectorised numpy version.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@marginkit/core/testing';
import { lfwTenFold, matrix, writeNpy } from '@marginkit/eval';
import { PYTHON } from './child-runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const python = PYTHON;

/** Runs both eval benchmarks, printing as it goes; returns their results by name. */
export function evalBench(): Record<string, unknown> {
  const hasPython = existsSync(python) && spawnSync(python, ['-c', 'import sklearn, numpy'], { stdio: 'ignore' }).status === 0;
  const work = mkdtempSync(join(tmpdir(), 'marginkit-bench-'));
  const results: Record<string, unknown> = { referenceAvailable: hasPython };
  // ---- 1. IJB-C-sized verification ----
  {
    const n = 15_658_489;
    const genuine = 19_557;
    const r = seededRandom(1);
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    const step = n / genuine;
    for (let i = 0; i < genuine; i++) labels[Math.floor(i * step)] = 1;
    // Cosine-like scores: impostors around 0.05, genuine around 0.6, rounded to float32 as real
    // embeddings give (so ties occur as in practice).
    for (let i = 0; i < n; i++) scores[i] = Math.fround(labels[i] ? 0.6 + 0.15 * r.normal() : 0.05 + 0.1 * r.normal());
    const sPath = join(work, 'scores.npy');
    const lPath = join(work, 'labels.npy');
    writeFileSync(sPath, writeNpy(scores, [n]));
    writeFileSync(lPath, writeNpy(labels, [n]));
    const runNode = () =>
      JSON.parse(
        execFileSync(process.execPath, ['--conditions=@marginkit/source', '--import', 'tsx', join(here, 'verification-worker.ts'), sPath, lPath], {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        }),
      );
    const node = [runNode(), runNode(), runNode()].sort((a, b) => a.seconds - b.seconds)[1];
    const out: Record<string, unknown> = { scores: n, genuine, marginkit: node };
    console.log(`IJB-C-sized verification (${n.toLocaleString('en')} scores, ${genuine.toLocaleString('en')} genuine)`);
    console.log(
      `  marginkit verificationReport: ${node.seconds.toFixed(3)} s (median of 3), peak RSS ${node.peakRssMB?.toFixed(0)} MB (whole process, incl. the 141 MB of inputs)`,
    );
    if (hasPython) {
      const ref = JSON.parse(execFileSync(python, [join(here, 'reference.py'), 'verification', sPath, lPath], { encoding: 'utf8' }));
      out['scikitLearn'] = ref;
      out['ratio'] = node.seconds / ref.seconds;
      out['aucDifference'] = Math.abs(node.auc - ref.auc);
      console.log(`  scikit-learn roc_curve + auc: ${ref.seconds.toFixed(3)} s`);
      console.log(
        `  ratio marginkit / scikit-learn: ${(node.seconds / ref.seconds).toFixed(3)} (target ≤ 0.5); |ΔAUC| = ${Math.abs(node.auc - ref.auc).toExponential(1)}`,
      );
    }
    results['verification'] = out;
  }

  // ---- 2. LFW 10-fold, 6,000 pairs ----
  {
    const n = 6000;
    const d = 512;
    const r = seededRandom(2);
    const e1 = new Float32Array(n * d);
    const e2 = new Float32Array(n * d);
    const issame = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      issame[i] = Math.floor(i / 300) % 2 === 0 ? 1 : 0;
      for (let c = 0; c < d; c++) {
        const base = r.normal();
        e1[i * d + c] = base + 0.8 * r.normal();
        e2[i * d + c] = (issame[i] ? base : r.normal()) + 0.8 * r.normal();
      }
    }
    const a = matrix(e1, n, d);
    const b = matrix(e2, n, d);
    lfwTenFold(a, b, issame); // warm up
    const runs: number[] = [];
    let accuracy = 0;
    for (let k = 0; k < 7; k++) {
      const t = performance.now();
      accuracy = lfwTenFold(a, b, issame).accuracy;
      runs.push(performance.now() - t);
    }
    const ms = runs.sort((x, y) => x - y)[3]!;
    const out: Record<string, unknown> = { pairs: n, dim: d, marginkitMs: ms, accuracy };
    console.log(`\nLFW 10-fold (${n} pairs, ${d}-d): marginkit lfwTenFold ${ms.toFixed(1)} ms (median of 7; target < 50 ms; includes VAL@FAR)`);
    if (hasPython) {
      const norm = (m: Float32Array) => {
        const o = new Float64Array(m.length);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += m[i * d + c]! ** 2;
          for (let c = 0; c < d; c++) o[i * d + c] = m[i * d + c]! / Math.sqrt(s);
        }
        return o;
      };
      writeFileSync(join(work, 'e1.npy'), writeNpy(norm(e1), [n, d]));
      writeFileSync(join(work, 'e2.npy'), writeNpy(norm(e2), [n, d]));
      writeFileSync(join(work, 'issame.npy'), writeNpy(issame, [n]));
      const ref = JSON.parse(
        execFileSync(python, [join(here, 'reference.py'), 'lfw', join(work, 'e1.npy'), join(work, 'e2.npy'), join(work, 'issame.npy')], { encoding: 'utf8' }),
      );
      out['numpy'] = ref;
      console.log(
        `  insightface's loops (numpy): ${(1000 * ref.insightface.seconds).toFixed(1)} ms → ratio ${(ms / (1000 * ref.insightface.seconds)).toFixed(3)}`,
      );
      console.log(
        `  vectorised numpy (accuracy only): ${(1000 * ref.vectorised.seconds).toFixed(1)} ms → ratio ${(ms / (1000 * ref.vectorised.seconds)).toFixed(3)}`,
      );
      console.log(`  same accuracy: ${Math.abs(ref.insightface.accuracy - accuracy) < 1e-12}`);
    }
    results['lfw'] = out;
  }
  return results;
}
