/**
 * The values an example prints, checked against what its comments say it prints.
 *
 * In an example, `console.log(x); // ['0.877', '0.000']` promises an output. The extraction
 * ({@link findPrintChecks}) finds every `console.log` call followed on its line by a `//` comment
 * and rewrites its callee so that the test can record the arguments of that one call site; the
 * test then compares them with the comment ({@link matchesPrinted}).
 *
 * The comparison is tolerant the way a reader is:
 * - the comment is a JavaScript-literal rendering of the arguments, separated by spaces
 *   (`[3, 4] 'float32' true`, `{ type: 'arcface', m: 0.5 }`); top-level strings may also be
 *   written without quotes, as `console.log` prints them;
 * - whitespace does not matter; strings compare exactly; a number compares to the precision it is
 *   written with (`0.877` matches 0.8771, not 0.8776; an integer matches exactly);
 * - `...` stands for anything (`[...]`, `must be at least 22.587 ...`), and a number written
 *   `9.76...` matches any number whose digits start so;
 * - after the whole output, the comment may go on with an explanation that starts with `:`, `(`
 *   or `=` (`// true: t moved`, `// '0.6931' (ln 2)`); a leading `≈` is ignored.
 */
import { inspect } from 'node:util';
import ts from 'typescript';

/** One `console.log` call whose output a comment states. */
export interface PrintCheck {
  /** The call site's number in its example. */
  readonly id: number;
  /** 1-based line of the call's end in the extracted example. */
  readonly line: number;
  /** The comment's text, without `//`. */
  readonly expected: string;
}

/** The global function the rewritten call sites call: `__printed(id)(...args)`. */
export const PRINTED_HOOK = '__printed';

/**
 * Finds the `console.log` calls whose line ends in a `//` comment, and returns the code with their
 * callee replaced by `__printed(id)` (same lines, so line numbers still point at the source).
 */
export function findPrintChecks(code: string): { checks: PrintCheck[]; instrumented: string } {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const checks: PrintCheck[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.getText(source) === 'console.log') {
      const end = node.getEnd();
      const rest = code.slice(end, source.getLineEndOfPosition(end));
      const comment = /^[\s;)\]}]*\/\/(.*)$/.exec(rest);
      if (comment) {
        const id = checks.length;
        checks.push({ id, line: source.getLineAndCharacterOfPosition(end).line + 1, expected: comment[1]!.trim() });
        edits.push({ start: node.expression.getStart(source), end: node.expression.getEnd(), text: `${PRINTED_HOOK}(${id})` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  let instrumented = code;
  for (const e of edits.sort((a, b) => b.start - a.start)) instrumented = instrumented.slice(0, e.start) + e.text + instrumented.slice(e.end);
  return { checks, instrumented };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;
const isTypedArray = (value: object): value is TypedArray => ArrayBuffer.isView(value) && !(value instanceof DataView);

/** A value as a JavaScript literal: strings quoted, arrays and plain objects spelled out, typed arrays as `Int32Array [1, 2]`. */
export function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (isTypedArray(value)) return `${value.constructor.name} [${Array.from<number | bigint, string>(value, literal).join(', ')}]`;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const entries = Object.entries(value).map(([k, v]) => `${IDENTIFIER.test(k) ? k : literal(k)}: ${literal(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return inspect(value);
}

/** What `console.log(...args)` shows, in {@link literal} form; top-level strings raw (as printed) or quoted. */
export function renderArgs(args: readonly unknown[], strings: 'raw' | 'quoted'): string {
  return args.map((a) => (typeof a === 'string' && strings === 'raw' ? a : literal(a))).join(' ');
}

type Token =
  | { readonly kind: 'number'; readonly text: string; readonly prefix: boolean }
  | { readonly kind: 'string' | 'word' | 'punct'; readonly text: string }
  | { readonly kind: 'any'; readonly text: string };

const TOKEN = /\s+|(\.\.\.|…)|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(\.\.\.|…)?|'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|([A-Za-z_$][\w$]*)|([\s\S])/y;

/** Splits a rendering into numbers, strings (their contents), words, punctuation and `...`. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null && m[0] !== ''; m = TOKEN.exec(text)) {
    if (m[1] !== undefined) out.push({ kind: 'any', text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'number', text: m[2], prefix: m[3] !== undefined });
    else if (m[4] !== undefined) out.push({ kind: 'string', text: m[4] });
    else if (m[5] !== undefined) out.push({ kind: 'string', text: m[5] });
    else if (m[6] !== undefined) out.push({ kind: 'word', text: m[6] });
    else if (m[7] !== undefined) out.push({ kind: 'punct', text: m[7] });
  }
  return out;
}

/** Whether the number `actual` is the number written `written`, to the precision it is written with. */
export function sameNumber(written: string, actual: number): boolean {
  const expected = Number(written);
  const [mantissa, exponent] = written.toLowerCase().split('e');
  const decimals = mantissa!.split('.')[1]?.length ?? 0;
  const tolerance = decimals === 0 ? 0 : 0.5 * 10 ** (Number(exponent ?? 0) - decimals);
  return Math.abs(actual - expected) <= tolerance + 4 * Number.EPSILON * Math.max(Math.abs(actual), Math.abs(expected));
}

function sameToken(expected: Token, actual: Token): boolean {
  if (expected.kind === 'number') {
    if (actual.kind !== 'number') return false;
    if (expected.prefix) return actual.text.startsWith(expected.text);
    return sameNumber(expected.text, Number(actual.text));
  }
  return expected.kind === actual.kind && expected.text === actual.text;
}

const EXPLANATION = new Set([':', '(', '=']);

function match(expected: readonly Token[], i: number, actual: readonly Token[], j: number): boolean {
  if (i === expected.length) return j === actual.length;
  const e = expected[i]!;
  if (e.kind === 'any') {
    for (let k = j; k <= actual.length; k++) if (match(expected, i + 1, actual, k)) return true;
    return false;
  }
  if (j === actual.length) return e.kind === 'punct' && EXPLANATION.has(e.text);
  return sameToken(e, actual[j]!) && match(expected, i + 1, actual, j + 1);
}

/** Whether `console.log(...args)` printed what the comment `expected` says (see the module's rules). */
export function matchesPrinted(expected: string, args: readonly unknown[]): boolean {
  const want = tokenize(expected.replace(/^≈\s*/, ''));
  return (['quoted', 'raw'] as const).some((strings) => match(want, 0, tokenize(renderArgs(args, strings)), 0));
}
