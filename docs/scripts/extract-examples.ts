/**
 * Extracts the `@example` code of every export of every public entry point, and the TypeScript
 * of every guide (one script per guide), into docs/.doc-examples/, so that they can be
 * type-checked (tsc) and run (vitest). Fails, listing them, when a value export (function,
 * class, constant) has no example.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_DIR = resolve(root, 'docs', '.doc-examples');

/** The public entry points: package name → source file. */
export const ENTRY_POINTS: Record<string, string> = {
  '@marginkit/core': 'packages/core/src/index.ts',
  '@marginkit/core/testing': 'packages/core/src/testing/index.ts',
  '@marginkit/losses': 'packages/losses/src/index.ts',
  '@marginkit/backend-tfjs': 'packages/backend-tfjs/src/index.ts',
  '@marginkit/backend-ort': 'packages/backend-ort/src/index.ts',
  '@marginkit/eval': 'packages/eval/src/index.ts',
  '@marginkit/eval/node': 'packages/eval/src/node.ts',
};

export interface ExtractedExample {
  readonly entry: string;
  readonly symbol: string;
  readonly file: string;
}

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
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
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
        .flatMap((tag) => [...ts.displayPartsToString(tag.text).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!));
      if (isValue && blocks.length === 0) missing.push(`${entry}: ${exported.name}`);
      blocks.forEach((code, i) => {
        const name = `${entry.replace(/[@/]/g, '_')}__${exported.name}__${i}.ts`;
        writeFileSync(join(OUT_DIR, name), `// Extracted from the TSDoc @example of ${exported.name} (${entry}).\nexport {};\n${code}`);
        examples.push({ entry, symbol: exported.name, file: name });
      });
    }
  }
  // Each guide's TypeScript blocks, in order, form one script (a tutorial builds on its earlier blocks).
  const guides = resolve(root, 'docs', 'guides');
  for (const file of readdirSync(guides)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const blocks = [...readFileSync(join(guides, file), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    if (blocks.length === 0) continue;
    const name = `guide__${file.replace(/\.md$/, '')}.ts`;
    writeFileSync(join(OUT_DIR, name), `// The TypeScript of docs/guides/${file}, block after block.\nexport {};\n${blocks.join('\n')}`);
    examples.push({ entry: 'guide', symbol: file, file: name });
  }
  writeFileSync(join(OUT_DIR, 'manifest.json'), `${JSON.stringify(examples, null, 2)}\n`);
  return { examples, missing };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { examples, missing } = extractExamples();
  if (missing.length > 0) {
    console.error(`These exports have no @example:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`extracted ${examples.length} examples to ${OUT_DIR}`);
}
