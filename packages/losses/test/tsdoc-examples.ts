// Runs the ```ts blocks of a source file's TSDoc with the given modules and checks what each
// prints against its `// expected` comments (on the console.log line, or on the line after it).
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The code of each ```ts block of the TSDoc in `file`. @internal */
export function tsdocBlocks(file: URL): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/\* ```ts\n([\s\S]*?)\* ```/g)].map((m) => m[1]!.replace(/^\s*\* ?/gm, ''));
}

/** What a block says it prints: the `// …` after each console.log, on its line or the next. */
function expectedPrints(code: string): string[] {
  const lines = code.split('\n');
  const expected: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('console.log(')) return;
    const same = /\);\s*\/\/ (.*)$/.exec(line);
    const next = /^\/\/ (.*)$/.exec(lines[i + 1] ?? '');
    expected.push((same ?? next)![1]!);
  });
  return expected;
}

/** Transpiles and runs one block, its imports resolved from `modules`; returns what it printed. */
async function runBlock(code: string, modules: Readonly<Record<string, unknown>>): Promise<string[]> {
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const printed: string[] = [];
  const fakeConsole = { log: (...args: unknown[]) => printed.push(args.map((a) => inspect(a, { breakLength: Number.POSITIVE_INFINITY })).join(' ')) };
  const require = (name: string) => {
    if (!(name in modules)) throw new Error(`example imports ${name}`);
    return modules[name];
  };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;
  await new AsyncFunction('require', 'exports', 'console', js)(require, {}, fakeConsole);
  return printed;
}

/**
 * A suite that runs every TSDoc example of `file` (at least `atLeast` of them) and checks their
 * prints: the method-level examples too, which the docs package's test (exports only) may not reach.
 * @internal
 */
export function tsdocExampleSuite(file: URL, modules: Readonly<Record<string, unknown>>, atLeast: number): void {
  const blocks = tsdocBlocks(file);
  describe(`TSDoc examples of ${file.pathname.split('/').pop()}`, () => {
    it('there are examples', () => expect(blocks.length).toBeGreaterThanOrEqual(atLeast));
    it.each(blocks.map((b, i) => [i, b] as const))('example %i runs and prints what it says', async (_, code) => {
      const expected = expectedPrints(code);
      const printed = await runBlock(code, modules);
      expect(printed.length).toBe(expected.length);
      expect(printed).toEqual(expected);
    });
  });
}
