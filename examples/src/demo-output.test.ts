import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The main job end to end: `npm run demo -- --quick` writes the report, results.json and the
// embeddings and pair scores, every number is finite, and the eval CLI re-computes a row from the
// saved files. CI runs the quick demo once before the tests and points MARGINKIT_DEMO_OUT at it
// (the browser suite opens the same report); elsewhere this test runs it itself.
const root = resolve(import.meta.dirname, '..', '..');
const out =
  process.env['MARGINKIT_DEMO_OUT'] ??
  (() => {
    const dir = mkdtempSync(join(tmpdir(), 'marginkit-demo-'));
    execFileSync(process.execPath, ['--conditions=@marginkit/source', '--import', 'tsx', 'src/train-demo.ts', '--quick', '--out', dir], {
      cwd: resolve(root, 'examples'),
      stdio: 'ignore',
      timeout: 180_000,
    });
    return dir;
  })();

function numbers(value: unknown, path: string, found: [string, number][] = []): [string, number][] {
  if (typeof value === 'number') found.push([path, value]);
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) numbers(v, `${path}[${i}]`, found);
  } else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) numbers(v, `${path}.${k}`, found);
  return found;
}

describe('the demo (--quick)', { timeout: 180_000 }, () => {
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));

  it('writes results.json for the paper’s six losses, every number finite and every rate in [0, 1]', () => {
    expect(results.runs.map((r: { key: string }) => r.key)).toEqual(['softmax', 'normface', 'sphereface', 'cosface', 'arcface', 'combined']);
    const all = numbers(results.runs, 'runs');
    expect(all.length).toBeGreaterThan(100);
    for (const [path, v] of all) expect(Number.isFinite(v), path).toBe(true);
    for (const r of results.runs) {
      for (const v of [r.accuracy2d, r.accuracy, r.auc, r.eer, r.tenFold.mean, ...r.tarAtFar.map((t: { tar: number }) => t.tar)]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(r.pairs).toEqual({ genuine: 199_000, impostor: 1_800_000 }); // all pairs of 2,000 held-out images, 10 classes
    }
  });

  it('writes one self-contained HTML report with every figure', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of ['fig-picture', 'fig-target-logit', 'fig-theta', 'fig-roc', 'fig-results', 'fig-loss']) expect(html).toContain(`id="${id}"`);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).not.toMatch(/NaN|undefined/);
  });

  it('the eval CLI re-computes AUC and TAR@FAR of a row from the saved pair scores', () => {
    const cliOut = mkdtempSync(join(tmpdir(), 'marginkit-demo-eval-'));
    const row = results.runs.find((r: { key: string }) => r.key === 'arcface');
    expect(existsSync(join(out, 'arcface-embeddings.npy'))).toBe(true);
    execFileSync(
      process.execPath,
      [
        '--conditions=@marginkit/source',
        '--import',
        'tsx',
        'packages/eval/src/bin.ts',
        'verify',
        '--scores',
        join(out, 'arcface-scores.npy'),
        '--labels',
        join(out, 'pair-labels.npy'),
        '--far',
        '1e-3,1e-2',
        '--out',
        cliOut,
      ],
      { cwd: root, stdio: 'ignore' },
    );
    const cli = JSON.parse(readFileSync(join(cliOut, 'results.json'), 'utf8')).result;
    expect(cli.auc).toBeCloseTo(row.auc, 12);
    expect(cli.tarAtFar.map((t: { target: number; tar: number }) => [t.target, t.tar])).toEqual(
      row.tarAtFar.map((t: { far: number; tar: number }) => [t.far, t.tar]),
    );
  });
});
