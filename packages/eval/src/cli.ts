/**
 * The `marginkit-eval` command line: usage, the checks made before any work, and the exit codes.
 * Run by `bin.ts`; exported from `@marginkit/eval/node`.
 *
 * @packageDocumentation
 */
import { type CliIo, type CommandContext, RUN_COMMAND } from './cli-commands.js';
import { COMMANDS, type CommandName, type Options, checkKnownOptions, isCommand, need, numbers, parseArguments } from './cli-options.js';
import { EvalInputError, MarginkitEvalError } from './errors.js';
import { OutputFolder, checkInputFile, fileError } from './files.js';
import { checkRates } from './input.js';
import type { FarPolicy } from './tar-at-far.js';

export type { CliIo } from './cli-commands.js';

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

/**
 * Everything that can be checked before the work: option values, required and readable input
 * files, the output folder.
 */
function checkBeforeWork(command: CommandName, options: Options): { far: number[]; policy: FarPolicy; out: OutputFolder } {
  const spec = COMMANDS[command];
  const far = numbers(options, 'far', [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
  const policy = options.get('policy') ?? (command === 'ijb' ? 'nearest' : 'strict');
  if (policy !== 'strict' && policy !== 'nearest' && policy !== 'interpolated')
    throw new EvalInputError('--policy', `must be strict, nearest or interpolated, got ${JSON.stringify(policy.slice(0, 40))}`);
  checkRates(far, '--far');
  if (options.has('fpir')) checkRates(numbers(options, 'fpir', []), '--fpir');
  for (const [key, min] of [
    ['ranks', 1],
    ['folds', 2],
  ] as const) {
    for (const v of numbers(options, key, [min])) if (!Number.isInteger(v) || v < min) throw new EvalInputError(`--${key}`, `${v} is not an integer ≥ ${min}`);
  }
  for (const key of spec.files) {
    const optional = key === 'flipped' || (command === 'lfw' && (key === 'pairs' || (key === 'issame' && options.has('pairs'))));
    if (!optional) need(options, key);
  }
  for (const key of spec.files) if (options.has(key)) checkInputFile(options.get(key)!, `--${key}`);
  return { far, policy, out: new OutputFolder(options.get('out') ?? 'marginkit-eval-out', spec.outputs, '--out') };
}

/** Runs a checked command and writes its outputs; the exit code, or a thrown error for the caller to report. */
function runCommand(command: CommandName, options: Options, io: CliIo): number {
  let output: OutputFolder | undefined;
  try {
    const { far, policy, out } = checkBeforeWork(command, options);
    output = out;
    const name = options.get('name') ?? 'model';
    const ctx: CommandContext = { options, io, name, far, policy, write: (file, text) => out.add(file, text) };
    const result = RUN_COMMAND[command](ctx);
    out.add('results.json', `${JSON.stringify({ command, name, result }, null, 2)}\n`);
    const written = out.commit();
    output = undefined;
    io.stdout(`wrote ${written.join(', ')}`);
    return 0;
  } finally {
    output?.abandon();
  }
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
  let command: CommandName;
  let options: Options;
  try {
    const parsed = parseArguments(argv);
    options = parsed.options;
    if (options.has('help') || parsed.command === undefined) {
      io.stdout(USAGE);
      return parsed.command === undefined && !options.has('help') ? 2 : 0;
    }
    if (!isCommand(parsed.command)) {
      io.stderr(`unknown command ${JSON.stringify(parsed.command.slice(0, 40))}\n\n${USAGE}`);
      return 2;
    }
    command = parsed.command;
    checkKnownOptions(command, options);
  } catch (e) {
    io.stderr((e as Error).message);
    return 2;
  }
  try {
    return runCommand(command, options, io);
  } catch (e) {
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
