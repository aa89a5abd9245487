import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Typedoc shows a declaration reference as written ({@link @marginkit/core!index.degrees} reads
// "@marginkit/core!index.degrees"), so every one in the guides carries its display text.
const guides = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'guides');
const texts = readdirSync(guides)
  .filter((f) => f.endsWith('.md'))
  .map((f) => [f, readFileSync(join(guides, f), 'utf8')] as const);

describe('guides', () => {
  it('every declaration-reference link has display text', () => {
    const raw = texts.flatMap(([f, text]) => [...text.matchAll(/\{@link\s+([^}|]*![^}|]*)\}/g)].map((m) => `${f}: ${m[1]}`));
    expect(raw).toEqual([]);
    expect(texts.some(([, text]) => /\{@link [^}]*![^}]*\|[^}]+\}/.test(text))).toBe(true);
  });
});
