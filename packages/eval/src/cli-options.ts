/**
 * The `marginkit-eval` command line's arguments: the commands and their options, parsing, and
 * typed reads of option values (numbers, `.npy` vectors and matrices). @internal
 *
 * @packageDocumentation
 */
import { EvalInputError } from './errors.js';
import type { Matrix } from './matrix.js';
import { readMatrixFile, readNpyFile } from './node-files.js';
import type { NpyArray } from './readers.js';

/** Option values by name (without the leading `--`). @internal */
export type Options = ReadonlyMap<string, string>;

/** The command names. @internal */
export type CommandName = 'verify' | 'lfw' | 'ijb' | 'identify' | 'retrieval';

/** Each command's options: those naming input files, the others, and the files it writes. @internal */
export const COMMANDS: Readonly<
  Record<CommandName, { readonly files: readonly string[]; readonly values: readonly string[]; readonly outputs: readonly string[] }>
> = {
  verify: { files: ['scores', 'labels'], values: [], outputs: ['roc.svg', 'det.svg', 'scores.svg', 'results.json'] },
  lfw: { files: ['embeddings', 'issame', 'pairs', 'flipped'], values: ['folds'], outputs: ['roc.svg', 'results.json'] },
  ijb: { files: ['features', 'face-tid-mid', 'template-pairs', 'flipped'], values: [], outputs: ['roc.svg', 'det.svg', 'scores.svg', 'results.json'] },
  identify: { files: ['probes', 'probe-subjects', 'gallery', 'gallery-subjects'], values: ['ranks', 'fpir'], outputs: ['cmc.svg', 'results.json'] },
  retrieval: { files: ['embeddings', 'labels'], values: [], outputs: ['results.json'] },
};

/** Options every command takes. @internal */
const COMMON_OPTIONS = ['far', 'policy', 'out', 'name'];

/** Whether `name` is a command (own keys only: `__proto__` is not one). @internal */
export const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

/** Splits the arguments into the command and its `--key value` / `--key=value` options. @internal */
export function parseArguments(argv: readonly string[]): { command: string | undefined; options: Options } {
  const options = new Map<string, string>();
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

/** Rejects options the command does not know, listing those it does (as the library rejects unknown keys). @internal */
export function checkKnownOptions(command: CommandName, options: Options): void {
  const spec = COMMANDS[command];
  const known = [...spec.files, ...spec.values, ...COMMON_OPTIONS];
  for (const key of options.keys()) {
    if (key === 'help' || known.includes(key)) continue;
    const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    throw new EvalInputError(`--${shown}`, `unknown option for '${command}'; expected one of: ${known.map((k) => `--${k}`).join(', ')}, --help`);
  }
}

/** The value of a required option. @internal */
export const need = (o: Options, key: string): string => {
  const v = o.get(key);
  if (v === undefined) throw new EvalInputError(`--${key}`, 'is required (see --help)');
  return v;
};

/** A comma-separated list of numbers, or `fallback` when the option is absent. @internal */
export const numbers = (o: Options, key: string, fallback: number[]): number[] => {
  const v = o.get(key);
  if (v === undefined) return fallback;
  return v.split(',').map((s) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) throw new EvalInputError(`--${key}`, `${JSON.stringify(s)} is not a number`);
    return n;
  });
};

/** The 1-D `.npy` file an option names. @internal */
export const vector = (o: Options, key: string): NpyArray['data'] => {
  const path = need(o, key);
  const a = readNpyFile(path, `--${key}`);
  if (a.shape.length !== 1) throw new EvalInputError(`--${key}`, `${path}: expected a 1-D array, got shape (${a.shape.join(', ')})`);
  return a.data;
};

/** The 2-D float `.npy` file an option names. @internal */
export const matrixOf = (o: Options, key: string): Matrix => readMatrixFile(need(o, key), `--${key}`);
