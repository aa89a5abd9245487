import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The entry points a browser bundle may import must not reach Node built-ins.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BROWSER_ENTRIES = [
  'packages/core/src/index.ts',
  'packages/losses/src/index.ts',
  'packages/backend-tfjs/src/index.ts',
  'packages/backend-ort/src/index.ts',
  'packages/eval/src/index.ts',
];
const NODE_ENTRY = 'packages/eval/src/node.ts';

function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    seen.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(resolve(root, entry));
  return seen;
}

describe('browser safety', () => {
  it.each(BROWSER_ENTRIES)('%s imports no Node built-in, directly or through its own modules', (entry) => {
    const offenders = [...graph(entry)].flatMap(([file, specs]) =>
      specs.filter((s) => s.startsWith('node:')).map((s) => `${file.replace(`${root}/`, '')} → ${s}`),
    );
    expect(offenders).toEqual([]);
  });
  it('the check can fail: the Node entry of eval does import Node built-ins', () => {
    const specs = [...graph(NODE_ENTRY).values()].flat();
    expect(specs).toContain('node:fs');
  });
});
