import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtures, npyPath } from './fixtures.js';
import { runCli } from './node.js';
import { writeNpy } from './readers.js';

async function run(args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}
const tmp = () => mkdtempSync(join(tmpdir(), 'marginkit-eval-'));
const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));

describe('marginkit-eval', () => {
  it('verify: on .npy files written by numpy, AUC and TAR@FAR equal scikit-learn; writes JSON and SVGs', async () => {
    const out = tmp();
    const r = await run(['verify', '--scores', npyPath('cli-scores.npy'), '--labels', npyPath('cli-labels.npy'), '--far', '1e-2,1e-1', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/AUC 0\.\d{6}/);
    const json = results(out);
    expect(Math.abs(json.result.auc - fixtures.cli.cliAuc)).toBeLessThan(1e-9);
    expect(json.result.tarAtFar.map((t: { tar: number }) => t.tar)).toEqual(fixtures.cli.cliTarStrict);
    for (const svg of ['roc.svg', 'det.svg', 'scores.svg']) expect(readFileSync(join(out, svg), 'utf8')).toMatch(/^<svg /);
  });

  it('lfw: pair-ordered embeddings and issame give insightface’s accuracy', async () => {
    const f = fixtures.lfw[0];
    const n = f.issame.length;
    const rows = new Float32Array(2 * n * f.dim);
    for (let i = 0; i < n; i++) {
      rows.set(f.embeddings1.slice(i * f.dim, (i + 1) * f.dim), 2 * i * f.dim);
      rows.set(f.embeddings2.slice(i * f.dim, (i + 1) * f.dim), (2 * i + 1) * f.dim);
    }
    const dir = tmp();
    writeFileSync(join(dir, 'emb.npy'), writeNpy(rows, [2 * n, f.dim]));
    writeFileSync(join(dir, 'issame.npy'), writeNpy(Uint8Array.from(f.issame), [n]));
    const r = await run(['lfw', '--embeddings', join(dir, 'emb.npy'), '--issame', join(dir, 'issame.npy'), '--out', dir]);
    expect(r.code).toBe(0);
    expect(results(dir).result.accuracy).toBeCloseTo(f.accuracy, 12);
  });

  it('ijb: features plus the two meta files give the IJB script’s TAR, with progress', async () => {
    const f = fixtures.ijb;
    const dir = tmp();
    writeFileSync(join(dir, 'feats.npy'), writeNpy(Float32Array.from(f.features), [f.templates.length, f.dim]));
    writeFileSync(join(dir, 'meta.txt'), f.templates.map((t: number, i: number) => `${i}.jpg ${t} ${f.medias[i]}`).join('\n'));
    writeFileSync(join(dir, 'pairs.txt'), f.p1.map((a: number, i: number) => `${a} ${f.p2[i]} ${f.labels[i]}`).join('\n'));
    const r = await run([
      'ijb',
      '--features',
      join(dir, 'feats.npy'),
      '--face-tid-mid',
      join(dir, 'meta.txt'),
      '--template-pairs',
      join(dir, 'pairs.txt'),
      '--far',
      '1e-3,1e-2,1e-1',
      '--out',
      dir,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/scoring template pairs: 100%/);
    const tar = results(dir).result.tarAtFar.map((t: { tar: number }) => t.tar);
    tar.forEach((v: number, i: number) => {
      expect(v).toBeCloseTo(f.tarNearest[i], 12);
    });
  });

  it('identify and retrieval', async () => {
    const f = fixtures.identification;
    const dir = tmp();
    writeFileSync(join(dir, 'p.npy'), writeNpy(Float64Array.from(f.probes), [f.probeSubjects.length, f.dim]));
    writeFileSync(join(dir, 'g.npy'), writeNpy(Float64Array.from(f.gallery), [f.gallerySubjects.length, f.dim]));
    writeFileSync(join(dir, 'ps.npy'), writeNpy(Int32Array.from(f.probeSubjects), [f.probeSubjects.length]));
    writeFileSync(join(dir, 'gs.npy'), writeNpy(Int32Array.from(f.gallerySubjects), [f.gallerySubjects.length]));
    const r = await run([
      'identify',
      '--probes',
      join(dir, 'p.npy'),
      '--probe-subjects',
      join(dir, 'ps.npy'),
      '--gallery',
      join(dir, 'g.npy'),
      '--gallery-subjects',
      join(dir, 'gs.npy'),
      '--out',
      dir,
    ]);
    expect(r.code).toBe(0);
    expect(results(dir).result.cmc[0].rate).toBeCloseTo(f.cmc['1'], 12);
    const g = fixtures.retrieval;
    writeFileSync(join(dir, 'e.npy'), writeNpy(Float64Array.from(g.embeddings), [g.labels.length, g.dim]));
    writeFileSync(join(dir, 'l.npy'), writeNpy(Int32Array.from(g.labels), [g.labels.length]));
    const q = await run(['retrieval', '--embeddings', join(dir, 'e.npy'), '--labels', join(dir, 'l.npy'), '--out', dir]);
    expect(q.code).toBe(0);
    expect(results(dir).result.mapAtR).toBeCloseTo(g.mapAtR, 12);
  });

  it('says what is wrong, with exit codes: 1 for bad input or files, 2 for usage', async () => {
    expect((await run(['verify', '--scores', '/nonexistent.npy', '--labels', 'x'])).stderr).toMatch(/nonexistent.npy: no such file/);
    expect((await run(['verify', '--labels', 'x'])).code).toBe(1);
    const truncated = join(tmp(), 'bad.npy');
    writeFileSync(truncated, readFileSync(npyPath('cli-scores.npy')).subarray(0, 200));
    const bad = await run(['verify', '--scores', truncated, '--labels', npyPath('cli-labels.npy')]);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringMatching(/bad.npy: truncated data/)]);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['verify', '--scores'])).code).toBe(2);
  });

  it('runs as a program (the bin entry)', () => {
    const bin = new URL('./bin.ts', import.meta.url).pathname;
    const out = tmp();
    const p = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', bin, 'verify', '--scores', npyPath('cli-scores.npy'), '--labels', npyPath('cli-labels.npy'), '--out', out],
      { encoding: 'utf8' },
    );
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/genuine and \d+ impostor pairs/);
  });
});
