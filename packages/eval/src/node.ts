/**
 * `@marginkit/eval/node`: file helpers and the `marginkit-eval` command line, for Node.
 *
 * @example
 * ```ts
 * import { runCli } from '@marginkit/eval/node';
 * const code = await runCli(['--help'], { stdout: () => {}, stderr: () => {} });
 * console.log(code); // 0
 * ```
 *
 * @packageDocumentation
 */
import { basename } from 'node:path';
import { MarginkitEvalError, EvalInputError } from './errors.js';
import { OutputFolder, checkInputFile, fileError, readInputFile, readTextFile } from './files.js';
import { type BinaryLabels, checkRates } from './input.js';
import { identification } from './identification.js';
import { pairScores, poolTemplates } from './ijb.js';
import { type Matrix, flipFusion, matrix } from './matrix.js';
import { cmcPlotSvg, detPlotSvg, linePlotSvg, rocPlotSvg, scoreHistogramSvg } from './plots.js';
import { lfwTenFold } from './protocols.js';
import { type NpyArray, parseIjbFaceTidMid, parseIjbTemplatePairs, parseLfwPairs, readNpy } from './readers.js';
import { retrievalMetrics } from './retrieval.js';
import { type FarPolicy, type RocCurve, verificationReport } from './roc.js';

/**
 * Reads a `.npy` file from disk.
 *
 * @param path - the file.
 * @param argument - the argument or option that named it, for errors (default `'path'`).
 * @returns shape, dtype and data; an `EvalFileError` (exported from `@marginkit/eval`) naming the file if it cannot be read.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeNpy } from '@marginkit/eval';
 * import { readNpyFile } from '@marginkit/eval/node';
 * const path = join(tmpdir(), 'marginkit-example.npy');
 * writeFileSync(path, writeNpy(new Float32Array([1, 2]), [2]));
 * console.log(readNpyFile(path).shape); // [2]
 * ```
 */
export function readNpyFile(path: string, argument = 'path'): NpyArray {
  return readNpy(readInputFile(path, argument), basename(path)); // a Buffer is a Uint8Array: no copy
}

/**
 * Reads a 2-D float `.npy` file as a {@link Matrix}.
 *
 * @param path - the file.
 * @param argument - the argument or option that named it, for errors (default `'path'`).
 * @returns the matrix.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeNpy } from '@marginkit/eval';
 * import { readMatrixFile } from '@marginkit/eval/node';
 * const path = join(tmpdir(), 'marginkit-matrix.npy');
 * writeFileSync(path, writeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]));
 * console.log(readMatrixFile(path).rows); // 2
 * ```
 */
export function readMatrixFile(path: string, argument = 'path'): Matrix {
  const a = readNpyFile(path, argument);
  if (a.shape.length !== 2) throw new EvalInputError(argument, `${path}: expected a 2-D array [N, D], got shape (${a.shape.join(', ')})`);
  if (!(a.data instanceof Float32Array || a.data instanceof Float64Array))
    throw new EvalInputError(argument, `${path}: expected float16, float32 or float64 features, got ${a.dtype}`);
  return matrix(a.data, a.shape[0]!, a.shape[1]!, basename(path));
}

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  /** Prints a line of results. */
  readonly stdout: (line: string) => void;
  /** Prints progress and errors. */
  readonly stderr: (line: string) => void;
  /** Whether stderr is a terminal (progress redraws in place); default false. */
  readonly isTTY?: boolean;
}

const USAGE = `marginkit-eval: face verification, identification and retrieval metrics

Usage: marginkit-eval <command> [options]

Commands
  verify     --scores s.npy --labels l.npy            ROC, AUC, EER, TAR@FAR of pair scores
  lfw        --embeddings e.npy (--issame i.npy | --pairs pairs.txt) [--flipped f.npy] [--folds 10]
             LFW/CFP/AgeDB 10-fold accuracy as insightface (rows 2i and 2i+1 form pair i)
  ijb        --features f.npy --face-tid-mid m.txt --template-pairs p.txt [--flipped f.npy]
             IJB-B/C 1:1: media mean, template sum, normalise, TAR@FAR ('nearest' as insightface)
  identify   --probes p.npy --probe-subjects ps.npy --gallery g.npy --gallery-subjects gs.npy
             [--ranks 1,5,10] [--fpir 0.01,0.1]   open-set 1:N: CMC and TPIR@FPIR
  retrieval  --embeddings e.npy --labels l.npy       precision@1, R-precision, MAP@R

Common options
  --far 1e-6,1e-5,1e-4,1e-3,1e-2,1e-1   FAR targets       --policy strict|nearest|interpolated
  --out DIR (default ./marginkit-eval-out)  results.json (the ROC downsampled to ~2000 points) and SVG plots
  --name NAME   the model's name in plots and JSON        --help
`;

type Options = Map<string, string>;

/** Each command's options: those naming input files, and the others. */
const COMMANDS: Record<string, { readonly files: readonly string[]; readonly values: readonly string[]; readonly outputs: readonly string[] }> = {
  verify: { files: ['scores', 'labels'], values: [], outputs: ['roc.svg', 'det.svg', 'scores.svg', 'results.json'] },
  lfw: { files: ['embeddings', 'issame', 'pairs', 'flipped'], values: ['folds'], outputs: ['roc.svg', 'results.json'] },
  ijb: { files: ['features', 'face-tid-mid', 'template-pairs', 'flipped'], values: [], outputs: ['roc.svg', 'det.svg', 'scores.svg', 'results.json'] },
  identify: { files: ['probes', 'probe-subjects', 'gallery', 'gallery-subjects'], values: ['ranks', 'fpir'], outputs: ['cmc.svg', 'results.json'] },
  retrieval: { files: ['embeddings', 'labels'], values: [], outputs: ['results.json'] },
};
const COMMON = ['far', 'policy', 'out', 'name'];

/** Rejects options the command does not know, listing those it does (as the library rejects unknown keys). */
function checkKnown(command: string, options: Options): void {
  const spec = COMMANDS[command]!;
  const known = [...spec.files, ...spec.values, ...COMMON];
  for (const key of options.keys()) {
    if (key === 'help' || known.includes(key)) continue;
    const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    throw new EvalInputError(`--${shown}`, `unknown option for '${command}'; expected one of: ${known.map((k) => `--${k}`).join(', ')}, --help`);
  }
}

/**
 * At most about `max` points of a ROC for results.json, evenly spread in log FAR and in TAR, the
 * first and last kept; `+∞` thresholds become `null` (JSON has no infinity).
 */
function downsampleRoc(roc: RocCurve, max: number): { fpr: number[]; tpr: number[]; thresholds: (number | null)[]; downsampled: boolean } {
  const keep: number[] = [];
  let lastF = Number.NEGATIVE_INFINITY;
  let lastT = Number.NEGATIVE_INFINITY;
  const n = roc.fpr.length;
  for (let i = 0; i < n; i++) {
    const f = Math.log10(Math.max(roc.fpr[i]!, 1e-9));
    const t = roc.tpr[i]!;
    if (i === 0 || i === n - 1 || n <= max || Math.abs(f - lastF) >= 9 / max || Math.abs(t - lastT) >= 1 / max) {
      keep.push(i);
      lastF = f;
      lastT = t;
    }
  }
  return {
    fpr: keep.map((i) => roc.fpr[i]!),
    tpr: keep.map((i) => roc.tpr[i]!),
    thresholds: keep.map((i) => (Number.isFinite(roc.thresholds[i]!) ? roc.thresholds[i]! : null)),
    downsampled: keep.length < n,
  };
}

function parse(argv: readonly string[]): { command: string | undefined; options: Options } {
  const options: Options = new Map();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') options.set('help', 'true');
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (key === '') throw new EvalInputError('arguments', `unexpected ${JSON.stringify(a)}`);
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new EvalInputError(`--${key}`, 'needs a value');
      options.set(key, value);
    } else if (command === undefined) command = a;
    else throw new EvalInputError('arguments', `unexpected ${JSON.stringify(a)}`);
  }
  return { command, options };
}

const need = (o: Options, key: string): string => {
  const v = o.get(key);
  if (v === undefined) throw new EvalInputError(`--${key}`, 'is required (see --help)');
  return v;
};
const numbers = (o: Options, key: string, fallback: number[]): number[] => {
  const v = o.get(key);
  if (v === undefined) return fallback;
  return v.split(',').map((s) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) throw new EvalInputError(`--${key}`, `${JSON.stringify(s)} is not a number`);
    return n;
  });
};
const vector = (o: Options, key: string): NpyArray['data'] => {
  const path = need(o, key);
  const a = readNpyFile(path, `--${key}`);
  if (a.shape.length !== 1) throw new EvalInputError(`--${key}`, `${path}: expected a 1-D array, got shape (${a.shape.join(', ')})`);
  return a.data;
};
const matrixOf = (o: Options, key: string): Matrix => readMatrixFile(need(o, key), `--${key}`);
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

function progress(io: CliIo, label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const p = Math.floor((100 * done) / total);
    if (io.isTTY ? p !== last : p >= last + 10 || done === total) {
      if (p === last) return;
      last = p;
      io.stderr(`${io.isTTY ? '\r' : ''}${label}: ${p}% (${done}/${total})`);
    }
  };
}

/**
 * Runs the `marginkit-eval` command line: prints a table, writes `results.json` and SVG plots to
 * `--out`, and returns the exit code (0 success, 1 bad input or file, 2 usage).
 *
 * @param argv - the arguments after the program name.
 * @param io - output functions; defaults to the process's stdout/stderr.
 * @returns the exit code.
 *
 * @example
 * ```ts
 * import { runCli } from '@marginkit/eval/node';
 * const lines: string[] = [];
 * await runCli(['verify'], { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l) });
 * console.log(lines[0]); // '--scores: is required (see --help)'
 * ```
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { stdout: (l) => console.log(l), stderr: (l) => console.error(l), isTTY: process.stderr.isTTY === true },
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.stderr((e as Error).message);
    return 2;
  }
  const { command, options } = parsed;
  if (options.has('help') || command === undefined) {
    io.stdout(USAGE);
    return command === undefined && !options.has('help') ? 2 : 0;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    io.stderr(`unknown command ${JSON.stringify(command.slice(0, 40))}\n\n${USAGE}`);
    return 2;
  }
  try {
    checkKnown(command, options);
  } catch (e) {
    io.stderr((e as Error).message);
    return 2;
  }
  let output: OutputFolder | undefined;
  try {
    // Everything that can be checked is checked before the work: options, input files, the output folder.
    const spec = COMMANDS[command]!;
    const name = options.get('name') ?? 'model';
    const far = numbers(options, 'far', [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
    const policy = (options.get('policy') ?? (command === 'ijb' ? 'nearest' : 'strict')) as FarPolicy;
    if (policy !== 'strict' && policy !== 'nearest' && policy !== 'interpolated')
      throw new EvalInputError('--policy', `must be strict, nearest or interpolated, got ${JSON.stringify(String(policy).slice(0, 40))}`);
    checkRates(far, '--far');
    if (options.has('fpir')) checkRates(numbers(options, 'fpir', []), '--fpir');
    for (const [key, min] of [
      ['ranks', 1],
      ['folds', 2],
    ] as const) {
      for (const v of numbers(options, key, [min]))
        if (!Number.isInteger(v) || v < min) throw new EvalInputError(`--${key}`, `${v} is not an integer ≥ ${min}`);
    }
    for (const key of spec.files) {
      const optional = key === 'flipped' || (command === 'lfw' && (key === 'pairs' || (key === 'issame' && options.has('pairs'))));
      if (!optional) need(options, key);
    }
    for (const key of spec.files) if (options.has(key)) checkInputFile(options.get(key)!, `--${key}`);
    const out = new OutputFolder(options.get('out') ?? 'marginkit-eval-out', spec.outputs, '--out');
    output = out;
    const write = (file: string, text: string) => out.add(file, text);
    const verifyTable = (scores: Float32Array | Float64Array, labels: BinaryLabels) => {
      const report = verificationReport(scores, labels, { farTargets: far, policy });
      io.stdout(`${report.positives} genuine and ${report.negatives} impostor pairs`);
      io.stdout(`AUC ${report.auc.toFixed(6)}   EER ${pct(report.eer.eer)} (threshold ${report.eer.threshold.toFixed(4)})`);
      io.stdout(`FAR target   TAR        achieved FAR   threshold   TAR 95% CI (${policy})`);
      for (const r of report.tarAtFar) {
        io.stdout(
          `${r.target.toExponential(0).padEnd(11)} ${pct(r.tar).padEnd(10)} ${r.far.toExponential(2).padEnd(14)} ${r.threshold.toFixed(4).padEnd(11)} [${pct(r.tarInterval.lower)}, ${pct(r.tarInterval.upper)}]${r.warning ? '  !' : ''}`,
        );
      }
      for (const w of report.warnings) io.stderr(`warning: ${w}`);
      write('roc.svg', rocPlotSvg([{ name, roc: report.roc }], { minFar: Math.min(...far, 1e-6) }));
      // The DET curve is the ROC seen as (FAR, 1 − TAR): reuse the report's curve instead of re-sorting.
      write('det.svg', detPlotSvg([{ name, det: { fpr: report.roc.fpr, fnr: report.roc.tpr.map((t) => 1 - t) } }]));
      write('scores.svg', scoreHistogramSvg(scores, labels, { threshold: report.eer.threshold, title: `Score distributions (threshold at EER)` }));
      return { ...report, roc: downsampleRoc(report.roc, 2000) };
    };

    let result: unknown;
    switch (command) {
      case 'verify': {
        const scores = vector(options, 'scores');
        if (!(scores instanceof Float32Array || scores instanceof Float64Array)) throw new EvalInputError('--scores', 'expected float32 or float64 scores');
        const labels = vector(options, 'labels');
        result = verifyTable(scores, labels instanceof Float32Array ? Float64Array.from(labels) : labels);
        break;
      }
      case 'lfw': {
        let e = matrixOf(options, 'embeddings');
        if (options.has('flipped')) e = flipFusion(e, matrixOf(options, 'flipped'));
        if (e.rows % 2 !== 0) throw new EvalInputError('--embeddings', `has ${e.rows} rows; pairs need an even number (rows 2i, 2i+1)`);
        const issame = options.has('pairs')
          ? parseLfwPairs(readTextFile(options.get('pairs')!, '--pairs'), basename(options.get('pairs')!)).pairs.map((p) => (p.same ? 1 : 0))
          : Array.from(vector(options, 'issame'));
        const half = (k: 0 | 1) => {
          const d = new Float64Array((e.rows / 2) * e.cols);
          for (let i = 0; i < e.rows / 2; i++) for (let c = 0; c < e.cols; c++) d[i * e.cols + c] = e.data[(2 * i + k) * e.cols + c]!;
          return matrix(d, e.rows / 2, e.cols);
        };
        const folds = numbers(options, 'folds', [10])[0]!;
        const r = lfwTenFold(half(0), half(1), issame, { folds });
        io.stdout(`${issame.length} pairs, ${folds} folds`);
        io.stdout(`accuracy ${pct(r.accuracy)} ± ${pct(r.accuracyStd)}   VAL@FAR=1e-3 ${pct(r.val)} ± ${pct(r.valStd)} (FAR ${r.far.toExponential(2)})`);
        write(
          'roc.svg',
          linePlotSvg([{ name, x: r.fpr, y: r.tpr }], {
            title: 'Mean ROC over folds',
            xLabel: 'false accept rate',
            yLabel: 'true accept rate',
            xRange: [0, 1],
            yRange: [0, 1],
          }),
        );
        result = { ...r, thresholds: undefined, tpr: Array.from(r.tpr), fpr: Array.from(r.fpr) };
        break;
      }
      case 'ijb': {
        let f = matrixOf(options, 'features');
        if (options.has('flipped')) f = flipFusion(f, matrixOf(options, 'flipped'));
        const metaPath = need(options, 'face-tid-mid');
        const meta = parseIjbFaceTidMid(readTextFile(metaPath, '--face-tid-mid'), basename(metaPath));
        if (meta.templates.length !== f.rows)
          throw new EvalInputError('--features', `has ${f.rows} rows but ${basename(metaPath)} lists ${meta.templates.length} images`);
        const pairsPath = need(options, 'template-pairs');
        const pairs = parseIjbTemplatePairs(readTextFile(pairsPath, '--template-pairs'), basename(pairsPath));
        const pooled = poolTemplates(f, meta.templates, meta.medias);
        io.stderr(`${f.rows} images pooled into ${pooled.templateIds.length} templates`);
        const scores = pairScores(pooled, pairs.templates1, pairs.templates2, { onProgress: progress(io, 'scoring template pairs') });
        if (io.isTTY) io.stderr('');
        result = verifyTable(scores, pairs.labels);
        break;
      }
      case 'identify': {
        const r = identification(
          matrixOf(options, 'probes'),
          vector(options, 'probe-subjects'),
          matrixOf(options, 'gallery'),
          vector(options, 'gallery-subjects'),
          { ranks: numbers(options, 'ranks', [1, 5, 10]), fpirs: numbers(options, 'fpir', [0.01, 0.1]), onProgress: progress(io, 'scoring probes') },
        );
        io.stdout(`${r.matedProbes} mated and ${r.nonMatedProbes} non-mated probes`);
        for (const c of r.cmc) io.stdout(`rank-${c.rank} identification rate ${pct(c.rate)}`);
        for (const t of r.tpirAtFpir) io.stdout(`TPIR@FPIR=${t.fpir} ${pct(t.tpir)} (threshold ${t.threshold.toFixed(4)})`);
        write('cmc.svg', cmcPlotSvg([{ name, cmc: r.cmcCurve }]));
        result = { ...r, cmcCurve: Array.from(r.cmcCurve), mateRanks: undefined };
        break;
      }
      case 'retrieval': {
        const r = retrievalMetrics(matrixOf(options, 'embeddings'), vector(options, 'labels'), {
          onProgress: progress(io, 'ranking queries'),
        });
        io.stdout(`${r.queries} queries`);
        io.stdout(`precision@1 ${pct(r.precisionAt1)}   R-precision ${pct(r.rPrecision)}   MAP@R ${pct(r.mapAtR)}`);
        result = r;
        break;
      }
      default:
        throw new EvalInputError('command', `unknown command ${JSON.stringify(command)}`);
    }
    write('results.json', `${JSON.stringify({ command, name, result }, null, 2)}\n`);
    const written = out.commit();
    output = undefined;
    io.stdout(`wrote ${written.join(', ')}`);
    return 0;
  } catch (e) {
    output?.abandon();
    if (MarginkitEvalError.isInstance(e)) {
      io.stderr(e.message);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && typeof err.path === 'string') {
      io.stderr(fileError('file', err.path, err).message);
      return 1;
    }
    throw e;
  }
}
