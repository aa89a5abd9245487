import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtures, npyPath } from '../test/fixtures.js';
import { EvalFileError } from './errors.js';
import { readMatrixFile, readNpyFile, runCli } from './node.js';
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
      [
        '--conditions=@marginkit/source',
        '--import',
        'tsx',
        bin,
        'verify',
        '--scores',
        npyPath('cli-scores.npy'),
        '--labels',
        npyPath('cli-labels.npy'),
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/genuine and \d+ impostor pairs/);
  });

  describe('checks options, inputs and the output folder before the work; a failed run writes nothing', () => {
    const scores = npyPath('cli-scores.npy');
    const labels = npyPath('cli-labels.npy');
    const verify = (...extra: string[]) => run(['verify', '--scores', scores, '--labels', labels, ...extra]);

    it('--out naming an existing file: exit 1 before any work, the path named, the file untouched', async () => {
      const file = join(tmp(), 'taken.txt');
      writeFileSync(file, 'keep me');
      const r = await verify('--out', file);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--out: ${file}: exists and is not a folder`);
      expect(r.stdout).toBe(''); // no table: the work did not run
      expect(readFileSync(file, 'utf8')).toBe('keep me');
    });
    it('--out under a file: exit 1 before any work, naming the path', async () => {
      const file = join(tmp(), 'taken.txt');
      writeFileSync(file, 'keep me');
      const r = await verify('--out', join(file, 'sub', 'dir'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(join(file, 'sub', 'dir'));
      expect(r.stderr).toMatch(/is a file, not a folder/);
      expect(r.stdout).toBe('');
      expect(readFileSync(file, 'utf8')).toBe('keep me');
    });
    it('an output file that is a directory is refused before the work', async () => {
      const out = tmp();
      mkdirSync(join(out, 'results.json'));
      const r = await verify('--out', out);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toContain(`${join(out, 'results.json')}: exists and is not a regular file`);
      expect(readdirSync(out)).toEqual(['results.json']);
    });
    it('--out under /proc fails fast instead of hanging (Node’s recursive mkdir spins there)', () => {
      const bin = new URL('./bin.ts', import.meta.url).pathname;
      for (const out of ['/proc/marginkit-eval/out', '/proc/self/marginkit-eval']) {
        const p = spawnSync(
          process.execPath,
          ['--conditions=@marginkit/source', '--import', 'tsx', bin, 'verify', '--scores', scores, '--labels', labels, '--out', out],
          {
            encoding: 'utf8',
            timeout: 20_000,
          },
        );
        expect(p.error).toBeUndefined(); // not killed by the timeout
        expect(p.status).toBe(1);
        expect(p.stderr).toContain(`--out: ${out}: `);
        expect(p.stdout).toBe('');
      }
    }, 60_000);
    it('a directory given as an input file: "is a directory", naming the option and the file', async () => {
      const dir = tmp();
      for (const args of [
        ['verify', '--scores', dir, '--labels', labels],
        ['verify', '--scores', scores, '--labels', dir],
        ['lfw', '--embeddings', scores, '--pairs', dir],
        ['ijb', '--features', scores, '--face-tid-mid', dir, '--template-pairs', dir],
      ]) {
        const r = await run([...args, '--out', tmp()]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^--[a-z-]+: ${dir}: is a directory`));
      }
      expect(() => readNpyFile(dir)).toThrowError(EvalFileError);
      expect(() => readMatrixFile(dir, 'features')).toThrowError(`features: ${dir}: is a directory, expected a file`);
    });
    it('every I/O error is an EvalFileError naming the file', () => {
      const missing = join(tmp(), 'missing.npy');
      let thrown: unknown;
      try {
        readNpyFile(missing, 'scores');
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(EvalFileError);
      expect(thrown).toMatchObject({ argument: 'scores', file: missing, code: 'FILE' });
      expect((thrown as Error).message).toBe(`scores: ${missing}: no such file (ENOENT)`);
      const under = join(npyPath('cli-scores.npy'), 'x.npy');
      expect(() => readNpyFile(under)).toThrowError(`path: ${under}: a part of the path is a file, not a folder (ENOTDIR)`);
    });
    it('a missing input file is reported before the output folder is created', async () => {
      const out = join(tmp(), 'new');
      const r = await run(['verify', '--scores', scores, '--labels', '/nonexistent-labels.npy', '--out', out]);
      expect([r.code, r.stderr]).toEqual([1, '--labels: /nonexistent-labels.npy: no such file (ENOENT)']);
      expect(existsSync(out)).toBe(false);
    });
    it.each([
      ['--fra', '1e-3'],
      ['--out-dir', 'x'],
      ['--scores', scores, '--labels', labels, '--ranks', '1'],
    ])('unknown option %s: exit 2, listing the known ones', async (...args) => {
      const r = await run(['verify', ...args]);
      expect(r.code).toBe(2);
      const bad = args.find((a) => a !== '--scores' && a !== '--labels' && a.startsWith('--'))!;
      expect(r.stderr).toContain(`${bad}: unknown option for 'verify'; expected one of: --scores, --labels, --far, --policy, --out, --name, --help`);
    });
    it('--fra=1e-3 (inline form) is rejected too, and a bad --policy before the work', async () => {
      expect((await verify('--fra=1e-3', '--out', tmp())).stderr).toMatch(/^--fra: unknown option/);
      const p = await verify('--policy', 'closest', '--out', tmp());
      expect([p.code, p.stdout]).toEqual([1, '']);
      expect(p.stderr).toMatch(/^--policy: must be strict, nearest or interpolated/);
    });
    it.each([
      ['verify', '--far', '0,1e-3', '--far'],
      ['verify', '--far', '1e-3,abc', '--far'],
      ['identify', '--fpir', '2', '--fpir'],
      ['identify', '--ranks', '0', '--ranks'],
      ['lfw', '--folds', '1.5', '--folds'],
    ])('%s %s %s: rejected before the work, naming the option', async (command, option, value, argument) => {
      const out = join(tmp(), 'never');
      const r = await run([command, option, value, '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${argument}: `));
      expect(existsSync(out)).toBe(false);
    });
    it('a run that fails during the work leaves existing files as they were and creates nothing', async () => {
      const dir = tmp();
      writeFileSync(join(dir, 'one-class.npy'), writeNpy(new Uint8Array(2000).fill(1), [2000]));
      const out = join(dir, 'out');
      mkdirSync(out);
      writeFileSync(join(out, 'results.json'), 'old results');
      const r = await run(['verify', '--scores', scores, '--labels', join(dir, 'one-class.npy'), '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--labels|labels/);
      expect(readdirSync(out)).toEqual(['results.json']);
      expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('old results');
      const fresh = join(dir, 'fresh', 'out');
      expect((await run(['verify', '--scores', scores, '--labels', join(dir, 'one-class.npy'), '--out', fresh])).code).toBe(1);
      expect(existsSync(join(dir, 'fresh'))).toBe(false);
    });
    it('a successful run replaces the old files and leaves no temporary files', async () => {
      const out = tmp();
      writeFileSync(join(out, 'results.json'), 'old results');
      expect((await verify('--out', out)).code).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['det.svg', 'results.json', 'roc.svg', 'scores.svg']);
      expect(results(out).command).toBe('verify');
    });
  });
});
