/**
 * Extracts the `@example` code of every export of every public entry point and the TypeScript
 * of every guide (one script per guide) into docs/.doc-examples/api/, and each TypeScript block
 * of README.md (one script per block: each must run as printed) into docs/.doc-examples/readme/,
 * so that they can be type-checked (tsc) and run (vitest). Each also gets a copy under
 * docs/.doc-examples/run/ whose commented `console.log` calls report what they print (see
 * ../src/printed-output.ts), which the tests compare with the comments. Fails, listing them, when
 * a value export (function, class, constant) has no example.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { type PrintCheck, findPrintChecks } from '../src/printed-output.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_DIR = resolve(root, 'docs', '.doc-examples');

/** The public entry points: package name → source file. */
export const ENTRY_POINTS: Record<string, string> = {
  '@marginkit/core': 'packages/core/src/index.ts',
  '@marginkit/core/testing': 'packages/core/src/testing/index.ts',
  '@marginkit/losses': 'packages/losses/src/index.ts',
  '@marginkit/losses/node': 'packages/losses/src/node.ts',
  '@marginkit/backend-tfjs': 'packages/backend-tfjs/src/index.ts',
  '@marginkit/backend-ort': 'packages/backend-ort/src/index.ts',
  '@marginkit/eval': 'packages/eval/src/index.ts',
  '@marginkit/eval/node': 'packages/eval/src/node.ts',
};

/** One extracted script. */
export interface ExtractedExample {
  /** The package entry point, `'guide'` or `'README'`. */
  readonly entry: string;
  /** The export, guide file or README block it comes from. */
  readonly symbol: string;
  /** The script as written, for tsc. */
  readonly file: string;
  /** The copy to run, whose commented `console.log` calls are checked. */
  readonly run: string;
  /** The `console.log` calls whose output a comment states. */
  readonly checks: readonly PrintCheck[];
}

/** Writes `code` to `dir/name` and its instrumented copy to `run/dir/name`. */
function writeExample(dir: string, name: string, code: string, entry: string, symbol: string): ExtractedExample {
  const { checks, instrumented } = findPrintChecks(code);
  const file = join(OUT_DIR, dir, name);
  const run = join(OUT_DIR, 'run', dir, name);
  writeFileSync(file, code);
  writeFileSync(run, instrumented);
  return { entry, symbol, file, run, checks };
}

/** Empties (creates) the directory of a kind of example and of its run copies. */
function freshDir(dir: string): void {
  for (const d of [join(OUT_DIR, dir), join(OUT_DIR, 'run', dir)]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
}

/** The ```ts blocks of a Markdown text. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Extracts the TSDoc examples and the guides' TypeScript into .doc-examples/api/. */
export function extractExamples(): { examples: ExtractedExample[]; missing: string[] } {
  const files = Object.values(ENTRY_POINTS).map((f) => resolve(root, f));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['@marginkit/source'],
    strict: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  freshDir('api');
  const examples: ExtractedExample[] = [];
  const missing: string[] = [];
  for (const [entry, file] of Object.entries(ENTRY_POINTS)) {
    const source = program.getSourceFile(resolve(root, file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read ${file}`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const isValue = (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) !== 0;
      const blocks = symbol
        .getJsDocTags(checker)
        .filter((tag) => tag.name === 'example')
        .flatMap((tag) => tsBlocks(ts.displayPartsToString(tag.text)));
      if (isValue && blocks.length === 0) missing.push(`${entry}: ${exported.name}`);
      blocks.forEach((code, i) => {
        const name = `${entry.replace(/[@/]/g, '_')}__${exported.name}__${i}.ts`;
        const text = `// Extracted from the TSDoc @example of ${exported.name} (${entry}).\nexport {};\n${code}`;
        examples.push(writeExample('api', name, text, entry, exported.name));
      });
    }
  }
  // Each guide's TypeScript blocks, in order, form one script (a tutorial builds on its earlier blocks).
  const guides = resolve(root, 'docs', 'guides');
  for (const file of readdirSync(guides)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const blocks = tsBlocks(readFileSync(join(guides, file), 'utf8'));
    if (blocks.length === 0) continue;
    const name = `guide__${file.replace(/\.md$/, '')}.ts`;
    examples.push(writeExample('api', name, `// The TypeScript of docs/guides/${file}, block after block.\nexport {};\n${blocks.join('\n')}`, 'guide', file));
  }
  return { examples, missing };
}

/** Extracts each TypeScript block of README.md, on its own (each runs as printed), into .doc-examples/readme/. */
export function extractReadme(): ExtractedExample[] {
  freshDir('readme');
  return tsBlocks(readFileSync(resolve(root, 'README.md'), 'utf8')).map((code, i) =>
    writeExample('readme', `readme__${i}.ts`, `// README.md, TypeScript block ${i + 1}, as printed.\nexport {};\n${code}`, 'README', `block ${i + 1}`),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { examples, missing } = extractExamples();
  const readme = extractReadme();
  if (missing.length > 0) {
    console.error(`These exports have no @example:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`extracted ${examples.length} examples and ${readme.length} README blocks to ${OUT_DIR}`);
}
