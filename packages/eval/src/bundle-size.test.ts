import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// A browser page that shows a verification report: what it costs to bundle. The eval code behind
// verificationReport (input checks, the sort and ROC walk, TAR@FAR, EER, Wilson and Clopper–Pearson
// intervals with their quantiles) is 11 KB minified; 30 KB leaves room to grow, and fails on any
// statistics library (the 137 @stdlib packages the intervals used to pull made this bundle 205 KB).
const BOUND = 30_000;

async function bundle(contents: string) {
  const result = await build({
    stdin: { contents, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@marginkit/source'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => f !== '<stdin>');
  return { bytes: result.outputFiles[0]!.contents.length, inputs };
}

describe('a browser bundle of verificationReport', () => {
  it(`is under ${BOUND / 1000} KB minified and holds only the eval package's own code`, async () => {
    const { bytes, inputs } = await bundle(`import { verificationReport } from '@marginkit/eval';
      const scores = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i));
      document.body.textContent = JSON.stringify(verificationReport(scores, scores.map((s) => (s > 0 ? 1 : 0)), { farTargets: [1e-2] }));`);
    expect(inputs.length).toBeGreaterThan(3);
    expect(inputs.filter((f) => !f.includes('packages/eval/src/'))).toEqual([]);
    expect(bytes).toBeLessThan(BOUND);
  });
  it('measures what it bundles: the whole package, plots and protocols included, is larger', async () => {
    const report = await bundle(`export { verificationReport } from '@marginkit/eval';`);
    const all = await bundle(`export * from '@marginkit/eval';`);
    expect(all.bytes).toBeGreaterThan(report.bytes + 5_000);
  });
});
